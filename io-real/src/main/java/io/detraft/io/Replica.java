package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.LogStorage;
import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.ProposeResult;
import io.detraft.core.RaftHost;
import io.detraft.core.RawNode;
import io.detraft.core.ReadState;
import io.detraft.core.Ready;
import io.detraft.core.Snapshot;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import io.detraft.io.ProposalException.Reason;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One group hosted by a {@link Node}: its core node, its log image, its state machine, and
 * the requests waiting for an outcome (proposals and membership changes to apply, reads to be
 * confirmed and applied, leadership transfers to finish). Touched only by the node's loop,
 * except the published volatile fields.
 *
 * <p>A waiting proposal is matched by (index, term): the leader appended it there, so when the
 * entry at that index applies, the proposal succeeded if and only if the terms agree. That
 * holds whatever happened to the leadership meanwhile, so a proposal waits for its index to
 * apply (or for its deadline) even after this node stopped leading.
 * Invariant: {@code pending} is ordered by index, strictly increasing.
 */
final class Replica {
  /** A proposal or membership change appended at (index, term), waiting to apply. */
  private record Pending(long index, long term, CompletableFuture<byte[]> future,
      long deadlineNanos) {}

  /** A leadership transfer to {@code target}, waiting to see it lead. */
  private record Transfer(long target, CompletableFuture<Void> future, long deadlineNanos) {}

  private static final byte[] EMPTY = new byte[0];

  final long group;
  final RawNode node;
  final LogStorage log;
  private final StateMachine stateMachine;
  /** {@link #stateMachine} if it applies committed entries in batches, else null. */
  private final BatchingStateMachine batching;
  private final long nodeId;
  private final Node.Observer observer;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final PendingReads reads;
  private final List<Transfer> transfers = new ArrayList<>();
  /** Leader and term as of the last Ready, to notice a leader change. */
  private long leader;
  private long term;
  /** The last index the state machine reflects. */
  private long applied;
  /** Published for other threads after every Ready. */
  volatile Status status;
  volatile Membership membership;
  volatile long snapshotsTaken;
  volatile long snapshotsInstalled;
  /** Snapshots given up because the group was stopping ({@link #requestStop}). */
  volatile long snapshotsAbandoned;
  /**
   * Set from any thread when the host is about to stop this replica (the stop itself comes
   * later, between rounds): a snapshot being saved meanwhile gives up at its next chunk.
   */
  private volatile boolean stopRequested;

  Replica(long group, RawNode node, LogStorage log, StateMachine stateMachine, long applied,
      Node.Observer observer, long readContextStart) {
    this.group = group;
    this.reads = new PendingReads(readContextStart);
    this.observer = observer;
    this.node = node;
    this.log = log;
    this.stateMachine = stateMachine;
    this.batching = stateMachine instanceof BatchingStateMachine b ? b : null;
    this.applied = applied;
    this.status = node.status();
    this.membership = node.membership();
    this.nodeId = status.id();
    this.term = status.term();
  }

  /**
   * Recovers group {@code g} from {@code storage} (newest snapshot plus WAL), restores its state
   * machine from that snapshot if it lags behind it, and adds the group to {@code host}.
   */
  static Replica recover(Node.GroupSpec g, RaftHost host, NodeStorage storage, long seed,
      Node.Observer observer) throws IOException {
    NodeStorage.RecoveredGroup recovered = storage.recover(g.id(), g.voters(), g.appliedIndex());
    observer.recovered(g.id(), recovered);
    if (recovered.restore() && !recovered.snapshot().membership().isWitness(g.config().id())) {
      restore(g.stateMachine(), storage, g.id(), recovered.snapshot());
    } // a witness's snapshot holds no data: its state machine stays as it is, empty
    // Snapshots live in files here: a follower writes chunks as they come (none held whole).
    RawNode node = host.addGroup(g.config().withStreamSnapshots(true), recovered.log(), seed,
        recovered.appliedIndex());
    return new Replica(g.id(), node, recovered.log(), g.stateMachine(),
        recovered.appliedIndex(), observer, seed * 0xBF58476D1CE4E5B9L);
  }

  // ---------------------------------------------------------------- requests

  ProposeResult propose(byte[] command, CompletableFuture<byte[]> future, long deadlineNanos) {
    return track(node.propose(command), future, deadlineNanos);
  }

  ProposeResult changeMembership(MembershipChange change, CompletableFuture<byte[]> future,
      long deadlineNanos) {
    return track(node.proposeMembership(change), future, deadlineNanos);
  }

  ProposeResult read(CompletableFuture<Long> future, long deadlineNanos) {
    byte[] context = reads.register(future, deadlineNanos);
    ProposeResult result = node.readIndex(context);
    ProposalException refusal = refusal(result);
    if (refusal != null) {
      reads.refuse(context, refusal);
    }
    return result;
  }

