package io.detraft.io;

import io.detraft.core.Config;
import io.detraft.core.Entry;
import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.RaftHost;
import io.detraft.core.Ready;
import io.detraft.core.Snapshot;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * One node's logic, the same in both worlds: the Ready loop over all of its groups (a core
 * {@link RaftHost}), persisting through {@link NodeStorage}, recovery, applying committed
 * entries (in batches for a {@link BatchingStateMachine}), the outcomes of proposals, reads,
 * membership changes and leadership transfers, and snapshots by policy.
 *
 * <p>It runs on one event loop and is handed everything it does not decide: the storage (on
 * a real or a simulated {@link Disk}), the time ({@code nowNanos} arguments, for deadlines),
 * and the moments to act. It starts no thread, reads no clock and sends nothing itself: a
 * round of the Ready contract is split so that the host does the waiting and the sending, the
 * threaded {@link NodeRunner} at once, the simulator when its virtual fsync completes:
 *
 * <ol>
 *   <li>{@link #persist()}: every group's snapshot, entries and hard state to the storage;
 *       the host sends {@link Round#early()} (a leader's replication, which may overlap its
 *       own fsync once its term is durable) at once;
 *   <li>{@link #sync()} if {@link Round#mustSync()}: one fsync for every group;
 *   <li>the host sends {@link Round#held()};
 *   <li>{@link #finish(Round)}: restore received snapshots, apply, settle requests, advance,
 *       and take snapshots that are due.
 * </ol>
 *
 * <p>Request outcomes complete {@link CompletableFuture}s on the loop, synchronously; no stage
 * runs asynchronously here (an architecture test keeps it so). A failed write or fsync throws
 * {@link IOException}: the node must then stop (fail-stop), never retry the fsync.
 */
public final class Node {
  /**
   * A group to host.
   *
   * @param config the core's configuration for this node in this group
   * @param voters the membership the group was bootstrapped with (the log and snapshots
   *     record every later change)
   * @param appliedIndex what {@code stateMachine} already reflects (0 for one in memory)
   */
  public record GroupSpec(Config config, Membership voters, StateMachine stateMachine,
      long appliedIndex) {
    public long id() {
      return config.group();
    }
  }

  /**
   * What a host may watch as the node works: the simulator's oracles and coverage marks. Every
   * method is called on the loop, in the order things happen; the defaults do nothing.
   */
  public interface Observer {
    /** A group was recovered from storage (before its state machine is restored). */
    default void recovered(long group, NodeStorage.RecoveredGroup recovered) {}

    /** A group's part of a Ready was persisted (not yet synced). */
    default void persisted(long group, Ready ready) {}

    /** Everything persisted so far is durable. */
    default void synced() {}

    /** A snapshot received from the leader was restored into the state machine. */
    default void restored(long group, Snapshot snapshot) {}

    /** A committed entry was applied ({@code result} null for no-ops and configurations). */
    default void applied(long group, Entry entry, byte[] result) {}

    /** A linearizable read had to wait for this replica to apply up to its read index. */
    default void readWaitedForApply(long group) {}

    /** This node took a snapshot of its own state machine (and compacted its log). */
    default void snapshotTaken(long group, Snapshot snapshot) {}
  }

  /**
   * One round of the Ready contract, between {@link #persist()} and {@link #finish}.
   *
   * @param early messages the host may send before the sync completes
   * @param held messages the host sends once it has
   */
  public record Round(RaftHost.Batch batch, boolean mustSync, List<Message> early,
      List<Message> held) {}

  private final long nodeId;
  private final NodeStorage storage;
  private final NodeRunner.SnapshotPolicy snapshots;
  private final boolean earlyReplication;
  private final Observer observer;
  private final RaftHost host;
  /** By group id, iterated in id order; touched only by the loop. */
  private final TreeMap<Long, Replica> replicas = new TreeMap<>();
  /**
   * An immutable copy of {@link #replicas}, replaced whenever a group starts or stops: other
   * threads read status and membership through it while the loop changes the groups.
   */
  private volatile Map<Long, Replica> published = Map.of();

  private Node(long nodeId, NodeStorage storage, NodeRunner.SnapshotPolicy snapshots,
      boolean earlyReplication, Observer observer) {
    this.nodeId = nodeId;
    this.storage = storage;
    this.snapshots = snapshots;
    this.earlyReplication = earlyReplication;
    this.observer = observer;
    this.host = new RaftHost(nodeId);
  }

  /**
   * Recovers every group from {@code storage} and makes what recovery wrote durable. {@code
   * seed} draws each group's election jitter (a real node passes a random one, the simulator
   * its seed's).
   *
   * @param earlyReplication whether a leader's replication may leave before its own fsync
   *     (thesis §10.2.1; {@link Ready#maySendBeforeSync})
   */
  public static Node recover(long nodeId, NodeStorage storage, List<GroupSpec> groups,
      NodeRunner.SnapshotPolicy snapshots, boolean earlyReplication, long seed,
      Observer observer) throws IOException {
    Node node = new Node(nodeId, storage, snapshots, earlyReplication, observer);
    List<GroupSpec> sorted = new ArrayList<>(groups);
    sorted.sort((a, b) -> Long.compare(a.id(), b.id()));
    for (GroupSpec g : sorted) {
      if (g.config().id() != nodeId) {
        throw new IllegalArgumentException("group " + g.id() + " is configured for node "
            + g.config().id());
      }
      if (node.replicas.containsKey(g.id())) {
        throw new IllegalArgumentException("group " + g.id() + " listed twice");
      }
      long groupSeed = seed ^ (g.id() * 0x9E3779B97F4A7C15L);
      node.replicas.put(g.id(), Replica.recover(g, node.host, storage, groupSeed, observer));
    }
    node.published = Map.copyOf(node.replicas);
    storage.sync(); // what recovery wrote, before the node says anything
    return node;
  }

  // ---------------------------------------------------------------- groups at runtime

  /**
   * Starts hosting {@code g} while the node runs: a group new to this node (an empty log that
   * begins with {@code g.voters()}), or one whose replica was stopped ({@link #stopGroup}),
   * which resumes from its log as it left it (and its newest snapshot, if {@code g}'s state
   * machine lags behind that). Call it between rounds. What recovery wrote is synced before
   * the replica says anything.
   */
  public void startGroup(GroupSpec g, long seed) throws IOException {
    if (g.config().id() != nodeId) {
      throw new IllegalArgumentException("group " + g.id() + " is configured for node "
          + g.config().id());
    }
    if (replicas.containsKey(g.id())) {
      throw new IllegalArgumentException("group " + g.id() + " is already running");
    }
    replicas.put(g.id(), Replica.recover(g, host, storage, seed, observer));
    published = Map.copyOf(replicas);
    storage.sync();
  }

  /**
   * Stops this node's replica of {@code group}, keeping its data (WAL records, snapshots) for
   * a later {@link #startGroup}; the state machine is the caller's to close. What the replica
   * was doing ends here, between rounds: requests waiting on it fail with {@code SHUTDOWN}
   * (a proposal may still commit on the other replicas), a snapshot it was receiving in
   * chunks is dropped with its core (the leader starts over when it hears from the replica
   * again), a snapshot it was streaming to a follower stops, and messages for it are counted
   * and dropped as for any group this node does not run.
   */
  public void stopGroup(long group, String why) {
    Replica r = replica(group, null);
    r.shutDown(why);
    host.removeGroup(group);
    storage.detach(group);
    replicas.remove(group);
    published = Map.copyOf(replicas);
  }

  /**
   * Says that {@link #stopGroup} will follow for {@code group}, from any thread, so that a
   * snapshot the loop is saving for it now is abandoned at its next chunk instead of delaying
   * the stop (dragonboat closes a stop channel for this). Nothing of an abandoned save stays on
   * disk; the group's previous snapshot and log are untouched. No effect on a group not run here.
   */
  public void requestStop(long group) {
    Replica r = published.get(group);
    if (r != null) {
      r.requestStop();
    }
  }

  public long id() {
    return nodeId;
  }

  // ---------------------------------------------------------------- input

  /** One tick of the node's clock; requests past their deadline fail. */
  public void tick(long nowNanos) {
    host.tick();
    for (Replica r : replicas.values()) {
      r.expire(nowNanos);
    }
  }

  /** A message from a peer (one for a group this node does not run is counted and dropped). */
  public void step(Message message) {
    host.step(message);
  }

  /**
   * Proposes {@code command} to {@code group}. Returns the core's answer; {@code future}
   * completes exactly once: with the state machine's result when the command applies at the
   * index and term of {@link ProposeResult.Accepted}, or with a {@link ProposalException}.
   */
  public ProposeResult propose(long group, byte[] command, CompletableFuture<byte[]> future,
      long deadlineNanos) {
    return replica(group, future).propose(command, future, deadlineNanos);
  }

  /**
   * A linearizable read of {@code group} (ReadIndex). {@code future} completes with the read
   * index once this node's state machine reflects it, on the loop: a dependent stage run
   * synchronously reads the state machine while nothing else applies to it.
   */
  public ProposeResult readIndex(long group, CompletableFuture<Long> future,
      long deadlineNanos) {
    return replica(group, future).read(future, deadlineNanos);
  }

  /** Changes the membership of {@code group} by one step; completes when the change applies. */
  public ProposeResult changeMembership(long group, MembershipChange change,
      CompletableFuture<byte[]> future, long deadlineNanos) {
    return replica(group, future).changeMembership(change, future, deadlineNanos);
  }

  /** Hands {@code group}'s leadership to {@code target}; completes when the target leads. */
  public ProposeResult transferLeadership(long group, long target,
      CompletableFuture<Void> future, long deadlineNanos) {
    return replica(group, future).transferLeadership(target, future, deadlineNanos);
  }

  /**
   * Takes a snapshot of {@code group} now (unless nothing was applied since the last one) and
   * compacts its log behind it as the policy says. Returns the latest snapshot's index. Call it
   * between rounds.
   */
  public long snapshot(long group) throws IOException {
    return replica(group, null).maybeSnapshot(snapshots, storage, true);
  }

  // ---------------------------------------------------------------- the Ready contract

  public boolean hasReady() {
    return host.hasReady() || storage.failed();
  }

  /**
   * Steps 1-2: persists every group's part of the next Ready (not synced). Throws, and the
   * node must stop, if a snapshot file failed while a step read it for a follower.
   */
  public Round persist() throws IOException {
    storage.checkChunkReads();
    RaftHost.Batch batch = host.ready();
    for (RaftHost.GroupReady g : batch.groups()) {
      storage.persist(g.group(), g.ready());
      observer.persisted(g.group(), g.ready());
    }
    if (!batch.mustSync()) {
      // Only a commit index moved: it may be written lazily, with the next sync.
      return new Round(batch, false, List.of(), batch.messages());
    }
    storage.flush(); // on its way to the disk while the early messages go out
    return earlyReplication
        ? new Round(batch, true, batch.messages(true), batch.messages(false))
        : new Round(batch, true, List.of(), batch.messages());
  }

  /** Step 3: one fsync for every group and every proposal of the round. */
  public void sync() throws IOException {
    storage.sync();
    observer.synced();
  }

  /** Steps 4-5, after the held messages were sent: apply, settle, advance, snapshot. */
  public void finish(Round round) throws IOException {
    List<Replica> ready = new ArrayList<>(round.batch().groups().size());
    for (RaftHost.GroupReady g : round.batch().groups()) {
      Replica r = replicas.get(g.group());
      r.apply(g.ready(), storage);
      ready.add(r);
    }
    host.advance(round.batch());
    for (Replica r : ready) {
      r.publish();
      r.maybeSnapshot(snapshots, storage, false);
    }
  }

  // ---------------------------------------------------------------- observation

  /** The status of {@code group} as of the last round finished. */
  public Status status(long group) {
    return replica(group, null).status;
  }

  /** The membership of {@code group} in force as of the last round finished. */
  public Membership membership(long group) {
    return replica(group, null).membership;
  }

  /** The core's membership of {@code group} right now; on the node's loop only. */
  public Membership membershipNow(long group) {
    return replica(group, null).node.membership();
  }

  /** The core's status of {@code group} right now; on the node's loop only. */
  public Status statusNow(long group) {
    return replica(group, null).node.status();
  }

  /** Coverage marks the core counted in {@code group}. */
  public io.detraft.core.Coverage coverage(long group) {
    return replica(group, null).node.coverage();
  }

  /** Whether this node runs {@code group}. */
  public boolean hosts(long group) {
    return published.containsKey(group);
  }

  /** The groups this node runs, in id order (any thread). */
  public List<Long> groupIds() {
    return published.keySet().stream().sorted().toList();
  }

  long snapshotsTaken(long group) {
    return replica(group, null).snapshotsTaken;
  }

  long snapshotsInstalled(long group) {
    return replica(group, null).snapshotsInstalled;
  }

  /** Snapshots of {@code group} abandoned because it was stopping. */
  public long snapshotsAbandoned(long group) {
    return replica(group, null).snapshotsAbandoned;
  }

  /** Fails every request still waiting: the node stops. */
  public void shutDown(String why) {
    for (Replica r : replicas.values()) {
      r.shutDown(why);
    }
  }

  /**
   * The group's replica; the caller checked {@link #hosts} for requests from outside. Read
   * through the published copy: status and membership are read from other threads.
   */
  private Replica replica(long group, CompletableFuture<?> future) {
    Replica r = published.get(group);
    if (r == null) {
      throw new IllegalArgumentException("no group " + group);
    }
    return r;
  }
}
