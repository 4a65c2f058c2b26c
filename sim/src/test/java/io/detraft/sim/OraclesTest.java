package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Message;
import io.detraft.core.SessionStateMachine;
import io.detraft.core.Snapshot;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Each oracle can fail: fed a planted violation the way {@link Replica} and {@link Simulation}
 * call it, it throws a {@link SimulationFailure} naming its property; fed a valid sequence
 * first, it stays quiet. Chains (log-prefix hashes) are arbitrary numbers where no replica is
 * involved, and a real replica's chains where the oracle compares against a replica's log.
 */
class OraclesTest {
  private static final long SESSION_TIMEOUT = 1_000_000;
  /** Three voters, no snapshots: the options of the simulations the replicas come from. */
  private static final SimOptions OPTIONS = SimOptions.derive(1).withVoters(3)
      .withProtocol(new SimOptions.ProtocolOptions(0, 0, 0, 0));

  private Oracles oracles;

  @BeforeEach
  void freshOracles() {
    oracles = new Oracles("", 3, Membership.of(1, 2, 3), true, new KvStateMachine(),
        SESSION_TIMEOUT, false, new Marks());
  }

  private static void assertFails(String oracle, Executable planted) {
    SimulationFailure failure = assertThrows(SimulationFailure.class, planted);
    assertEquals(oracle, failure.oracle(), failure::getMessage);
  }

  /** A no-op entry (empty data: nothing for the state machine). */
  private static Entry entry(long term, long index) {
    return Entry.normal(term, index, new byte[0]);
  }

  private static HardState hs(long term, long vote, long commit) {
    return new HardState(term, vote, commit);
  }

