package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.StateMachine;
import java.util.function.IntFunction;

/**
 * The parts of a host that tests may swap, kept apart from {@link SimOptions} because they
 * are code, not seed-derived settings. The defaults are the correct host; the canary tests
 * plant broken parts here (a disk that loses fsynced data, a host that speaks before its
 * writes are durable, a host that reads without ReadIndex or runs read-only transactions off
 * the log, a host whose sessions apply a retried command again) and check that the simulator
 * catches them.
 *
 * @param diskFactory builds each node's disk
 * @param earlySend says which messages the host may send before the Ready's fsync completes;
 *     a correct host sends none early (the Ready contract)
 * @param stateMachineFactory builds a fresh state machine for a node incarnation (and the
 *     oracles' reference); it must understand the workload's commands (the KV workload needs
 *     {@link KvStateMachine}, its list-append clients the {@link ListTxn} command too). The
 *     host wraps it in exactly-once sessions and serves reads by running a get on it directly
 * @param durabilityOracles whether restarts check the host's durability promises (fsynced
 *     commit kept, nothing said forgotten). On by default; the canary tests switch it off to
 *     show that the Raft-level oracles and the history checker catch the same bugs unaided
 * @param staleReads a planted bug: the host answers gets from its local state machine at once,
 *     without ReadIndex; the history checker must catch the stale reads
 * @param staleTxnReads a planted bug: the host answers read-only transactions from its local
 *     state machine at once, off the log; the strict-serializability check must catch them
 * @param reapplyRetries a planted bug: the host's exactly-once sessions are broken, a command
 *     that repeats its client's last sequence number (a retry that reached the log twice) is
 *     answered from the session table but applied to the state machine again
 */
public record SimHooks(Disk.Factory diskFactory, EarlySend earlySend,
    IntFunction<StateMachine> stateMachineFactory, boolean durabilityOracles,
    boolean staleReads, boolean staleTxnReads, boolean reapplyRetries) {

  /** Decides whether a message may leave before the writes of its Ready are durable. */
  @FunctionalInterface
  public interface EarlySend {
    boolean beforeSync(Message message);
  }

  /** The correct rule: no message leaves before its Ready's writes are durable. */
  public static final EarlySend NEVER = message -> false;

  /** The correct host: a buffered disk, nothing sent before fsync, the KV state machine. */
  public static SimHooks defaults() {
    return new SimHooks((node, options, random) -> new BufferedDisk(options, random), NEVER,
        node -> new KvStateMachine(), true, false, false, false);
  }

  public SimHooks withDiskFactory(Disk.Factory value) {
    return new SimHooks(value, earlySend, stateMachineFactory, durabilityOracles, staleReads,
        staleTxnReads, reapplyRetries);
  }

  public SimHooks withEarlySend(EarlySend value) {
    return new SimHooks(diskFactory, value, stateMachineFactory, durabilityOracles, staleReads,
        staleTxnReads, reapplyRetries);
  }

  public SimHooks withStateMachineFactory(IntFunction<StateMachine> value) {
    return new SimHooks(diskFactory, earlySend, value, durabilityOracles, staleReads,
        staleTxnReads, reapplyRetries);
  }

  public SimHooks withDurabilityOracles(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, value, staleReads,
        staleTxnReads, reapplyRetries);
  }

  public SimHooks withStaleReads(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, durabilityOracles, value,
        staleTxnReads, reapplyRetries);
  }

  public SimHooks withStaleTxnReads(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, durabilityOracles,
        staleReads, value, reapplyRetries);
  }

  public SimHooks withReapplyRetries(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, durabilityOracles,
        staleReads, staleTxnReads, value);
  }
}
