package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Quorum, inflight window and progress: the small pieces the leader is built from. */
class LeafStructuresTest {

  @Test
  void committedIndexIsTheLargestIndexOnAMajority() {
    Membership five = Membership.of(1, 2, 3, 4, 5);
    Map<Long, Long> match = Map.of(1L, 9L, 2L, 7L, 3L, 7L, 4L, 3L, 5L, 1L);
    assertEquals(7, Quorum.committedIndex(five, match::get));
    Membership three = Membership.of(1, 2, 3);
    Map<Long, Long> match3 = Map.of(1L, 5L, 2L, 0L, 3L, 4L);
    assertEquals(4, Quorum.committedIndex(three, match3::get));
  }

  @Test
  void voteTallyWinsLosesOrWaits() {
    Membership five = Membership.of(1, 2, 3, 4, 5);
    assertEquals(Quorum.VoteResult.PENDING, Quorum.voteResult(five, Map.of(1L, true, 2L, true)));
    assertEquals(Quorum.VoteResult.WON,
        Quorum.voteResult(five, Map.of(1L, true, 2L, true, 3L, true)));
    assertEquals(Quorum.VoteResult.PENDING,
        Quorum.voteResult(five, Map.of(1L, true, 2L, false, 3L, false)));
    assertEquals(Quorum.VoteResult.LOST,
        Quorum.voteResult(five, Map.of(1L, true, 2L, false, 3L, false, 4L, false)));
    // Votes from non-members do not count.
    assertEquals(Quorum.VoteResult.PENDING,
        Quorum.voteResult(Membership.of(1, 2, 3), Map.of(1L, true, 9L, true)));
  }

  @Test
  void inflightWindowFillsAndFreesInOrder() {
    Inflights window = new Inflights(3);
    window.add(5);
    window.add(7);
    window.add(9);
    assertTrue(window.full());
    assertThrows(Invariants.Violation.class, () -> window.add(11));
    window.freeUpTo(7);
    assertEquals(1, window.count());
    window.add(11);
    window.add(12);
    assertTrue(window.full());
    window.freeFirst();
    assertEquals(2, window.count());
    window.freeUpTo(100);
    assertEquals(0, window.count());
    assertThrows(Invariants.Violation.class, () -> {
      window.add(4);
      window.add(3);
    });
  }

  @Test
  void probeSendsOneAppendThenPauses() {
    Progress p = new Progress(11, 4);
    assertFalse(p.isPaused());
    p.sentAppend(10, false);
    assertTrue(p.isPaused());
    // A stale rejection (not of next - 1) is ignored.
    assertFalse(p.maybeDecreaseTo(5, 2));
    // The rejection of index 10 with hint 6 jumps next straight to 7.
    assertTrue(p.maybeDecreaseTo(10, 6));
    assertEquals(7, p.next);
    assertFalse(p.isPaused());
  }

  @Test
  void replicateStreamsUntilTheWindowIsFull() {
    Progress p = new Progress(1, 2);
    p.maybeUpdate(3);
    p.becomeReplicate();
    assertEquals(4, p.next);
    p.sentAppend(5, true);
    p.sentAppend(8, true);
    assertEquals(9, p.next);
    assertTrue(p.isPaused());
    assertTrue(p.maybeUpdate(5));
    p.inflights.freeUpTo(5);
    assertFalse(p.isPaused());
    // A rejection in REPLICATE falls back to match + 1.
    assertTrue(p.maybeDecreaseTo(8, 0));
    assertEquals(6, p.next);
  }

  @Test
  void prngIsStableAcrossRunsAndUnbiasedEnough() {
    Prng a = new Prng(42);
    Prng b = new Prng(42);
    for (int i = 0; i < 100; i++) {
      assertEquals(a.nextLong(), b.nextLong());
    }
    // SplitMix64's first output for seed 0 is a published constant.
    assertEquals(0xE220A8397B1DCDAFL, new Prng(0).nextLong());
    int[] buckets = new int[10];
    Prng r = new Prng(7);
    for (int i = 0; i < 100_000; i++) {
      buckets[(int) r.nextLong(10)]++;
    }
    for (int count : buckets) {
      assertTrue(count > 9_000 && count < 11_000, "bucket count " + count);
    }
  }

  @Test
  void configRejectsNonsense() {
    assertThrows(Invariants.Violation.class, () -> Config.defaults(0));
    assertThrows(Invariants.Violation.class, () -> Config.defaults(1).withTimeouts(5, 5));
    assertThrows(Invariants.Violation.class, () -> Config.defaults(1).withFlowControl(0, 1));
    assertThrows(Invariants.Violation.class, () -> Config.defaults(1).withFlowControl(1, 0));
  }