  /**
   * Group 1's replica on n1 of a simulation that never runs, booted from a disk that holds
   * {@code log} (fsynced): a real host whose {@code lastIndex}/{@code chainAt} the oracles read.
   */
  private static Replica replicaHolding(Entry... log) {
    SimHooks.DiskFactory disks = (node, options, random) -> {
      SimDisk disk = new SimDisk(options, random);
      if (log.length > 0) {
        // Written through the node's real WAL, as a previous incarnation would have.
        try (WriteAheadLog wal = WriteAheadLog.open(disk, SimNode.DATA_DIR,
            new WriteAheadLog.Options(options.segmentBytes()))) {
          wal.append(1, List.of(log));
          wal.saveHardState(1, hs(log[log.length - 1].term(), 0, 0));
          wal.sync();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return disk;
    };
    Simulation sim = new Simulation(OPTIONS, SimHooks.defaults().withDiskFactory(disks));
    sim.node(1).boot();
    Replica replica = sim.node(1).replica(1);
    assertEquals(log.length, replica.lastIndex());
    return replica;
  }

  /** A leader elected as it should be: the vote of another voter reached it first. */
  private void leader(int node, long term, Replica host, long at) {
    long voter = node == 1 ? 2 : 1;
    oracles.onVoteDelivered(node, new Message.VoteResponse(1, voter, node, term, true, false));
    oracles.onLeader(node, term, host, at);
  }

  @Test
  void aLeaderNeedsTheVotesOfAQuorumOfItsVoters() {
    Replica host = replicaHolding();
    // A PreVote and a vote from a node outside the configuration do not count.
    oracles.onVoteDelivered(1, new Message.VoteResponse(1, 2, 1, 1, true, true));
    oracles.onVoteDelivered(1, new Message.VoteResponse(1, 7, 1, 1, true, false));
    assertFails("vote-count", () -> oracles.onLeader(1, 1, host, 0));
    oracles.onVoteDelivered(3, new Message.VoteResponse(1, 2, 3, 2, true, false));
    oracles.onLeader(3, 2, host, 0);
  }

  /**
   * Seed -131 (found by jqwik in CI): without PreVote, a partitioned pair voted for each other
   * in term after term while the majority elected n3 in an older one. The oracle kept the
   * votes of the 8 highest terms only, had dropped n3's, and failed a correct election.
   */
  @Test
  void votesInAnOldTermStillCountWhileOthersRaceAheadInTerms() {
    Replica host = replicaHolding();
    oracles.onVoteDelivered(3, new Message.VoteResponse(1, 2, 3, 2, true, false));
    for (long term = 3; term <= 20; term++) {
      oracles.onVoteDelivered(1, new Message.VoteResponse(1, 7, 1, term, true, false));
    }
    oracles.onLeader(3, 2, host, 0);
  }

  @Test
  void electionSafetyAllowsOneLeaderPerTerm() {
    Replica host = replicaHolding();
    leader(1, 1, host, 0);
    leader(1, 1, host, 0); // The same leader, reported again.
    leader(2, 2, host, 0); // Another term, another leader.
    assertFails("election-safety", () -> leader(3, 2, host, 0));
  }

  @Test
  void readOracleRejectsAReadOlderThanAnAcknowledgedWriteOrServedByADeposedLeader() {
    Entry[] log = {entry(1, 1), entry(1, 2), entry(1, 3)};
    Replica full = replicaHolding(log);
    for (Entry e : log) {
      oracles.onApply(1, e, full.chainAt(e.index()));
    }
    leader(1, 1, full, 1_000);
    oracles.onAcknowledged(1, 3, 1);
    Workload.Request read = new Workload.Request(0, 7, 2, 1, Workload.Path.READ_INDEX,
        new byte[0], 5_000, 3);
    oracles.onRead(2, read, 3, 0); // Reflects index 3: fine.
    assertFails("read-freshness", () -> oracles.onRead(2, read, 2, 0));
    oracles.onRead(1, read, 3, 1); // The leader of term 1, no newer leader: fine.
    leader(3, 2, full, 4_000); // Term 2's leader, elected before the read was sent.
    assertFails("read-deposed-leader", () -> oracles.onRead(1, read, 3, 1));
    oracles.onRead(3, read, 3, 2);
  }

  @Test
  void followerCommitBoundRejectsACommittedEntryTheLeaderDoesNotHold() {
    oracles.onFollowerCommit(2, 1, 5, 42, 42, "the committed log");
    assertFails("follower-commit-bound", () -> oracles.onFollowerCommit(2, 1, 5, 42, 43,
        "the committed log"));
  }

  @Test
  void logMatchingRejectsTwoLogsWithTheSameEntryButDifferentPrefixes() {
    oracles.onAppend(1, entry(1, 1), 101);
    oracles.onAppend(2, entry(1, 1), 101); // Same index, term and prefix.
    oracles.onAppend(3, entry(2, 1), 201); // Another term at that index: another entry.
    oracles.onAppend(1, entry(1, 2), 102);
    oracles.onAppend(2, entry(1, 2), 102);
    assertFails("log-matching", () -> oracles.onAppend(3, entry(1, 2), 999));
  }

  @Test
  void leaderCompletenessRequiresEveryEntryCommittedInAnEarlierTerm() {
    Entry[] log = {entry(1, 1), entry(1, 2)};
    Replica full = replicaHolding(log);
    for (Entry e : log) {
      oracles.onApply(1, e, full.chainAt(e.index()));
    }
    oracles.onCommitKnown(1, 2); // n1, in term 1, knew 1..2 committed.
    leader(2, 2, full, 0);
    // A leader of a later term that misses entry 2, or holds another entry there.
    assertFails("leader-completeness",
        () -> leader(3, 3, replicaHolding(entry(1, 1)), 0));
    assertFails("leader-completeness",
        () -> leader(3, 4, replicaHolding(entry(1, 1), entry(2, 2)), 0));
  }

  @Test
  void stateMachineSafetyRejectsADifferentEntryOrStateAtAnIndex() {
    oracles.onApply(1, entry(1, 1), 101);
    oracles.onApply(2, entry(1, 1), 101);
    assertFails("state-machine-safety", () -> oracles.onApply(3, entry(2, 1), 201));
    // The end-of-run check: a node's state machine against the reference.
    byte[] empty = new SessionStateMachine(new KvStateMachine(), SESSION_TIMEOUT).snapshot();
    oracles.checkState(1, 1, empty);
    assertFails("state-machine-safety", () -> oracles.checkState(2, 1, new byte[] {1}));
  }

  @Test
  void aWitnessHoldsNoPayloadNorSnapshotImage() {
    Membership withWitness = new Membership(new long[] {1, 2, 3}, new long[0], new long[] {3});
    oracles.checkWitnessHoldsNoData(3, entry(1, 1), null, "persisted");
    oracles.checkWitnessHoldsNoData(3, null, new Snapshot(4, 1, withWitness, new byte[0]),
        "received");
    assertFails("witness-no-data", () -> oracles.checkWitnessHoldsNoData(3,
        Entry.normal(1, 2, new byte[] {7}), null, "applied"));
    assertFails("witness-no-data", () -> oracles.checkWitnessHoldsNoData(3, null,
        new Snapshot(4, 1, withWitness, new byte[] {1}), "received"));
    // Data-less, but its membership does not say witness: the node would restore it as data.
    assertFails("witness-no-data", () -> oracles.checkWitnessHoldsNoData(3, null,
        new Snapshot(4, 1, Membership.of(1, 2, 3), new byte[0]), "received"));
  }

  @Test
  void commitMayNotGoBackWithinAnIncarnation() {
    oracles.onHardState(1, HardState.EMPTY, hs(1, 0, 2));
    oracles.onHardState(1, hs(1, 0, 2), hs(1, 0, 3));
    assertFails("commit-monotonic", () -> oracles.onHardState(1, hs(1, 0, 3), hs(1, 0, 1)));
    // Across a restart it may (commit 3 was never fsynced): a new incarnation starts over.
    oracles.onHardState(2, HardState.EMPTY, hs(1, 0, 3));
    oracles.onRecover(2, hs(1, 0, 1), replicaHolding());
    oracles.onHardState(2, hs(1, 0, 1), hs(1, 0, 2));
  }

  @Test
  void appliesMustBeContiguousAndNeverGoBack() {
    oracles.onApply(1, entry(1, 1), 101);
    oracles.onApply(1, entry(1, 2), 102);
    assertFails("applied-monotonic", () -> oracles.onApply(1, entry(1, 4), 104));
    assertFails("applied-monotonic", () -> oracles.onApply(1, entry(1, 1), 101));
  }

  @Test
  void acknowledgedWritesMustBeCommittedAndKept() {
    Replica holder = replicaHolding(entry(1, 1));
    oracles.onApply(1, entry(1, 1), holder.chainAt(1));
    oracles.onAcknowledged(1, 1, 1);
    oracles.checkHoldsAcknowledged(2, holder);
    assertFails("acknowledged-write", () -> oracles.onAcknowledged(1, 1, 2)); // Other term.
    assertFails("acknowledged-write", () -> oracles.onAcknowledged(1, 2, 1)); // Uncommitted.
    assertFails("acknowledged-write", () -> oracles.checkHoldsAcknowledged(3, replicaHolding()));
    assertFails("acknowledged-write",
        () -> oracles.checkHoldsAcknowledged(3, replicaHolding(entry(2, 1))));
  }

  @Test
  void restartsMustKeepWhatWasFsyncedOrSaid() {
    Replica host = replicaHolding();
    oracles.onDurable(1, hs(2, 1, 3));
    oracles.onRecover(1, hs(2, 1, 3), host);
    assertFails("durability", () -> oracles.onRecover(1, hs(2, 1, 2), host));
    // n2 granted its vote in term 4 to n3: a restart must come back with that term and vote.
    oracles.onSend(2, new Message.VoteResponse(1, 2, 3, 4, true, false), host);
    oracles.onRecover(2, hs(4, 3, 0), host);
    assertFails("persist-before-speak", () -> oracles.onRecover(2, hs(3, 0, 0), host));
    assertFails("persist-before-speak", () -> oracles.onRecover(2, hs(4, 1, 0), host));
  }

  @Test
  void hardStateAndCommitRules() {
    assertFails("term-monotonic", () -> oracles.onHardState(1, hs(3, 0, 0), hs(2, 0, 0)));
    oracles.onHardState(2, hs(3, 0, 0), hs(3, 2, 0)); // A first vote in term 3.
    assertFails("one-vote-per-term", () -> oracles.onHardState(2, hs(3, 2, 0), hs(3, 1, 0)));
    oracles.onLeaderCommit(1, hs(3, 1, 5), 3);
    assertFails("commit-rule", () -> oracles.onLeaderCommit(1, hs(3, 1, 6), 2));
  }

  /**
   * The liveness check in {@link Simulation}: with a disk whose fsync never completes no
   * leader emerges after healing, and the run fails at the bound; the correct host passes the
   * same seed.
   */
  @Test
  void livenessCheckFailsARunThatNeverElectsALeader() {
    SimOptions options = Main.optionsFor(3, 1);
    SimResult stuck = new Simulation(options, PlantedFaults.stuckFsync()).run();
    assertEquals("liveness", stuck.oracle(), stuck::report);
    assertTrue(stuck.failure().contains("leader=none"), stuck::report);
    assertEquals(options.phases().safetyNanos() + options.phases().livenessBoundNanos(),
        stuck.simulatedNanos(), stuck::report);
    SimResult correct = new Simulation(options).run();
    assertFalse(correct.failed(), correct::report);
  }

  /** A crash is named by where it was thrown; the simulator's own crash is a harness bug. */
  @Test
  void exceptionsAreNamedByTheirOrigin() {
    RuntimeException core = assertThrows(RuntimeException.class,
        () -> io.detraft.core.Invariants.check(false, "broken %s", 1L));
    assertEquals("core-invariant", Simulation.exceptionOrigin(core));
    assertEquals("harness", Simulation.exceptionOrigin(new IllegalStateException("here")));
    RuntimeException elsewhere = assertThrows(NumberFormatException.class,
        () -> Long.parseLong("x"));
    assertEquals("exception", Simulation.exceptionOrigin(elsewhere));
  }

  /** Quorums of two configurations can be disjoint exactly when the count allows it. */
  @Test
  void membershipQuorumsIntersectUnlessTwoChangesLeaveAnEvenBase() {
    Membership four = Membership.of(1, 2, 3, 4);
    Membership five = Membership.of(1, 2, 3, 4, 5);
    Membership three = Membership.of(1, 2, 3);
    assertFalse(MembershipOracle.canBeDisjoint(four, five)); // one step
    assertFalse(MembershipOracle.canBeDisjoint(four, three)); // one step
    assertTrue(MembershipOracle.canBeDisjoint(five, three)); // {3,4,5} and {1,2}
    MembershipOracle oracle = new MembershipOracle();
    oracle.onCommit(9, 0);
    // An old leader (term 2) made "add 5" durable, uncommitted; a new leader of term 3 "removes
    // 4" from the same committed four before committing anything of its term.
    assertNull(oracle.onConfig(1, 10, 2, five, 2));
    String broken = oracle.onConfig(2, 10, 3, three, 2);
    assertTrue(broken != null && broken.contains("disjoint"), broken);
    // Once the new leader commits an entry of its term, the old change is out of play.
    MembershipOracle fixed = new MembershipOracle();
    fixed.onCommit(9, 0);
    assertNull(fixed.onConfig(1, 10, 2, five, 2));
    fixed.onCommit(10, 0);
    assertNull(fixed.onConfig(2, 11, 3, three, 3));
    // One leader with two changes uncommitted at once.
    MembershipOracle twice = new MembershipOracle();
    assertNull(twice.onConfig(1, 10, 2, five, 2));
    String second = twice.onConfig(1, 11, 2, Membership.of(1, 2, 3, 4, 5, 6), 2);
    assertTrue(second != null && second.contains("two uncommitted"), second);
  }
}
