package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.PlantedBug;
import io.detraft.core.SessionStateMachine;
import io.detraft.core.StateMachine;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * The parts of a host that tests may swap, kept apart from {@link SimOptions} because they
 * are code, not seed-derived settings. The defaults are the correct host; the canary tests
 * plant broken parts here (a disk that loses fsynced data, a host that speaks before its
 * writes are durable, a host that reads without ReadIndex or runs read-only transactions off
 * the log, a host whose sessions apply a retried command again) and check that the simulator
 * catches them.
 *
 * @param diskFactory builds each node's disk (under the node's real WAL and snapshot store)
 * @param earlySend says which messages the host may send before the Ready's fsync completes;
 *     a correct host sends none early (the Ready contract)
 * @param stateMachineFactory builds a fresh state machine for a node incarnation (and the
 *     oracles' reference); it must understand the workload's commands (the KV workload needs
 *     {@link KvStateMachine}, its list-append clients the {@link ListTxn} command too). The
 *     host wraps it in exactly-once sessions (unless {@code sessionsInStateMachine}) and
 *     serves reads by running a get on it directly
 * @param promiseOracles whether the oracles that judge the host's promises where they are
 *     relied on run: at a restart, the durability promises (fsynced commit kept, nothing said
 *     forgotten); at the moment a read is served, its freshness. On by default; tests switch it
 *     off to show that the Raft-level oracles and the history checkers catch the same bugs
 *     unaided
 * @param staleReads a planted bug: the host answers gets from its local state machine at once,
 *     without ReadIndex; the history checker must catch the stale reads
 * @param staleTxnReads a planted bug: the host answers read-only transactions from its local
 *     state machine at once, off the log; the strict-serializability check must catch them
 * @param reapplyRetries a planted bug: the host's exactly-once sessions are broken, a command
 *     that repeats its client's last sequence number (a retry that reached the log twice) is
 *     answered from the session table but applied to the state machine again
 * @param sessionsInStateMachine whether the state machine keeps the exactly-once sessions
 *     itself (off by default). An application whose session table lives in its own store
 *     (kv-app's) must be tested with that table, not with the host's: then the host, and the
 *     oracles' reference, do not wrap the machine in {@link SessionStateMachine} but hand it
 *     the session envelopes as they are in the log (register, command, unsessioned) and
 *     expect results in SessionStateMachine's format, byte for byte (status byte, payload),
 *     because the clients and the host decode them with its helpers. Reads are then served by
 *     applying {@code unsessioned(get)} at the applied index, which must change nothing. A
 *     machine that also implements {@link ExpiredSessions} feeds {@link
 *     SimMark#SESSION_EXPIRED}
 * @param nodeBugs bugs planted in the node's storage and Ready loop (canaries); none by default
 * @param coreBugs bugs planted in the core's Raft rules ({@link PlantedBug}, through {@link
 *     io.detraft.core.Config#withPlantedBug}); none by default
 */
public record SimHooks(DiskFactory diskFactory, EarlySend earlySend,
    IntFunction<StateMachine> stateMachineFactory, boolean promiseOracles,
    boolean staleReads, boolean staleTxnReads, boolean reapplyRetries,
    boolean sessionsInStateMachine, Set<NodeBug> nodeBugs, Set<PlantedBug> coreBugs) {

  /** A bug planted in the node layer, to show the simulator catches it (test scope only). */
  public enum NodeBug {
    /** WAL recovery keeps a torn last record and appends after it. */
    KEEP_TORN_TAIL,
    /**
     * WAL recovery cuts off any damage in the last batch as if a crash had torn it, even a
     * batch that reached the disk whole (and may have been acknowledged) before a bit flipped.
     */
    CUT_DAMAGED_LAST_BATCH,
    /** Creations and renames (segment rotation, snapshot files) never get a directory fsync. */
    SKIP_DIRECTORY_SYNC,
    /**
     * A file is renamed into place (a snapshot from its {@code .tmp}, a new segment from the
     * pre-allocated spare) without the fsync of its own bytes first: a crash can leave the new
     * name on a file whose content never reached the disk.
     */
    SKIP_FSYNC_BEFORE_RENAME,
    /**
     * The node applies a round's committed entries and advances before that round's fsync
     * completes (its messages still wait): a lone voter then answers clients for entries that
     * are durable nowhere.
     */
    APPLY_BEFORE_SYNC,
    /**
     * The host stops a group without first telling the node ({@code Node.requestStop}): a
     * snapshot asked for meanwhile is saved in full, delaying the stop.
     */
    STOP_NOT_REQUESTED,
    /**
     * After an fsync fails, the node retries it (which succeeds: the page cache called the
     * lost writes clean) and goes on, instead of stopping.
     */
    RETRY_FAILED_FSYNC,
    /**
     * The host's exactly-once sessions drop each client's first command: answered "done"
     * (OK, nothing) without running it.
     */
    SESSION_DROPS_FIRST_COMMAND
  }

  public boolean has(NodeBug bug) {
    return nodeBugs.contains(bug);
  }

  /** Creates a node's disk. */
  @FunctionalInterface
  public interface DiskFactory {
    SimDisk create(int node, SimOptions.DiskOptions options, SimRandom random);
  }

  /**
   * A state machine that keeps its own sessions ({@link #sessionsInStateMachine}) reports
   * how many it expired, as {@link SessionStateMachine#expiredCount()} does for the host's.
   */
  public interface ExpiredSessions {
    /** Sessions expired so far by this instance (restores do not reset it). */
    long expiredSessions();
  }

  /**
   * A persisting state machine ({@link SimOptions.DiskOptions#stateMachinePersists}) that
   * keeps its state in a store of its own: after a crash it reopens that store, as a restarted
   * process does, and forgets whatever it held in memory only.
   */
  public interface ReopensAfterCrash {
    /** Reopens the store; returns the applied index it resumes from. */
    long reopen();
  }

  /** Decides whether a message may leave before the writes of its Ready are durable. */
  @FunctionalInterface
  public interface EarlySend {
    boolean beforeSync(Message message);
  }

  /** The correct rule: no message leaves before its Ready's writes are durable. */
  public static final EarlySend NEVER = message -> false;

  /** The correct host: the simulated disk, nothing sent before fsync, the KV state machine. */
  public static SimHooks defaults() {
    return new SimHooks((node, options, random) -> new SimDisk(options, random), NEVER,
        node -> new KvStateMachine(), true, false, false, false, false, Set.of(), Set.of());
  }

  public SimHooks withDiskFactory(DiskFactory value) {
    return new SimHooks(value, earlySend, stateMachineFactory, promiseOracles, staleReads,
        staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withEarlySend(EarlySend value) {
    return new SimHooks(diskFactory, value, stateMachineFactory, promiseOracles, staleReads,
        staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withStateMachineFactory(IntFunction<StateMachine> value) {
    return new SimHooks(diskFactory, earlySend, value, promiseOracles, staleReads,
        staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withPromiseOracles(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, value, staleReads,
        staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withStaleReads(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles, value,
        staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withStaleTxnReads(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles,
        staleReads, value, reapplyRetries, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withReapplyRetries(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles,
        staleReads, staleTxnReads, value, sessionsInStateMachine, nodeBugs, coreBugs);
  }

  public SimHooks withSessionsInStateMachine(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles,
        staleReads, staleTxnReads, reapplyRetries, value, nodeBugs, coreBugs);
  }

  public SimHooks withNodeBug(NodeBug bug) {
    EnumSet<NodeBug> bugs = EnumSet.of(bug);
    bugs.addAll(nodeBugs);
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles,
        staleReads, staleTxnReads, reapplyRetries, sessionsInStateMachine, Set.copyOf(bugs),
        coreBugs);
  }

  public SimHooks withCoreBug(PlantedBug bug) {
    EnumSet<PlantedBug> bugs = EnumSet.of(bug);
    bugs.addAll(coreBugs);
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, promiseOracles,
        staleReads, staleTxnReads, reapplyRetries, sessionsInStateMachine, nodeBugs,
        Set.copyOf(bugs));
  }
}
