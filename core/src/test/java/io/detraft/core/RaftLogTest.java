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
  @Test
  void restartRefusesAnAppliedIndexBeyondTheCommitIndex() {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    storage.append(entries(1, 1, 1, 1));
    assertEquals(2, new RaftLog(storage, 2, 2, new Coverage()).applied);
    // The state machine claims an entry that was never known committed: storage lost data.
    assertThrows(Invariants.Violation.class, () -> new RaftLog(storage, 2, 3, new Coverage()));
  }

  @Test
  void restartRefusesAnAppliedIndexBelowTheStoredSnapshot() {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    storage.append(entries(1, 1, 1, 1));
    storage.createSnapshot(2, Membership.of(1), new byte[0]);
    // The state machine must be restored from the snapshot before the log restarts.
    assertThrows(Invariants.Violation.class, () -> new RaftLog(storage, 3, 1, new Coverage()));
    RaftLog log = new RaftLog(storage, 0, 2, new Coverage());
    // A snapshot covers only committed entries, even if the commit was not synced.
    assertEquals(2, log.committed);
  }

  @Test
  void restartTakesTheMembershipOfTheStoredSnapshotElseTheBootstrapOne() {
    MemoryLogStorage fresh = new MemoryLogStorage(Membership.of(1, 2, 3));
    assertEquals(Membership.of(1, 2, 3), new RaftLog(fresh, 0, 0, new Coverage()).membership());
    MemoryLogStorage installed = new MemoryLogStorage(Membership.of(1));
    installed.installSnapshot(new Snapshot(5, 2, Membership.of(1, 4), new byte[0]));
    // Bootstrap said {1}; the snapshot received since says {1, 4}.
    installed.setMembership(Membership.of(1));
    RaftLog log = new RaftLog(installed, 5, 5, new Coverage());
    assertEquals(Membership.of(1, 4), log.membership());
    assertEquals(Membership.of(1, 4), log.membershipAt(5));
  }

  @Test
  void aReceivedSnapshotHidesEverythingBeforeItsLastEntry() {
    RaftLog log = logWithTerms(1, 1, 1);
    log.restore(new Snapshot(8, 2, Membership.of(1), new byte[0]));
    assertEquals(9, log.firstIndex());
    assertEquals(8, log.lastIndex());
    assertEquals(2, log.term(8));
    assertEquals(2, log.lastTerm());
    assertEquals(-1, log.term(7));
    assertEquals(-1, log.term(3));
    assertThrows(Invariants.Violation.class, () -> log.membershipAt(7));
  }

  @Test
  void aReceivedSnapshotReplacesUnstableEntriesAndUncommittedMembershipChanges() {
    RaftLog log = logWithTerms(1, 1);
    Membership added = Membership.of(1, 2);
    log.append(List.of(new Entry(1, 3, EntryType.CONFIG_CHANGE, Codec.encodeMembership(added)),
        Entry.normal(1, 4, new byte[] {4})));
    assertEquals(added, log.membership());
    assertEquals(3, log.lastConfigIndex());
    Membership snapshotted = Membership.of(1, 5);
    log.restore(new Snapshot(10, 3, snapshotted, new byte[0]));
    assertEquals(snapshotted, log.membership());
    assertEquals(0, log.lastConfigIndex());
    assertTrue(log.unstableEntries().isEmpty());
    assertEquals(10, log.lastIndex());
    assertEquals(10, log.committed);
    // New entries from the leader follow the snapshot.
    log.append(entries(11, 3));
    assertEquals(List.of(11L), log.unstableEntries().stream().map(Entry::index).toList());
  }

  @Test
  void overwritingAStoredEntryDiscardsTheUnstableEntriesAfterIt() {
    RaftLog log = logWithTerms(1, 1);
    log.append(entries(3, 1, 1));
    // A new leader replaces the stored entry 2 (and so everything after it).
    log.append(entries(2, 2));
    assertEquals(2, log.lastIndex());
    assertEquals(List.of(2L), log.unstableEntries().stream().map(Entry::index).toList());
    assertEquals(2, log.term(2));
    assertEquals(-1, log.term(3));
  }

  @Test
  void anAppendThatWouldOverwriteACommittedEntryIsRefused() {
    RaftLog log = logWithTerms(1, 1, 1);
    log.commitTo(2);
    assertThrows(Invariants.Violation.class, () -> log.append(entries(2, 2)));
    log.append(entries(3, 2));
    assertEquals(2, log.term(3));
  }

  @Test
  void theCommitIndexNeverPassesTheLastEntry() {
    RaftLog log = logWithTerms(1, 1);
    log.commitTo(2);
    assertEquals(2, log.committed);
    // Lower commit indexes (a stale leader's) are ignored, not applied backwards.
    log.commitTo(1);
    assertEquals(2, log.committed);
    assertThrows(Invariants.Violation.class, () -> log.commitTo(3));
  }

  @Test
  void theHostMayApplyOnlyCommittedEntriesAndNeverGoesBack() {
    RaftLog log = logWithTerms(1, 1, 1);
    log.commitTo(2);
    assertThrows(Invariants.Violation.class, () -> log.appliedTo(3));
    log.appliedTo(2);
    assertEquals(2, log.applied);
    assertThrows(Invariants.Violation.class, () -> log.appliedTo(1));
    // With a received snapshot pending, the host restores it before applying anything.
    log.restore(new Snapshot(6, 2, Membership.of(1), new byte[0]));
    assertThrows(Invariants.Violation.class, () -> log.appliedTo(6));
  }
  @Test
  void restartFindsAMembershipChangeThatIsTheLastStoredEntry() {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    Membership added = Membership.of(1, 2);
    // The change is the only entry after the (empty) snapshot: the scan starts and ends there.
    storage.append(List.of(
        new Entry(1, 1, EntryType.CONFIG_CHANGE, Codec.encodeMembership(added))));
    RaftLog log = new RaftLog(storage, 0, 0, new Coverage());
    assertEquals(added, log.membership());
    assertEquals(1, log.lastConfigIndex());
    assertEquals(Membership.of(1), log.membershipAt(0));
  }

  @Test
  void anAppendThatWouldLeaveAGapIsRefused() {
    RaftLog log = logWithTerms(1, 1);
    assertThrows(Invariants.Violation.class, () -> log.append(entries(4, 1)));
    log.append(entries(3, 1));
    assertEquals(3, log.lastIndex());
  }

  @Test
  void aSnapshotThatDoesNotAdvanceTheCommitIndexIsNotRestored() {
    RaftLog log = logWithTerms(1, 1, 1);
    log.commitTo(2);
    assertThrows(Invariants.Violation.class,
        () -> log.restore(new Snapshot(2, 1, Membership.of(1), new byte[0])));
    log.restore(new Snapshot(3, 1, Membership.of(1), new byte[0]));
    assertEquals(3, log.committed);
  }
}
