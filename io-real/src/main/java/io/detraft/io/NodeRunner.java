package io.detraft.io;

import io.detraft.core.Config;
import io.detraft.core.Membership;
import io.detraft.core.Message;
import io.detraft.core.RawNode;
import io.detraft.core.Ready;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import io.detraft.io.ProposalException.Reason;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Hosts one node's Raft groups on real disks and sockets. One thread owns every group and runs
 * the Ready loop:
 *
 * <ol>
 *   <li>turn wall time into ticks, step every queued inbound message, propose every queued
 *       command (draining everything first is what lets one fsync cover many proposals);
 *   <li>collect the Ready of every group, append all of them to the one {@link WriteAheadLog}
 *       and fsync once if any of them must be durable (group commit across groups);
 *   <li>send their messages, apply their committed entries (completing proposals), advance.
 * </ol>
 *
 * <p>Other threads only enqueue (bounded queues) and read published status. Proposal futures
 * complete on the Raft thread: dependent actions that are not quick belong in an
 * {@code *Async} stage. A failure of the disk or of a state machine stops the runner
 * (fail-stop): continuing after a failed fsync could acknowledge what is not durable.
 */
public final class NodeRunner implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NodeRunner.class.getName());

  /**
   * @param nodeId this node
   * @param dataDir where the write-ahead log lives
   * @param tick the wall time of one Raft tick
   * @param electionTicks base election timeout in ticks (randomized up to twice that)
   * @param heartbeatTicks leader heartbeat interval in ticks
   * @param proposalTimeout how long a proposal may wait to apply before failing
   * @param maxQueuedProposals proposals queued for the Raft thread before OVERLOADED
   * @param maxQueuedMessages inbound messages queued before new ones are dropped
   * @param maxProposalBytes the largest command accepted
   * @param wal write-ahead-log options
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
      WriteAheadLog.Options wal) {

    public Options {
      if (nodeId <= 0 || dataDir == null || tick.isNegative() || tick.isZero()
          || maxQueuedProposals < 1 || maxQueuedMessages < 1 || maxProposalBytes < 1
          || maxProposalBytes > wal.segmentBytes() / 2 - 128) {
        throw new IllegalArgumentException("invalid runner options: " + this);
      }
    }

    /** 10 ms ticks, elections after 200-400 ms, heartbeats every 30 ms, 5 s proposals. */
    public static Options defaults(long nodeId, Path dataDir) {
      return new Options(nodeId, dataDir, Duration.ofMillis(10), 20, 3, Duration.ofSeconds(5),
          65_536, 65_536, 1 << 20, WriteAheadLog.Options.defaults());
    }

    public Options withTiming(Duration tick, int electionTicks, int heartbeatTicks) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal);
    }

    /** Other WAL options, with the largest command they allow (a record is half a segment). */
    public Options withStorage(WriteAheadLog.Options wal, int maxProposalBytes) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal);
    }

    public Options withProposalTimeout(Duration proposalTimeout) {
      return new Options(nodeId, dataDir, tick, electionTicks, heartbeatTicks, proposalTimeout,
          maxQueuedProposals, maxQueuedMessages, maxProposalBytes, wal);
    }
  }

  /**
   * A group to host.
   *
   * @param appliedIndex what {@code stateMachine} already reflects (0 for an in-memory one)
   */
  public record Group(long id, Membership voters, StateMachine stateMachine, long appliedIndex) {
    public static Group of(long id, Membership voters, StateMachine stateMachine) {
      return new Group(id, voters, stateMachine, 0);
    }
  }

  /** A command on its way to the Raft thread. */
  private record Proposal(long group, byte[] command, CompletableFuture<byte[]> future) {}

  private final Options options;
  private final TcpTransport transport;
  private final WriteAheadLog wal;
  /** In group-id order: one Ready batch visits groups in a stable order. */
  private final List<Replica> replicas = new ArrayList<>();
  private final Map<Long, Replica> byGroup = new HashMap<>();
  private final ArrayBlockingQueue<Message> inbox;
  private final ArrayBlockingQueue<Proposal> proposals;
  private final Thread thread;
  private final long tickNanos;
  private volatile boolean running = true;
  /** The Raft thread is about to park or parked: producers must unpark it. */
  private volatile boolean sleeping;
  private volatile Throwable failure;

  private NodeRunner(Options options, TcpTransport transport, WriteAheadLog wal,
      List<Group> groups) {
    this.options = options;
    this.transport = transport;
    this.wal = wal;
    this.inbox = new ArrayBlockingQueue<>(options.maxQueuedMessages());
    this.proposals = new ArrayBlockingQueue<>(options.maxQueuedProposals());
    this.tickNanos = options.tick().toNanos();
    List<Group> sorted = new ArrayList<>(groups);
    sorted.sort((a, b) -> Long.compare(a.id(), b.id()));
    for (Group g : sorted) {
      Config config = Config.defaults(options.nodeId()).withGroup(g.id())
          .withTimeouts(options.electionTicks(), options.heartbeatTicks())
          .withForwardProposals(false); // answer "not leader" so every future has an outcome
      GroupLog log = new GroupLog(g.voters(), wal.recovered().get(g.id()));
      RawNode node = new RawNode(config, log, ThreadLocalRandom.current().nextLong(),
          g.appliedIndex());
      Replica replica = new Replica(g.id(), node, log, g.stateMachine());
      if (byGroup.put(g.id(), replica) != null) {
        throw new IllegalArgumentException("group " + g.id() + " listed twice");
      }
      replicas.add(replica);
    }
    this.thread = new Thread(this::loop, "detraft-raft-" + options.nodeId());
  }

  /**
   * Recovers the node from {@code options.dataDir()} and starts it. The runner owns
   * {@code transport} from here on (and closes it).
   *
   * @throws StorageCorruptionException if the WAL holds damage a crash cannot explain
   */
  public static NodeRunner start(Options options, TcpTransport transport, List<Group> groups)
      throws IOException {
    if (transport.options().nodeId() != options.nodeId()) {
      throw new IllegalArgumentException("transport is for node " + transport.options().nodeId());
    }
    WriteAheadLog wal;
    try {
      wal = WriteAheadLog.open(options.dataDir(), options.wal());
    } catch (IOException | RuntimeException e) {
      transport.close();
      throw e;
    }
    NodeRunner runner;
    try {
      runner = new NodeRunner(options, transport, wal, groups);
    } catch (RuntimeException e) {
      transport.close();
      wal.close();
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
    } else if (!running) {
      future.completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, "runner stopped"));
    } else if (!proposals.offer(new Proposal(group, command, future))) {
      future.completeExceptionally(new ProposalException(Reason.OVERLOADED, 0,
          options.maxQueuedProposals() + " proposals already queued"));
    } else if (running) {
      wake();
    } else {
      // Stopped while we queued: the Raft thread may have drained the queue for the last time.
      failQueuedProposals();
    }
    return future;
  }

  /** Proposes to the only group this runner hosts. */
  public CompletableFuture<byte[]> propose(byte[] command) {
    if (replicas.size() != 1) {
      throw new IllegalStateException("this runner hosts " + replicas.size() + " groups");
    }
    return propose(replicas.get(0).group, command);
  }

  /** The status of {@code group} as of the last Ready handled. */
  public Status status(long group) {
    Replica replica = byGroup.get(group);
    if (replica == null) {
      throw new IllegalArgumentException("no group " + group);
    }
    return replica.status;
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
    List<Proposal> commands = new ArrayList<>();
    long nextTick = System.nanoTime() + tickNanos;
    try {
      while (running) {
        long now = System.nanoTime();
        if (now - nextTick >= 0) {
          for (Replica r : replicas) {
            r.node.tick();
            r.expire(now);
          }
          // Missed ticks are dropped, not replayed in a burst that would fire elections.
          nextTick = now - nextTick >= tickNanos ? now + tickNanos : nextTick + tickNanos;
        }
        inbox.drainTo(messages);
        for (Message m : messages) {
          Replica r = byGroup.get(m.group());
          if (r != null) {
            r.node.step(m);
          }
        }
        messages.clear();
        proposals.drainTo(commands);
        long deadline = now + options.proposalTimeout().toNanos();
        for (Proposal p : commands) {
          Replica r = byGroup.get(p.group());
          if (r == null) {
            p.future().completeExceptionally(
                new ProposalException(Reason.UNKNOWN_GROUP, 0, "no group " + p.group()));
          } else {
            r.propose(p.command(), p.future(), deadline);
          }
        }
        commands.clear();
        if (!handleReadies()) {
          sleeping = true;
          if (inbox.isEmpty() && proposals.isEmpty() && running) {
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

  /** One pass of the Ready contract over every group; false if none had anything to do. */
  private boolean handleReadies() throws IOException {
    boolean any = false;
    boolean mustSync = false;
    for (Replica r : replicas) {
      if (!r.node.hasReady()) {
        continue;
      }
      Ready rd = r.node.ready();
      r.ready = rd;
      any = true;
      if (!rd.entries().isEmpty()) {
        wal.append(r.group, rd.entries());
        r.log.append(rd.entries());
      }
      if (rd.hardState() != null) {
        wal.saveHardState(r.group, rd.hardState());
        r.log.setHardState(rd.hardState());
      }
      mustSync |= rd.mustSync();
    }
    if (!any) {
      return false;
    }
    if (mustSync) {
      wal.sync(); // one fsync for every group and every proposal in this batch
    } // else only a commit index moved: it may be written lazily, with the next sync
    for (Replica r : replicas) {
      if (r.ready != null) {
        for (Message m : r.ready.messages()) {
          transport.send(m);
        }
      }
    }
    for (Replica r : replicas) {
      if (r.ready != null) {
        r.apply(r.ready);
        r.node.advance(r.ready);
        r.ready = null;
        r.status = r.node.status();
      }
    }
    return true;
  }

  private void failQueuedProposals() {
    for (Proposal p; (p = proposals.poll()) != null; ) {
      p.future().completeExceptionally(new ProposalException(Reason.SHUTDOWN, 0, "stopped"));
    }
  }

  private void shutDown() {
    failQueuedProposals();
    for (Replica r : replicas) {
      r.failAll(Reason.SHUTDOWN, 0, "node " + options.nodeId() + " stopped");
    }
    transport.close();
    try {
      wal.close();
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      }
      LOG.log(System.Logger.Level.ERROR, "closing the WAL failed: " + e, e);
    }
  }
}
