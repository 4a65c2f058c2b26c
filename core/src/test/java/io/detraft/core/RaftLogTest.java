package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RaftLogTest {

  /** A log whose stored entries have the given terms at indexes 1, 2, ... */
  private static RaftLog logWithTerms(long... terms) {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    storage.append(entries(1, terms));
    return new RaftLog(storage, 0, 0, new Coverage());
  }

  private static List<Entry> entries(long firstIndex, long... terms) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) {
      out.add(Entry.normal(terms[i], firstIndex + i, new byte[] {(byte) i}));
    }
    return out;
  }

  @Test
  void appendReplacesAConflictingSuffixOnly() {
    RaftLog log = logWithTerms(1, 1, 2, 2);
    // Matching entries are not rewritten; the first conflicting one and all after it are.
    long last = log.maybeAppend(1, 1, 0, entries(2, 1, 3));
    assertEquals(3, last);
    assertEquals(3, log.lastIndex());
    assertEquals(3, log.term(3));
    assertEquals(List.of(3L), log.unstableEntries().stream().map(Entry::index).toList());
    // The stored 4th entry is hidden behind the unstable suffix.
    assertEquals(-1, log.term(4));
  }

  @Test
  void mismatchedPreviousEntryIsRejected() {
    RaftLog log = logWithTerms(1, 1, 2);
    assertEquals(-1, log.maybeAppend(3, 3, 0, entries(4, 3)));
    assertEquals(-1, log.maybeAppend(5, 2, 0, List.of()));
    assertEquals(3, log.lastIndex());
  }

  @Test
  void commitFollowsLeaderButNotBeyondWhatMatches() {
    RaftLog log = logWithTerms(1, 1, 1, 1, 1);
    // The leader's commit is 5 but this message only proves indexes up to 2 match.
    log.maybeAppend(1, 1, 5, entries(2, 1));
    assertEquals(2, log.committed);
  }

  @Test
  void committedEntriesAreNeverOverwritten() {
    RaftLog log = logWithTerms(1, 1, 1);
    log.commitTo(2);
    assertThrows(Invariants.Violation.class, () -> log.maybeAppend(1, 1, 2, entries(2, 2)));
  }

  @Test
  void conflictHintSkipsWholeTerms() {
    // Follower log terms: 1 1 1 4 4 5 5 5; the leader probes index 8 with prevTerm 6.
    RaftLog log = logWithTerms(1, 1, 1, 4, 4, 5, 5, 5);
    assertArrayEquals(new long[] {8, 5}, log.findConflictByTerm(8, 6));
    // With prevTerm 3 everything of terms 4 and 5 is skipped in one step.
    assertArrayEquals(new long[] {3, 1}, log.findConflictByTerm(8, 3));
    assertArrayEquals(new long[] {0, 0}, log.findConflictByTerm(2, 0));
    // An index beyond our log is clamped to the last index.
    assertArrayEquals(new long[] {8, 5}, log.findConflictByTerm(20, 9));
  }

  @Test
  void upToDateComparesLastTermThenLength() {
    RaftLog log = logWithTerms(1, 2, 2);
    assertTrue(log.isUpToDate(3, 2));
    assertTrue(log.isUpToDate(1, 3));
    assertFalse(log.isUpToDate(2, 2));
    assertFalse(log.isUpToDate(9, 1));
  }

  @Test
  void stableToIgnoresReplacedEntries() {
    RaftLog log = logWithTerms();
    log.append(entries(1, 1, 1));
    List<Entry> handedOut = log.unstableEntries();
    // Before the host finishes, a new leader overwrites index 2.
    log.append(entries(2, 2));
    log.stableTo(handedOut.get(1).index(), handedOut.get(1).term());
    // Nothing becomes stable: 2@1 was replaced, so the host must persist 1@1, 2@2 again.
    assertEquals(List.of(1L, 2L), log.unstableEntries().stream().map(Entry::term).toList());
    log.stableTo(2, 2);
    assertTrue(log.unstableEntries().isEmpty());
    assertEquals(2, log.stableLastIndex());
  }

  @Test
  void sliceRespectsTheByteLimitButReturnsAtLeastOne() {
    RaftLog log = logWithTerms(1, 1);
    log.append(entries(3, 1, 1));
    assertEquals(1, log.entriesFrom(1, 1).size());
    assertEquals(4, log.entriesFrom(1, Long.MAX_VALUE).size());
    long twoEntries = 2 * Entry.normal(1, 1, new byte[1]).sizeBytes();
    assertEquals(2, log.entriesFrom(2, twoEntries).size());
  }

  @Test
  void restartRefusesACommitIndexBeyondTheDurableLog() {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    storage.append(entries(1, 1));
    assertThrows(Invariants.Violation.class, () -> new RaftLog(storage, 3, 0, new Coverage()));
  }

  /**
   * Behind a snapshot received from the leader, no membership is known: asking fails loudly
   * instead of answering the snapshot's (a node once recorded the membership of a snapshot at
   * 208 in its own snapshot at 200, taken before it restored the one it had received).
   */
  @Test
  void noMembershipBehindAReceivedSnapshot() {
    RaftLog log = logWithTerms(1, 1, 1);
    Membership next = Membership.of(1, 2);
    log.restore(new Snapshot(8, 2, next, new byte[0]));
    assertEquals(next, log.membershipAt(8));
    assertThrows(Invariants.Violation.class, () -> log.membershipAt(3));
  }
}
