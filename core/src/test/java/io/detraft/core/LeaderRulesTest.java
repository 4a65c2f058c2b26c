package io.detraft.core;

import static io.detraft.core.SingleReplica.ack;
import static io.detraft.core.SingleReplica.config;
import static io.detraft.core.SingleReplica.sentTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Message.AppendRequest;
import io.detraft.core.Message.Heartbeat;
import io.detraft.core.Message.HeartbeatResponse;
import io.detraft.core.Message.Propose;
import io.detraft.core.Message.VoteRequest;
import io.detraft.core.Message.VoteResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rules of a leader at their boundaries (CheckQuorum, flow control, reads, quiescence,
 * membership), each checked on one leader fed with hand-written answers of its followers.
 */
class LeaderRulesTest {

  private static final Membership THREE = Membership.of(1, 2, 3);

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static HeartbeatResponse heartbeatAck(long from, long term, long round) {
    return new HeartbeatResponse(1, from, 1, term, round);
  }

  private static List<String> contexts(SingleReplica r) {
    return r.reads.stream().map(read -> new String(read.context(), StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void checkQuorumKeepsALeaderThatHearsFromExactlyAMajority() {
    SingleReplica r = SingleReplica.leader(config(1).withCheckQuorum(true), THREE, 2);
    r.tick(10); // First round: every member counts as active once.
    for (int round = 0; round < 3; round++) {
      r.answer(heartbeatAck(2, 1, 1)); // Node 3 stays silent; 1 and 2 are a majority.
      r.tick(10);
      assertEquals(Role.LEADER, r.status().role(), "round " + round);
    }
    r.tick(10); // A round without node 2 either: cut off from the majority.
    assertEquals(Role.FOLLOWER, r.status().role());
  }

  @Test
  void readsPendingWhenLeadershipIsLostAreNeverAnswered() {
    SingleReplica r = SingleReplica.leader(config(1), THREE, 2);
    r.raw.readIndex(bytes("old"));
    assertFalse(sentTo(r.drain(), 2, Heartbeat.class).isEmpty());
    // Node 2 leads term 2: whatever node 1 knew as leader of term 1 may be stale now.
    r.answer(new Heartbeat(1, 2, 1, 2, 1, 1));
    assertEquals(Role.FOLLOWER, r.status().role());
    leadAgainInTerm3(r);
    r.raw.readIndex(bytes("new"));
    r.drain();
    r.answer(heartbeatAck(3, 3, 1));
    assertEquals(List.of("new"), contexts(r));
  }

  @Test
  void readsWaitingForTheFirstCommitOfATermDieWithThatTerm() {
    SingleReplica r = SingleReplica.leader(config(1), THREE); // Nothing committed in term 1.
    r.raw.readIndex(bytes("old"));
    r.drain();
    r.answer(new Heartbeat(1, 2, 1, 2, 0, 1));
    leadAgainInTerm3(r);
    r.raw.readIndex(bytes("new"));
    r.drain();
    r.answer(heartbeatAck(3, 3, 1));
    r.answer(heartbeatAck(2, 3, 1));
    assertEquals(List.of("new"), contexts(r));
  }

  /** Node 1 wins term 3 with node 3's vote and commits its entry of term 3. */
  private static void leadAgainInTerm3(SingleReplica r) {
    r.tick(1);
    r.raw.campaign();
    r.drain();
    r.answer(new VoteResponse(1, 3, 1, 3, true, false));
    assertEquals(Role.LEADER, r.status().role());
    assertEquals(3, r.status().term());
    r.answer(ack(3, 3, r.status().lastIndex()));
    assertEquals(r.status().lastIndex(), r.status().commit());
  }

  @Test
  void aReadAlreadyInAHeartbeatRoundStartsNoFurtherRounds() {
    SingleReplica r = SingleReplica.leader(config(1), THREE, 2);
    r.raw.readIndex(bytes("r"));
    assertEquals(2, r.drain().stream().filter(Heartbeat.class::isInstance).count());
    // A proposal's Ready carries appends; the read waits for its round's answers only.
    r.raw.propose(bytes("x"));
    List<Message> sent = r.drain();
    assertEquals(1, sentTo(sent, 2, AppendRequest.class).size());
    assertEquals(0, sent.stream().filter(Heartbeat.class::isInstance).count(), "" + sent);
  }

  @Test
  void aSingleVoterServesReadsAtOnce() {
    SingleReplica r = SingleReplica.leader(config(1), Membership.of(1));
    assertEquals(1, r.status().commit());
    r.raw.readIndex(bytes("alone"));
    assertTrue(r.drain().isEmpty());
    assertEquals(List.of("alone"), contexts(r));
  }

  // ------------------------------------------------------------------ flow control

  @Test
  void anAcknowledgementOpensTheInflightWindowForTheNextAppend() {
    // One append in flight per follower.
    SingleReplica r = SingleReplica.leader(config(1).withFlowControl(1 << 20, 1), THREE, 2, 3);
    r.raw.propose(bytes("x"));
    assertEquals(1, sentTo(r.drain(), 2, AppendRequest.class).size());
    r.answer(ack(3, 1, 2));
    r.raw.propose(bytes("y"));
    assertTrue(sentTo(r.drain(), 2, AppendRequest.class).isEmpty(), "window of 2 is full");
    // Node 2 acknowledges x: y goes out at once.
    List<AppendRequest> next = sentTo(r.answer(ack(2, 1, 2)), 2, AppendRequest.class);
    assertEquals(1, next.size());
    assertEquals(3, next.get(0).entries().get(0).index());
  }

  @Test
  void aHeartbeatAnswerToAFullWindowLetsOneMoreAppendThrough() {
    SingleReplica r = SingleReplica.leader(config(1).withFlowControl(1 << 20, 1), THREE, 2, 3);
    r.raw.propose(bytes("x"));
    r.drain();
    r.answer(ack(3, 1, 2));
    r.raw.propose(bytes("y"));
    assertTrue(sentTo(r.drain(), 2, AppendRequest.class).isEmpty(), "window of 2 is full");
    // Node 2's acknowledgement of x is lost, but it is alive (it answers heartbeats).
    List<AppendRequest> sent = sentTo(r.answer(heartbeatAck(2, 1, 0)), 2,
        AppendRequest.class);
    assertEquals(1, sent.size());
    assertEquals(List.of(3L), sent.get(0).entries().stream().map(Entry::index).toList());
  }

  @Test
  void aHeartbeatAnswerDoesNotWidenAWindowThatIsNotFull() {
    SingleReplica r = SingleReplica.leader(config(1).withFlowControl(1 << 20, 2), THREE, 2, 3);
    r.raw.propose(bytes("x"));
    r.drain(); // x in flight to 2: one of two slots.
    r.answer(heartbeatAck(2, 1, 0));
    r.raw.propose(bytes("y"));
    assertEquals(1, sentTo(r.drain(), 2, AppendRequest.class).size());
    r.raw.propose(bytes("z"));
    assertTrue(sentTo(r.drain(), 2, AppendRequest.class).isEmpty(), "x and y fill the window");
  }

  @Test
  void eachAcknowledgementRefillsTheWindowOfAReplicatingFollower() {
    // Five voters, so node 2's acknowledgements alone commit nothing; one entry per append.
    Membership five = Membership.of(1, 2, 3, 4, 5);
    SingleReplica r = SingleReplica.leader(config(1).withFlowControl(1, 3), five, 2, 3);
    for (String s : List.of("a", "b", "c", "d")) {
      r.raw.propose(bytes(s));
    }
    List<AppendRequest> first = sentTo(r.drain(), 2, AppendRequest.class);
    assertEquals(1, first.size(), "one append per peer per Ready");
    assertEquals(2, first.get(0).entries().get(0).index());
    List<AppendRequest> refill = sentTo(r.answer(ack(2, 1, 2)), 2, AppendRequest.class);
    assertEquals(List.of(3L, 4L, 5L),
        refill.stream().map(a -> a.entries().get(0).index()).toList());
  }

  // ------------------------------------------------------------------ quiescence

  /** A leader of three, all caught up, gone quiet (no heartbeats) after 20 + 10 idle ticks. */
  private static SingleReplica quietLeader(boolean checkQuorum) {
    SingleReplica r = SingleReplica.leader(config(1).withQuiesce(20)
        .withCheckQuorum(checkQuorum), THREE, 2, 3);
    for (int i = 0; i < 30; i++) {
      for (Message m : r.tick(1)) {
        r.answer(heartbeatAck(m.to(), 1, ((Heartbeat) m).round()));
      }
    }
    assertTrue(r.tick(40).isEmpty(), "quiet");
    assertEquals(Role.LEADER, r.status().role());
    return r;
  }

  @ParameterizedTest
  @ValueSource(strings = {"forwarded proposal", "membership change", "transfer", "read"})
  void everyRequestWakesAQuietLeader(String request) {
    SingleReplica r = quietLeader(false);
    Consumer<RawNode> act = switch (request) {
      case "forwarded proposal" -> raw -> raw.step(new Propose(1, 2, 1, 0,
          List.of(bytes("x"))));
      case "membership change" -> raw -> raw.proposeMembership(
          new MembershipChange(MembershipChange.Type.ADD_LEARNER, 4));
      case "transfer" -> raw -> raw.transferLeadership(2);
      default -> raw -> raw.readIndex(bytes("r"));
    };
    act.accept(r.raw);
    List<Message> sent = r.drain();
    assertFalse(sentTo(sent, 2, Heartbeat.class).isEmpty(), request + ": " + sent);
    assertFalse(sentTo(r.tick(1), 3, Heartbeat.class).isEmpty(), "heartbeats resume");
  }

  @Test
  void aLeaderStaysAwakeWhileAFollowerLagsOrAReadWaits() {
    SingleReplica lagging = SingleReplica.leader(config(1).withQuiesce(20), THREE, 2);
    lagging.tick(60);
    List<Message> last = lagging.tick(1);
    assertFalse(sentTo(last, 2, Heartbeat.class).isEmpty(), "node 3 lags: " + last);

    SingleReplica reading = SingleReplica.leader(config(1).withQuiesce(20), THREE, 2, 3);
    reading.raw.readIndex(bytes("r"));
    reading.tick(60);
    assertFalse(sentTo(reading.tick(1), 2, Heartbeat.class).isEmpty(), "a read waits");
  }

  @Test
  void aQuietLeaderHearsACandidateOut() {
    // Quiet, it sends no heartbeats: nothing tells the others it lives, so its lease is no
    // reason to ignore a candidate (a quorum may need its vote to elect anyone).
    SingleReplica r = quietLeader(true);
    VoteResponse answer = r.onlyAnswer(new VoteRequest(1, 2, 1, 2, 1, 1, false, false),
        VoteResponse.class);
    assertTrue(answer.granted());
    assertEquals(Role.FOLLOWER, r.status().role());
    assertEquals(2, r.status().term());
  }

  // ------------------------------------------------------------------ membership

  @Test
  void theLastVoterCannotBeRemovedButALearnerBesideItCan() {
    SingleReplica r = SingleReplica.leader(config(1),
        new Membership(new long[] {1}, new long[] {2}));
    assertInstanceOf(ProposeResult.Rejected.class,
        r.raw.proposeMembership(new MembershipChange(MembershipChange.Type.REMOVE, 1)));
    assertInstanceOf(ProposeResult.Rejected.class,
        r.raw.proposeMembership(new MembershipChange(MembershipChange.Type.DEMOTE_VOTER, 1)));
    assertInstanceOf(ProposeResult.Accepted.class,
        r.raw.proposeMembership(new MembershipChange(MembershipChange.Type.REMOVE, 2)));
  }

  @Test
  void noMembershipChangeDuringALeadershipTransfer() {
    SingleReplica r = SingleReplica.leader(config(1), THREE, 2);
    r.raw.transferLeadership(3); // Node 3 lags: the transfer waits for it to catch up.
    r.drain();
    ProposeResult refused = r.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.ADD_LEARNER, 4));
    assertInstanceOf(ProposeResult.Rejected.class, refused);
    assertTrue(refused.toString().contains("transfer"), refused.toString());
    assertEquals(1L, r.raw.coverage().asMap().get(Mark.PROPOSAL_REFUSED_DURING_TRANSFER));
  }
  @Test
  void aTransferHoldsProposalsForOneElectionTimeoutThenGivesUp() {
    SingleReplica r = SingleReplica.leader(config(1), THREE, 2);
    r.raw.transferLeadership(3); // Node 3 lags and never answers.
    r.drain();
    r.tick(9);
    assertInstanceOf(ProposeResult.Rejected.class, r.raw.propose(bytes("early")));
    r.tick(1);
    assertInstanceOf(ProposeResult.Accepted.class, r.raw.propose(bytes("late")));
    assertEquals(1L, r.raw.coverage().asMap().get(Mark.TRANSFER_ABANDONED));
  }

  @Test
  void aFollowerBeingSentASnapshotThatAcknowledgesItsIndexByLogGetsEntriesAgain() {
    SingleReplica r = SingleReplica.leader(config(1), THREE, 2);
    for (String s : List.of("a", "b", "c")) {
      r.raw.propose(bytes(s));
    }
    r.drain();
    r.answer(ack(2, 1, 4));
    assertEquals(4, r.status().commit());
    r.storage.createSnapshot(4, THREE, bytes("abc"));
    r.storage.compact(4);
    // Node 3 never answered: the entries it needs are gone, so it is sent the snapshot.
    List<Message> sent = r.answer(heartbeatAck(3, 1, 0));
    assertEquals(1, sentTo(sent, 3, Message.InstallSnapshot.class).size(), "" + sent);
    // A late answer shows that it holds the log up to the snapshot's index after all.
    List<AppendRequest> resumed = sentTo(r.answer(ack(3, 1, 4)), 3, AppendRequest.class);
    assertEquals(1, resumed.size());
    assertEquals(4, resumed.get(0).prevLogIndex());
    r.raw.propose(bytes("d"));
    List<AppendRequest> next = sentTo(r.drain(), 3, AppendRequest.class);
    assertEquals(1, next.size());
    assertEquals(5, next.get(0).entries().get(0).index());
  }

  /**
   * A host that keeps snapshot images in files keeps only the newest few: a leader whose
   * snapshot file went while it sent it starts over with the latest snapshot.
   */
  @Test
  void aLeaderWhoseSnapshotImageIsGoneStartsOverWithTheLatest() {
    MemoryLogStorage memory = new MemoryLogStorage(THREE);
    SingleReplica r = leaderWithASnapshotAt4(config(1).withSnapshotChunkBytes(2), memory,
        s -> true);
    Message.InstallSnapshot first = sentTo(r.answer(heartbeatAck(3, 1, 0)), 3,
        Message.InstallSnapshot.class).get(0);
    assertEquals(4, first.snapshotIndex());
    assertFalse(first.done());
    for (String s : List.of("d", "e")) {
      r.raw.propose(bytes(s));
    }
    r.drain();
    r.answer(ack(2, 1, 6));
    memory.createSnapshot(6, THREE, bytes("abcdef")); // the file of the one at 4 goes
    memory.compact(6);
    List<Message.InstallSnapshot> next = sentTo(r.answer(new Message.SnapshotResponse(1, 3, 1,
        1, 4, 2)), 3, Message.InstallSnapshot.class);
    assertEquals(1, next.size(), "" + next);
    assertEquals(6, next.get(0).snapshotIndex());
    assertEquals(0, next.get(0).offset());
    assertEquals(6, next.get(0).totalBytes());
  }

  /**
   * A follower that acknowledges entries the leader compacted meanwhile is sent the snapshot,
   * from the loop that fills its inflight window. When the image cannot be read (a damaged
   * file: the host stops at its next persist), nothing goes out and the loop must end: it
   * spun forever in seed -405, whose disk corrupted a snapshot file at rest.
   */
  @Test
  @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // it spun forever
  void aLeaderThatCannotReadItsSnapshotImageSendsNothingAndGoesOn() {
    SingleReplica r = leaderWithASnapshotAt4(config(1), new MemoryLogStorage(THREE), s -> false);
    List<Message> sent = r.answer(ack(3, 1, 1)); // it needs 2.., compacted away
    assertTrue(sentTo(sent, 3, Message.InstallSnapshot.class).isEmpty(), "" + sent);
    assertEquals(Role.LEADER, r.status().role());
  }

  /**
   * Leader 1 of three over {@code memory}: node 2 acknowledged entries 2-4, which went into a
   * snapshot at 4 (image "abcd") and were compacted away; node 3 has not answered its first
   * append (a probe) yet. Snapshot images are served as {@link #keepingOnlyTheLatestImage}.
   */
  private static SingleReplica leaderWithASnapshotAt4(Config config, MemoryLogStorage memory,
      Predicate<Snapshot> readable) {
    SingleReplica r = new SingleReplica(config, memory,
        keepingOnlyTheLatestImage(memory, readable));
    r.raw.campaign();
    r.drain();
    r.answer(new VoteResponse(1, 2, 1, 1, true, false));
    r.answer(ack(2, 1, 1));
    for (String s : List.of("a", "b", "c")) {
      r.raw.propose(bytes(s));
    }
    r.drain();
    r.answer(ack(2, 1, 4));
    memory.createSnapshot(4, THREE, bytes("abcd"));
    memory.compact(4);
    return r;
  }

  /** {@code memory}, its snapshots as metadata, only the latest one's image readable, if so. */
  private static LogStorage keepingOnlyTheLatestImage(MemoryLogStorage memory,
      Predicate<Snapshot> readable) {
    return new LogStorage() {
      @Override
      public HardState hardState() {
        return memory.hardState();
      }

      @Override
      public Membership membership() {
        return memory.membership();
      }

      @Override
      public long firstIndex() {
        return memory.firstIndex();
      }

      @Override
      public long lastIndex() {
        return memory.lastIndex();
      }

      @Override
      public long term(long index) {
        return memory.term(index);
      }

      @Override
      public List<Entry> entries(long lo, long hi, long maxBytes) {
        return memory.entries(lo, hi, maxBytes);
      }

      @Override
      public Snapshot snapshot() {
        return memory.snapshot().withoutData();
      }

      @Override
      public byte[] snapshotChunk(Snapshot s, long offset, int maxBytes) {
        Snapshot latest = memory.snapshot();
        return s.index() == latest.index() && readable.test(latest)
            ? latest.chunk(offset, maxBytes) : null;
      }
    };
  }

  private static final Membership WITH_WITNESS =
      new Membership(new long[] {1, 2, 3}, new long[0], new long[] {3});

  /**
   * A witness's snapshot has no data, so its one answer (offset 0) is both "installed" and
   * the offset of the chunk in flight: it must not be dropped as a copy, or the witness stays
   * in snapshot state for good.
   */
  @Test
  void aWitnessThatInstalledItsEmptySnapshotGetsEntriesAgain() {
    SingleReplica r = SingleReplica.leader(config(1), WITH_WITNESS, 2);
    for (String s : List.of("a", "b", "c")) {
      r.raw.propose(bytes(s));
    }
    r.drain();
    r.answer(ack(2, 1, 4));
    r.storage.createSnapshot(4, WITH_WITNESS, bytes("abc"));
    r.storage.compact(4);
    List<Message> sent = r.answer(heartbeatAck(3, 1, 0));
    List<Message.InstallSnapshot> chunks = sentTo(sent, 3, Message.InstallSnapshot.class);
    assertEquals(1, chunks.size(), "" + sent);
    assertEquals(0, chunks.get(0).chunk().length); // No payloads for a witness.
    List<AppendRequest> resumed = sentTo(
        r.answer(new Message.SnapshotResponse(1, 3, 1, 1, 4, 0)), 3, AppendRequest.class);
    assertEquals(1, resumed.size());
    assertEquals(4, resumed.get(0).prevLogIndex());
  }

  /** A witness needs two data voters beside it; a group without one may shrink to one. */
  @Test
  void witnessesAreAddedOnlyBesideTwoDataVoters() {
    SingleReplica two = SingleReplica.leader(config(1), Membership.of(1, 2), 2);
    assertInstanceOf(ProposeResult.Accepted.class, two.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.ADD_WITNESS, 3)));
    SingleReplica one = SingleReplica.leader(config(1), Membership.of(1));
    assertInstanceOf(ProposeResult.Rejected.class, one.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.ADD_WITNESS, 3)));
    // Without a witness, two data voters may become one.
    SingleReplica shrinking = SingleReplica.leader(config(1), Membership.of(1, 2), 2);
    assertInstanceOf(ProposeResult.Accepted.class, shrinking.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.REMOVE, 2)));
    // With one, they may not.
    SingleReplica kept = SingleReplica.leader(config(1), WITH_WITNESS, 2);
    assertInstanceOf(ProposeResult.Rejected.class, kept.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.REMOVE, 2)));
  }

  /** Node 3's answer to the leader's first append: it holds nothing. */
  private static List<Message> fresh3Rejects(SingleReplica r, List<Message> sent) {
    AppendRequest probe = sentTo(sent, 3, AppendRequest.class).get(0);
    return r.answer(new Message.AppendResponse(1, 3, 1, 1, true, probe.prevLogIndex(), 0, 0));
  }

  /**
   * Until node 3's ADD_WITNESS commits it may be rolled back, leaving 3 a non-member whose
   * committed entries would be empty if the leader had stripped them (and, added later as a
   * learner, it would hold them as data). So the entries before the change go whole, those
   * after it are stripped (rolled back with it), and once it commits everything is stripped.
   * The planted bug strips everything at once.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void anUncommittedWitnessGetsWholeEntriesBeforeItsChange(boolean planted) {
    Config config = planted ? config(1).withPlantedBug(PlantedBug.WITNESS_STRIPPED_BEFORE_COMMIT)
        : config(1);
    SingleReplica r = SingleReplica.leader(config, Membership.of(1, 2), 2);
    r.raw.propose(bytes("a")); // index 2
    r.drain();
    r.answer(ack(2, 1, 2));
    long change = assertInstanceOf(ProposeResult.Accepted.class, r.raw.proposeMembership(
        new MembershipChange(MembershipChange.Type.ADD_WITNESS, 3))).index();
    r.raw.propose(bytes("b"));
    List<AppendRequest> sent = sentTo(fresh3Rejects(r, r.drain()), 3, AppendRequest.class);
    assertEquals(1, sent.size(), "" + sent);
    assertEquals(0, sent.get(0).prevLogIndex());
    for (Entry e : sent.get(0).entries()) {
      boolean stripped = e.type() == EntryType.NORMAL && e.data().length == 0;
      if (e.index() == 2) {
        assertEquals(planted, stripped, "entry before the change: " + e);
      } else if (e.index() > change) {
        assertTrue(stripped, "entry after the change: " + e);
      }
    }
    // Committed: from now on it stays a witness until removed, and gets no payload at all.
    r.answer(ack(2, 1, change + 1));
    assertTrue(r.status().commit() >= change);
    List<Message> again = r.answer(new Message.AppendResponse(1, 3, 1, 1, true, 0, 0, 0));
    r.raw.propose(bytes("c"));
    again.addAll(r.drain());
    for (AppendRequest a : sentTo(again, 3, AppendRequest.class)) {
      for (Entry e : a.entries()) {
        assertFalse(e.type() == EntryType.NORMAL && e.data().length > 0, "payload " + e);
      }
    }
  }

  /**
   * A node added as a witness after the latest snapshot: that snapshot's membership does not
   * mark it a witness, so it would restore the image. While the change is uncommitted it gets
   * the whole image (it may yet be rolled back); once committed, a data-less snapshot at the
   * commit index, whose membership marks it a witness. The planted bug sends the old
   * snapshot without its image: the node would restore an empty state machine as data.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aWitnessAddedAfterTheSnapshotNeverGetsItsImage(boolean planted) {
    Config config = planted ? config(1).withPlantedBug(PlantedBug.WITNESS_STRIPPED_BEFORE_COMMIT)
        : config(1);
    for (boolean committedFirst : new boolean[] {false, true}) {
      SingleReplica r = SingleReplica.leader(config, Membership.of(1, 2), 2);
      for (String s : List.of("a", "b", "c")) {
        r.raw.propose(bytes(s));
      }
      r.drain();
      r.answer(ack(2, 1, 4));
      r.storage.createSnapshot(4, Membership.of(1, 2), bytes("abc"));
      r.storage.compact(4);
      long change = assertInstanceOf(ProposeResult.Accepted.class, r.raw.proposeMembership(
          new MembershipChange(MembershipChange.Type.ADD_WITNESS, 3))).index();
      List<Message> sent = r.drain();
      if (committedFirst) {
        r.answer(ack(2, 1, change));
        assertEquals(change, r.status().commit());
      }
      List<Message.InstallSnapshot> chunks =
          sentTo(fresh3Rejects(r, sent), 3, Message.InstallSnapshot.class);
      assertEquals(1, chunks.size(), "" + chunks);
      Message.InstallSnapshot chunk = chunks.get(0);
      if (chunk.totalBytes() == 0) {
        // Data-less: the follower skips the restore only if the membership says witness.
        assertTrue(planted || chunk.membership().isWitness(3), "" + chunk);
        if (planted && !committedFirst) {
          assertFalse(chunk.membership().isWitness(3), "the planted bug did not fire");
        }
      } else {
        assertFalse(committedFirst, "a committed witness got the image: " + chunk);
        assertFalse(planted);
        assertEquals(4, chunk.snapshotIndex());
      }
      if (committedFirst) {
        assertEquals(0, chunk.totalBytes());
        assertEquals(change, chunk.snapshotIndex());
        // Installed, it continues after the change, by log.
        List<AppendRequest> resumed = sentTo(r.answer(new Message.SnapshotResponse(1, 3, 1, 1,
            change, 0)), 3, AppendRequest.class);
        assertEquals(change, resumed.get(0).prevLogIndex());
      } else if (!planted) {
        // The change commits while the image streams: the rest of it is not sent, the
        // data-less snapshot at the commit index replaces it.
        r.answer(ack(2, 1, change));
        List<Message.InstallSnapshot> next = sentTo(
            r.answer(heartbeatAck(3, 1, 0)), 3, Message.InstallSnapshot.class);
        assertEquals(1, next.size(), "" + next);
        assertEquals(0, next.get(0).totalBytes());
        assertEquals(change, next.get(0).snapshotIndex());
      }
    }
  }
}