  ProposeResult transferLeadership(long target, CompletableFuture<Void> future,
      long deadlineNanos) {
    ProposeResult result = node.transferLeadership(target);
    ProposalException refusal = refusal(result);
    if (refusal != null) {
      future.completeExceptionally(refusal);
    } else {
      transfers.add(new Transfer(target, future, deadlineNanos));
    }
    return result;
  }

  private ProposeResult track(ProposeResult result, CompletableFuture<byte[]> future,
      long deadlineNanos) {
    if (result instanceof ProposeResult.Accepted accepted) {
      // Anything waiting at this index or above was appended in an older term and is gone
      // from this log. (Another replica may still hold it and commit it: outcome unknown.)
      while (!pending.isEmpty() && pending.peekLast().index >= accepted.index()) {
        fail(pending.pollLast(), Reason.LEADERSHIP_LOST, 0, "overwritten in this log");
      }
      pending.addLast(new Pending(accepted.index(), accepted.term(), future, deadlineNanos));
    } else if (result instanceof ProposeResult.Forwarded forwarded) {
      // The runner configures no forwarding; should it happen, the outcome is unknown.
      future.completeExceptionally(new ProposalException(Reason.LEADERSHIP_LOST,
          forwarded.leader(), "forwarded to node " + forwarded.leader()));
    } else {
      future.completeExceptionally(refusal(result));
    }
    return result;
  }

  /** Null if the core took the request (appended or forwarded it), else the answer. */
  private ProposalException refusal(ProposeResult result) {
    if (result instanceof ProposeResult.NotLeader notLeader) {
      return new ProposalException(Reason.NOT_LEADER, notLeader.leaderHint(),
          "group " + group + " leader is " + notLeader.leaderHint());
    }
    if (result instanceof ProposeResult.Rejected rejected) {
      return new ProposalException(Reason.REJECTED, leader, rejected.reason());
    }
    return null; // Accepted, or Forwarded to the leader.
  }

  // ---------------------------------------------------------------- the Ready contract

  /**
   * Step 4 of the Ready contract for this group: restores a received snapshot, applies the
   * committed entries, answers the requests they settle, then fails those a lost leadership
   * leaves behind.
   */
  void apply(Ready rd, NodeStorage storage) throws IOException {
    if (rd.snapshot() != null) {
      if (!rd.snapshot().membership().isWitness(nodeId)) {
        restore(stateMachine, storage, group, rd.snapshot());
      } // else the leader sent a witness the snapshot's metadata only
      applied = rd.snapshot().index();
      snapshotsInstalled++;
      observer.restored(group, rd.snapshot());
      // Whether they are in the snapshot is unknown here.
      while (!pending.isEmpty() && pending.peekFirst().index <= applied) {
        fail(pending.pollFirst(), Reason.LEADERSHIP_LOST, 0, "replaced by a snapshot");
      }
    }
    List<Entry> committed = rd.committedEntries();
    if (!committed.isEmpty()) {
      // Every result is delivered only once the whole run is applied (and, for a batching
      // state machine, made visible as a unit).
      byte[][] results = new byte[committed.size()][];
      if (batching != null) {
        batching.beginBatch();
      }
      for (int i = 0; i < results.length; i++) {
        Entry entry = committed.get(i);
        // Empty normal entries are the no-ops new leaders commit; configuration entries are
        // Raft's business. Neither is a command for the state machine.
        if (entry.type() == EntryType.NORMAL && entry.data().length > 0) {
          results[i] = stateMachine.apply(entry.index(), entry.data());
        }
        observer.applied(group, entry, results[i]);
      }
      if (batching != null) {
        batching.endBatch();
      }
      for (int i = 0; i < results.length; i++) {
        Entry entry = committed.get(i);
        applied = entry.index();
        settle(entry, results[i] == null ? EMPTY : results[i]);
      }
    }
    for (ReadState state : rd.readStates()) {
      if (reads.confirm(state, applied)) {
        observer.readWaitedForApply(group);
      }
    }
    reads.applied(applied);
    long previousLeader = leader;
    long previousTerm = term;
    if (rd.softState() != null) {
      leader = rd.softState().leader();
    }
    if (rd.hardState() != null) {
      term = rd.hardState().term();
    }
    if (leader != previousLeader || term != previousTerm) {
      reads.failUnconfirmed(Reason.LEADERSHIP_LOST, leader, "group " + group + " leader changed"
          + " from " + previousLeader + " to " + leader + " before the read was confirmed");
      settleTransfers();
    }
    // Proposals outlive a lost leadership: whatever this replica applies at their index
    // settles them for certain (their entry: applied; another: DROPPED, never to apply),
    // usually within a heartbeat of the new leader's first commit. Failing them now would
    // only say "unknown". Their deadline still bounds the wait.
  }

