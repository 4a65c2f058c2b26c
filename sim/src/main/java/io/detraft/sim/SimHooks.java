package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.StateMachine;
import java.util.function.IntFunction;

/**
 * The parts of a host that tests may swap, kept apart from {@link SimOptions} because they
 * are code, not seed-derived settings. The defaults are the correct host; the canary tests
 * plant broken parts here (a disk that loses fsynced data, a host that speaks before its
 * writes are durable) and check that the simulator catches them.
 *
 * @param diskFactory builds each node's disk
 * @param earlySend says which messages the host may send before the Ready's fsync completes;
 *     a correct host sends none early (the Ready contract)
 * @param stateMachineFactory builds a fresh state machine for a node incarnation; it must
 *     understand the workload's commands (the KV workload needs {@link KvStateMachine})
 * @param durabilityOracles whether restarts check the host's durability promises (fsynced
 *     commit kept, nothing said forgotten). On by default; the canary tests switch it off to
 *     show that the Raft-level oracles and the history checker catch the same bugs unaided
 */
public record SimHooks(Disk.Factory diskFactory, EarlySend earlySend,
    IntFunction<StateMachine> stateMachineFactory, boolean durabilityOracles) {

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
        node -> new KvStateMachine(), true);
  }

  public SimHooks withDiskFactory(Disk.Factory value) {
    return new SimHooks(value, earlySend, stateMachineFactory, durabilityOracles);
  }

  public SimHooks withEarlySend(EarlySend value) {
    return new SimHooks(diskFactory, value, stateMachineFactory, durabilityOracles);
  }

  public SimHooks withStateMachineFactory(IntFunction<StateMachine> value) {
    return new SimHooks(diskFactory, earlySend, value, durabilityOracles);
  }

  public SimHooks withDurabilityOracles(boolean value) {
    return new SimHooks(diskFactory, earlySend, stateMachineFactory, value);
  }
}