  @Test
  void leaseReadsNeedADriftMarginOfAtLeastOneTick() {
    Invariants.Violation refused = assertThrows(Invariants.Violation.class,
        () -> Config.defaults(1).withLeaseReads(true, 0));
    assertTrue(refused.getMessage().contains("leaseReads requires leaseDriftMarginTicks >= 1"),
        refused.getMessage());
    assertEquals(1, Config.defaults(1).withLeaseReads(true, 1).leaseDriftMarginTicks());
    // Without lease reads the margin is unused, so 0 stays valid.
    assertFalse(Config.defaults(1).withLeaseReads(false, 0).leaseReads());
  }

  @Test
  void memoryStorageTruncatesOnConflictingAppend() {
    MemoryLogStorage s = new MemoryLogStorage(Membership.of(1));
    s.append(List.of(Entry.normal(1, 1, null), Entry.normal(1, 2, null), Entry.normal(1, 3, null)));
    s.append(List.of(Entry.normal(2, 2, null)));
    assertEquals(2, s.lastIndex());
    assertEquals(2, s.term(2));
    assertEquals(0, s.term(0));
    assertThrows(Invariants.Violation.class, () -> s.append(List.of(Entry.normal(2, 5, null))));
  }
  @Test
  void aRepeatedAcknowledgementIsNotProgressAndKeepsTheProbePaused() {
    Progress p = new Progress(6, 4);
    assertTrue(p.maybeUpdate(5));
    p.sentAppend(5, false);
    assertTrue(p.isPaused());
    // A duplicate of the answer that set match: nothing new is known, the probe stays out.
    assertFalse(p.maybeUpdate(5));
    assertTrue(p.isPaused());
    assertEquals(5, p.match);
  }

  @Test
  void aRejectionAtOrBelowMatchInReplicateIsStale() {
    Progress p = new Progress(1, 4);
    p.maybeUpdate(5);
    p.becomeReplicate();
    p.sentAppend(8, true);
    // The follower acknowledged 5, so a rejection of prev=5 was sent before that answer.
    assertFalse(p.maybeDecreaseTo(5, 0));
    assertEquals(9, p.next);
    assertEquals(Progress.State.REPLICATE, p.state);
  }

  @Test
  void aConflictHintNeverMovesNextToOrBelowMatch() {
    Progress p = new Progress(11, 4);
    p.maybeUpdate(4);
    p.sentAppend(10, false);
    // A (stale or wrong) hint of 2 is below what the follower is known to hold: next = match+1.
    assertTrue(p.maybeDecreaseTo(10, 2));
    assertEquals(5, p.next);
    // A hint past the rejected index cannot move next forward either.
    p.sentAppend(4, false);
    assertTrue(p.maybeDecreaseTo(4, 40));
    assertEquals(5, p.next);
  }

  @Test
  void membersListsVotersAndLearnersInIdOrder() {
    Membership m = new Membership(new long[] {5, 1}, new long[] {3, 7});
    assertArrayEquals(new long[] {1, 3, 5, 7}, m.members());
    assertArrayEquals(new long[] {1, 5}, m.voters());
    assertArrayEquals(new long[] {3, 7}, m.learners());
  }

  @Test
  void membershipsAreEqualExactlyWhenVotersAndLearnersAre() {
    Membership a = new Membership(new long[] {1, 2}, new long[] {3});
    assertEquals(a, new Membership(new long[] {2, 1, 2}, new long[] {3}));
    assertEquals(a.hashCode(), new Membership(new long[] {2, 1}, new long[] {3}).hashCode());
    assertNotEquals(a, new Membership(new long[] {1, 2}, new long[0]));
    assertNotEquals(a, new Membership(new long[] {1, 2, 3}, new long[0]));
    assertNotEquals(a, Membership.of(1, 3));
    assertNotEquals(a, "voters=[1, 2] learners=[3]");
  }

  @Test
  void quorumIsAStrictMajorityOfVotersOnly() {
    assertEquals(1, Membership.of(1).quorum());
    assertEquals(2, Membership.of(1, 2).quorum());
    assertEquals(2, new Membership(new long[] {1, 2, 3}, new long[] {4, 5}).quorum());
    assertEquals(3, Membership.of(1, 2, 3, 4).quorum());
    assertEquals(4, Membership.of(1, 2, 3, 4, 5, 6, 7).quorum());
  }
}