  /** Publishes status and membership for other threads, after the round advanced. */
  void publish() {
    status = node.status();
    membership = node.membership();
  }

  private void settle(Entry entry, byte[] result) {
    while (!pending.isEmpty() && pending.peekFirst().index <= entry.index()) {
      Pending p = pending.pollFirst();
      if (p.index == entry.index() && p.term == entry.term()) {
        p.future.complete(result);
      } else {
        fail(p, Reason.DROPPED, 0, "entry " + entry.index() + " committed in term "
            + entry.term() + ", the proposal was appended in term " + p.term);
      }
    }
  }

  /** A new leader is known: transfers to it succeeded, transfers to anyone else failed. */
  private void settleTransfers() {
    if (leader == 0) {
      return; // An election is running; the target may still win it.
    }
    for (Transfer t : transfers) {
      if (t.target == leader) {
        t.future.complete(null);
      } else if (leader != nodeId) {
        t.future.completeExceptionally(new ProposalException(Reason.LEADERSHIP_LOST, leader,
            "node " + leader + " leads group " + group + ", not " + t.target));
      }
    }
    transfers.removeIf(t -> t.future.isDone());
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Takes a snapshot at the applied index if {@code force} or if the last one is at least
   * {@code policy.intervalEntries()} behind, saves it durably, then compacts the log up to
   * {@code policy.trailingEntries()} before it. Returns the index of the latest snapshot.
   * Call it between Readies.
   */
  long maybeSnapshot(NodeRunner.SnapshotPolicy policy, NodeStorage storage, boolean force)
      throws IOException {
    long last = log.snapshot().index();
    long interval = policy.intervalEntries();
    if (applied <= last || (!force && (interval == 0 || applied - last < interval))) {
      return last;
    }
    if (applied < node.snapshotIndex()) {
      // A snapshot from the leader is installed in the log but not yet restored: the state
      // machine is behind the log's start, where no membership is known. (The simulator
      // found this: a snapshot at 200 recorded the membership of the one at 208.)
      return last;
    }
    if (stopRequested) {
      snapshotsAbandoned++;
      return last;
    }
    Snapshot taken;
    try {
      taken = storage.saveSnapshot(group, applied, node.membershipAt(applied),
          stateMachine::saveSnapshot, Math.max(0, applied - policy.trailingEntries()),
          () -> stopRequested);
    } catch (SnapshotAbandonedException e) {
      snapshotsAbandoned++; // nothing saved, nothing compacted: the previous snapshot stands
      return last;
    }
    snapshotsTaken++;
    observer.snapshotTaken(group, taken);
    return applied;
  }

  /**
   * The host will stop this replica soon: a snapshot save in progress (on the loop) gives up
   * at its next chunk, and none starts. Any thread; never undone (a restarted group gets a new
   * replica).
   */
  void requestStop() {
    stopRequested = true;
  }

  /** Streams the image of {@code snapshot} from its file into {@code stateMachine}. */
  private static void restore(StateMachine stateMachine, NodeStorage storage, long group,
      Snapshot snapshot) throws IOException {
    try (SnapshotReader image = storage.openSnapshot(group, snapshot)) {
      stateMachine.restoreSnapshot(image);
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause(); // a damaged block stops the node as a damaged file does
    }
  }

  // ---------------------------------------------------------------- failures

  /** Fails the requests whose deadline passed (proposal deadlines grow with the index). */
  void expire(long nowNanos) {
    while (!pending.isEmpty() && pending.peekFirst().deadlineNanos - nowNanos < 0) {
      fail(pending.pollFirst(), Reason.TIMEOUT, leader, "not applied in time");
    }
    reads.expire(nowNanos, leader);
    for (Iterator<Transfer> it = transfers.iterator(); it.hasNext(); ) {
      Transfer t = it.next();
      if (t.deadlineNanos - nowNanos < 0) {
        t.future.completeExceptionally(new ProposalException(Reason.TIMEOUT, leader,
            "node " + t.target + " did not take over group " + group + " in time"));
        it.remove();
      }
    }
  }

  /** Fails the waiting proposals and membership changes. */
  void failAll(Reason reason, long leaderHint, String message) {
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      fail(it.next(), reason, leaderHint, message);
      it.remove();
    }
  }

  /** Fails everything still waiting: the runner stops. */
  void shutDown(String message) {
    failAll(Reason.SHUTDOWN, 0, message);
    reads.failAll(Reason.SHUTDOWN, 0, message);
    for (Transfer t : transfers) {
      t.future.completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, message));
    }
    transfers.clear();
  }

  private static void fail(Pending p, Reason reason, long leaderHint, String message) {
    p.future.completeExceptionally(new ProposalException(reason, leaderHint, message));
  }
}
