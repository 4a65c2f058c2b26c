package io.detraft.io;

import io.detraft.core.Config;
import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.Message;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import io.detraft.io.ProposalException.Reason;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one {@link Node} (the node layer the simulator runs too) on real disks and sockets:
 * one thread owns it and loops:
 *
 * <ol>
 *   <li>turn wall time into ticks, step every queued inbound message, hand every queued
 *       request to the node (draining everything first is what lets one fsync cover many
 *       proposals);
 *   <li>one round of the Ready contract ({@link Node#persist}, send its early messages, {@link
 *       Node#sync} on this thread, send the rest, {@link Node#finish}): a leader's replication
 *       leaves before the fsync, so that its disk and its followers' disks write in parallel.
 * </ol>
 *
 * <p>Other threads only enqueue (bounded queues) and read published status. Futures complete
 * on the Raft thread: dependent actions that are not quick belong in an {@code *Async} stage.
 * A failure of the disk or of a state machine stops the runner (fail-stop): continuing after
 * a failed fsync could acknowledge what is not durable.
 */
public final class NodeRunner implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NodeRunner.class.getName());

  /**
   * @param nodeId this node
   * @param dataDir where the write-ahead log and (in {@code snapshots/}) the snapshots live
   * @param tick the wall time of one Raft tick
   * @param electionTicks base election timeout in ticks (randomized up to twice that)
   * @param heartbeatTicks leader heartbeat interval in ticks
   * @param proposalTimeout how long a proposal, membership change or read may wait
   * @param maxQueuedProposals requests queued for the Raft thread before OVERLOADED
   * @param maxQueuedMessages inbound messages queued before new ones are dropped
   * @param maxProposalBytes the largest command accepted
   * @param wal write-ahead-log options
   * @param snapshots when to take snapshots and how much log to keep behind them
   * @param quiesceTicks idle groups go quiet (no heartbeats) after this many ticks; 0 never
   *     (see {@link Config#quiesceAfterTicks}): for hosts with many mostly idle groups
   */
  public record Options(
      long nodeId,
      Path dataDir,
      Duration tick,
      int electionTicks,
      int heartbeatTicks,
      Duration proposalTimeout,
      int maxQueuedProposals,
      int maxQueuedMessages,
      int maxProposalBytes,
      WriteAheadLog.Options wal,
      SnapshotPolicy snapshots,
      int quiesceTicks) {

    public Options {
      if (nodeId <= 0 || dataDir == null || tick.isNegative() || tick.isZero()
          || maxQueuedProposals < 1 || maxQueuedMessages < 1 || maxProposalBytes < 1
          || maxProposalBytes > wal.segmentBytes() / 2 - 128 || snapshots == null
          || quiesceTicks < 0) {
        throw new IllegalArgumentException("invalid runner options: " + this);
      }
    }

    /**
     * 10 ms ticks, elections after 200-400 ms, heartbeats every 30 ms, 5 s proposals, a
     * snapshot every 10,000 entries.
     */
    public static Options defaults(long nodeId, Path dataDir) {
      return new Options(nodeId, dataDir, Duration.ofMillis(10), 20, 3, Duration.ofSeconds(5),
          65_536, 65_536, 1 << 20, WriteAheadLog.Options.defaults(), SnapshotPolicy.defaults(),
          0);
    }

    public Options withTiming(Duration tick, int electionTicks, int heartbeatTicks) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal, snapshots, quiesceTicks);
    }

    /** Other WAL options, with the largest command they allow (a record is half a segment). */
    public Options withStorage(WriteAheadLog.Options wal, int maxProposalBytes) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal, snapshots, quiesceTicks);
    }

    public Options withProposalTimeout(Duration proposalTimeout) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal, snapshots, quiesceTicks);
    }

    /** Quiet idle groups after {@code electionTimeouts} election timeouts (0: never). */
    public Options withQuiesce(int electionTimeouts) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal, snapshots,
          electionTimeouts * electionTicks);
    }

    public Options withSnapshots(SnapshotPolicy snapshots) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal, snapshots, quiesceTicks);
    }
  }

  /**
   * @param intervalEntries take a snapshot once this many entries applied since the last one
   *     (0: only when {@link NodeRunner#snapshot} asks)
   * @param trailingEntries entries kept behind a snapshot, so that followers lagging by less
   *     catch up from the log instead of receiving a whole snapshot
   * @param filesKept snapshot files kept per group (the newest ones)
   */
  public record SnapshotPolicy(long intervalEntries, long trailingEntries, int filesKept) {
    public SnapshotPolicy {
      if (intervalEntries < 0 || trailingEntries < 0 || filesKept < 1) {
        throw new IllegalArgumentException("invalid snapshot policy: " + this);
      }
    }

    /** Every 10,000 entries, keeping 5,000 behind; two files per group. */
    public static SnapshotPolicy defaults() {
      return new SnapshotPolicy(10_000, 5_000, 2);
    }
  }

  /**
   * A group to host.
   *
   * @param voters the membership the group was bootstrapped with (the log and snapshots
   *     record every later change); a node joining an existing group passes the current
   *     voters, which do not include it, and waits to be added
   * @param appliedIndex what {@code stateMachine} already reflects (0 for an in-memory one);
   *     if the newest snapshot is newer, the state machine is restored from it. It may be
   *     ahead of the commit index the log recorded durably (a state machine that persists
   *     itself may have applied entries before their commit index reached the disk): entries
   *     up to it count as committed, and only later ones are applied
   */
  public record Group(long id, Membership voters, StateMachine stateMachine, long appliedIndex) {
    public static Group of(long id, Membership voters, StateMachine stateMachine) {
      return new Group(id, voters, stateMachine, 0);
    }
  }

  /** What a request does on the Raft thread, given the node. */
  @FunctionalInterface
  private interface Action {
    void run(Node node, long deadlineNanos) throws IOException;
  }

  /**
   * A request on its way to the Raft thread; {@code starts} for the one request that is for a
   * group the node does not run yet.
   */
  private record Request(long group, CompletableFuture<?> future, Action action,
      boolean starts) {
    Request(long group, CompletableFuture<?> future, Action action) {
      this(group, future, action, false);
    }
  }

  private final Options options;
  private final TcpTransport transport;
  private final NodeStorage storage;
  /** The node's logic (shared with the simulator); touched only by the Raft thread. */
  private final Node node;
  private final ArrayBlockingQueue<Message> inbox;
  private final ArrayBlockingQueue<Request> requests;
  private final Thread thread;
  /** Closed after the storage: it owns the WAL's pre-allocation thread. */
  private RealDisk disk;
  private final long tickNanos;
  private volatile boolean running = true;
  /** The Raft thread is about to park or parked: producers must unpark it. */
  private volatile boolean sleeping;
  private volatile Throwable failure;

  private NodeRunner(Options options, TcpTransport transport, NodeStorage storage,
      List<Group> groups) throws IOException {
    this.options = options;
    this.transport = transport;
    this.storage = storage;
    this.inbox = new ArrayBlockingQueue<>(options.maxQueuedMessages());
    this.requests = new ArrayBlockingQueue<>(options.maxQueuedProposals());
    this.tickNanos = options.tick().toNanos();
    List<Node.GroupSpec> specs = new ArrayList<>();
    for (Group g : groups) {
      specs.add(spec(options, g));
    }
    this.node = Node.recover(options.nodeId(), storage, specs, options.snapshots(), true,
        ThreadLocalRandom.current().nextLong(), new Node.Observer() {});
    this.thread = new Thread(this::loop, "detraft-raft-" + options.nodeId());
  }

  private static Node.GroupSpec spec(Options options, Group g) {
    Config config = Config.defaults(options.nodeId()).withGroup(g.id())
        .withTimeouts(options.electionTicks(), options.heartbeatTicks())
        .withForwardProposals(false) // answer "not leader" so every future has an outcome
        .withQuiesce(options.quiesceTicks());
    return new Node.GroupSpec(config, g.voters(), g.stateMachine(), g.appliedIndex());
  }

  /**
   * Recovers the node from {@code options.dataDir()} and starts it. The runner owns
   * {@code transport} from here on (and closes it).
   *
   * @throws StorageCorruptionException if the WAL or a group's newest snapshot holds damage
   *     a crash cannot explain; the message names the file
   */
  public static NodeRunner start(Options options, TcpTransport transport, List<Group> groups)
      throws IOException {
    if (transport.options().nodeId() != options.nodeId()) {
      throw new IllegalArgumentException("transport is for node " + transport.options().nodeId());
    }
    RealDisk disk = new RealDisk();
    NodeStorage storage;
    try {
      storage = NodeStorage.open(disk, options.dataDir(), options.wal(),
          options.snapshots().filesKept());
    } catch (IOException | RuntimeException e) {
      transport.close();
      disk.close();
      throw e;
    }
    NodeRunner runner;
    try {
      runner = new NodeRunner(options, transport, storage, groups);
      runner.disk = disk;
    } catch (IOException | RuntimeException e) {
      transport.close();
      storage.close();
      disk.close();
      throw e;
    }
    transport.start(runner::deliver);
    runner.thread.start();
    return runner;
  }

  /**
   * Proposes {@code command} to {@code group}. The future completes exactly once: with the
   * state machine's result when the command applies, or with a {@link ProposalException}.
   */
  public CompletableFuture<byte[]> propose(long group, byte[] command) {
    if (command == null || command.length == 0) {
      // An empty entry is a leader's no-op; a command must say something.
      throw new IllegalArgumentException("a command must not be empty");
    }
    CompletableFuture<byte[]> future = new CompletableFuture<>();
    if (command.length > options.maxProposalBytes()) {
      future.completeExceptionally(new ProposalException(Reason.TOO_LARGE, 0,
          command.length + " bytes, the limit is " + options.maxProposalBytes()));
      return future;
    }
    return submit(group, future, (n, deadline) -> n.propose(group, command, future, deadline));
  }

  /** Proposes to the only group this runner hosts. */
  public CompletableFuture<byte[]> propose(byte[] command) {
    List<Long> groupIds = node.groupIds();
    if (groupIds.size() != 1) {
      throw new IllegalStateException("this runner hosts " + groupIds.size() + " groups");
    }
    return propose(groupIds.get(0), command);
  }

  /**
   * Starts a replica of {@code group} on this running node (see {@link Node#startGroup}): a
   * group new to this node, bootstrapped with {@code group.voters()} (every node that starts
   * it must pass the same), or one stopped earlier, which resumes from its data. Completes
   * once the replica runs; fails with REJECTED if it already does.
   */
  public CompletableFuture<Void> startGroup(Group group) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    Request request = new Request(group.id(), future, (n, deadline) -> {
      n.startGroup(spec(options, group), ThreadLocalRandom.current().nextLong());
      future.complete(null);
    }, true);
    return submit(request);
  }

  /**
   * Stops this node's replica of {@code group}, keeping its data for a later {@link
   * #startGroup} (see {@link Node#stopGroup}): its waiting requests fail with SHUTDOWN, and
   * once the future completes nothing applies to its state machine any more, which the caller
   * may then close. Fails with UNKNOWN_GROUP if the group does not run here.
   */
  public CompletableFuture<Void> stopGroup(long group) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    node.requestStop(group); // now, from this thread: a snapshot being saved gives up
    return submit(new Request(group, future, (n, deadline) -> {
      n.stopGroup(group, "group " + group + " stopped on node " + options.nodeId());
      future.complete(null);
    }));
  }

  /** The groups this node runs now, in id order. */
  public List<Long> groups() {
    return node.groupIds();
  }

  /**
   * A linearizable read of {@code group} (ReadIndex), on the leader or a follower. The future
   * completes exactly once: with the read index, once this node's state machine reflects at
   * least that index, so a read of the state machine that follows sees every write that
   * completed before this call; or with a {@link ProposalException} (NOT_LEADER when no
   * leader is known, LEADERSHIP_LOST, TIMEOUT; a read is always safe to retry). It completes
   * on the Raft thread: a dependent stage run synchronously reads the state machine while
   * nothing else applies to it.
   */
  public CompletableFuture<Long> readIndex(long group) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    return submit(group, future, (n, deadline) -> n.readIndex(group, future, deadline));
  }

  /**
   * Changes the membership of {@code group} by one step (on the leader). The future completes
   * when the change's CONFIG_CHANGE entry applies here, or fails: NOT_LEADER, REJECTED with
   * the leader's reason (e.g. another change not yet committed, a learner not caught up), or
   * as a proposal does. The transport must know an added node's address (see
   * {@link TcpTransport#setPeer}) before the change, so that the leader can reach it.
   */
  public CompletableFuture<Void> changeMembership(long group, MembershipChange change) {
    CompletableFuture<byte[]> applied = new CompletableFuture<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    applied.whenComplete((result, error) -> { // not thenApply: that would wrap the error
      if (error != null) {
        done.completeExceptionally(error);
      } else {
        done.complete(null);
      }
    });
    submit(group, applied,
        (n, deadline) -> n.changeMembership(group, change, applied, deadline));
    return done;
  }

  /**
   * Hands the leadership of {@code group} from this node to {@code target}. The future
   * completes when this node sees {@code target} lead, or fails: NOT_LEADER, REJECTED (not a
   * voter, already leader), LEADERSHIP_LOST (another node took over) or TIMEOUT (the core
   * abandons a transfer after an election timeout).
   */
  public CompletableFuture<Void> transferLeadership(long group, long target) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    long timeout = Math.min(options.proposalTimeout().toNanos(),
        4L * options.electionTicks() * tickNanos);
    return submit(group, future, (n, deadline) -> n.transferLeadership(group, target, future,
        System.nanoTime() + timeout));
  }

  /**
   * Takes a snapshot of {@code group} now (unless nothing was applied since the last one) and
   * compacts its log behind it as the policy says. Completes with the latest snapshot's index.
   */
  public CompletableFuture<Long> snapshot(long group) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    return submit(group, future, (n, deadline) -> {
      long abandoned = n.snapshotsAbandoned(group);
      long index = n.snapshot(group);
      if (n.snapshotsAbandoned(group) != abandoned) {
        future.completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, "the snapshot"
            + " of group " + group + " was abandoned: the group is stopping"));
      } else {
        future.complete(index);
      }
    });
  }

  /**
   * Takes a snapshot of {@code group} now (as {@link #snapshot}) and completes with the file of
   * the newest snapshot this node holds, open (null if the group never applied anything): what
   * a disaster recovery export copies out, streamed. The receiver closes it; if the future
   * completes after its receiver gave up, the file stays open until the collector finds it
   * (rare: an export whose caller went away).
   */
  public CompletableFuture<NodeStorage.StoredSnapshotFile> exportSnapshot(long group) {
    CompletableFuture<NodeStorage.StoredSnapshotFile> future = new CompletableFuture<>();
    return submit(group, future, (n, deadline) -> {
      n.snapshot(group);
      future.complete(storage.openLatestSnapshotFile(group));
    });
  }

  /** The status of {@code group} as of the last Ready handled. */
  public Status status(long group) {
    return node.status(group);
  }

  /** The membership of {@code group} in force as of the last Ready handled. */
  public Membership membership(long group) {
    return node.membership(group);
  }

  /** The fsyncs of this node's WAL and snapshots so far, for a metrics page. */
  public RealDisk.Syncs syncs() {
    return disk.syncs();
  }

  /** Why the runner stopped by itself, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure);
  }

  public boolean isRunning() {
    return running && thread.isAlive();
  }

  /**
   * Stops the Raft thread after its current batch, fails what is still waiting, closes the
   * transport and syncs and closes the WAL.
   */
  @Override
  public void close() {
    running = false;
    if (Thread.currentThread() == thread) {
      return; // called from a future's callback: the loop ends when that callback returns
    }
    LockSupport.unpark(thread);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Snapshots taken by this node and received from leaders, for tests. */
  long snapshotsTaken(long group) {
    return node.snapshotsTaken(group);
  }

  long snapshotsInstalled(long group) {
    return node.snapshotsInstalled(group);
  }

  private <T extends CompletableFuture<?>> T submit(long group, T future, Action action) {
    return submit(new Request(group, future, action));
  }

  @SuppressWarnings("unchecked")
  private <T extends CompletableFuture<?>> T submit(Request request) {
    T future = (T) request.future();
    if (!running) {
      future.completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, "runner stopped"));
    } else if (!requests.offer(request)) {
      future.completeExceptionally(new ProposalException(Reason.OVERLOADED, 0,
          options.maxQueuedProposals() + " requests already queued"));
    } else if (running) {
      wake();
    } else {
      // Stopped while we queued: the Raft thread may have drained the queue for the last time.
      failQueuedRequests();
    }
    return future;
  }

  // ------------------------------------------------------------------ the Raft thread

  private void deliver(Message message) {
    if (inbox.offer(message)) {
      wake();
    } // else dropped: the Raft thread is behind, and Raft will retry
  }

  private void wake() {
    if (sleeping) {
      LockSupport.unpark(thread);
    }
  }

  private void loop() {
    List<Message> messages = new ArrayList<>();
    List<Request> batch = new ArrayList<>();
    long nextTick = System.nanoTime() + tickNanos;
    try {
      while (running) {
        long now = System.nanoTime();
        if (now - nextTick >= 0) {
          node.tick(now);
          // Missed ticks are dropped, not replayed in a burst that would fire elections.
          nextTick = now - nextTick >= tickNanos ? now + tickNanos : nextTick + tickNanos;
        }
        inbox.drainTo(messages);
        for (Message m : messages) {
          node.step(m); // a message for a group we do not run is counted and dropped
        }
        messages.clear();
        requests.drainTo(batch);
        long deadline = now + options.proposalTimeout().toNanos();
        for (Request request : batch) {
          if (request.starts() && node.hosts(request.group())) {
            request.future().completeExceptionally(new ProposalException(Reason.REJECTED, 0,
                "group " + request.group() + " already runs on node " + options.nodeId()));
          } else if (!request.starts() && !node.hosts(request.group())) {
            request.future().completeExceptionally(new ProposalException(Reason.UNKNOWN_GROUP,
                0, "no group " + request.group() + " runs on node " + options.nodeId()));
          } else {
            try {
              request.action().run(node, deadline);
            } catch (IOException | RuntimeException e) {
              request.future().completeExceptionally(e);
              throw e; // fail-stop: the disk or the state machine failed
            }
          }
        }
        batch.clear();
        if (!handleReadies()) {
          sleeping = true;
          if (inbox.isEmpty() && requests.isEmpty() && running) {
            LockSupport.parkNanos(nextTick - System.nanoTime());
          }
          sleeping = false;
        }
      }
    } catch (Throwable t) {
      failure = t;
      running = false;
      LOG.log(System.Logger.Level.ERROR, "node " + options.nodeId() + " stopped: " + t, t);
    } finally {
      shutDown();
    }
  }

  /**
   * One round of the Ready contract over every group (see {@link Node}): the fsync runs here,
   * on the Raft thread; false if no group had anything to do.
   */
  private boolean handleReadies() throws IOException {
    if (!node.hasReady()) {
      return false;
    }
    Node.Round round = node.persist();
    // A leader's replication messages go out first, so followers write while we do
    // (Ready#maySendBeforeSync); every other message waits for the fsync.
    transport.send(round.early()); // one batch per peer, every group's messages in it
    if (round.mustSync()) {
      node.sync(); // one fsync for every group and every proposal in this round
    }
    transport.send(round.held());
    node.finish(round);
    return true;
  }

  private void failQueuedRequests() {
    for (Request r; (r = requests.poll()) != null; ) {
      r.future().completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, "stopped"));
    }
  }

  private void shutDown() {
    failQueuedRequests();
    node.shutDown("node " + options.nodeId() + " stopped");
    transport.close();
    try {
      storage.close();
      disk.close();
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      }
      LOG.log(System.Logger.Level.ERROR, "closing the WAL failed: " + e, e);
    }
  }
}
