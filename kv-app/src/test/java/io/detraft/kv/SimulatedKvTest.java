package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.sim.Marks;
import io.detraft.sim.SimHooks;
import io.detraft.sim.SimMark;
import io.detraft.sim.SimOptions;
import io.detraft.sim.SimResult;
import io.detraft.sim.Simulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same state machine the server runs, inside the deterministic simulator: every seed
 * draws its own network, disk, process and clock faults; the simulator's oracles and the
 * linearizability check of the client history must pass.
 *
 * <p>The simulator hosts it with its own sessions ({@link SimHooks#withSessionsInStateMachine}):
 * no session layer of the simulator's wraps it, so the clients' registrations, retries and
 * expired sessions meet KvStateMachine's session table (in its store, in its snapshots), with
 * the run's session timeout. The oracles' reference is a KvStateMachine too, so every snapshot
 * taken, sent or restarted from, sessions included, must equal the reference's at its index.
 */
@Timeout(120)
class SimulatedKvTest {
  @Test
  void kvStateMachineSurvivesTheFaultModel() {
    Marks marks = new Marks();
    java.util.List<SimKvAdapter> adapters = new java.util.ArrayList<>();
    for (long seed = 1; seed <= 12; seed++) {
      SimOptions options = SimOptions.derive(seed).withSafetySeconds(10);
      SimHooks hooks = SimKvAdapter.hooks(options, adapters::add);
      SimResult result = new Simulation(options, hooks).run();
      // A failure replays exactly: run this test's loop for that seed alone.
      assertEquals(SimResult.Verdict.PASS, result.verdict(), () -> "seed " + result.seed()
          + ": " + result.oracle() + " " + result.failure() + "\n" + result.traceTail());
      marks.addAll(result.marks(), false);
    }
    // The sessions did run: retried commands reached the log twice and KvStateMachine
    // answered them from its table (else the histories would show them applied twice),
    // it expired idle sessions by log position, and clients met those expired sessions.
    for (SimMark mark : new SimMark[] {SimMark.DUPLICATE_COMMAND_DEDUPED,
        SimMark.RETRIED_COMMAND_COMPLETED, SimMark.SESSION_EXPIRED,
        SimMark.CLIENT_SESSION_EXPIRED, SimMark.SNAPSHOT_TAKEN}) {
      assertTrue(marks.hits(mark) > 0, () -> mark + " never hit:\n" + marks.table(null));
    }
    // The commands were the RESP front end's (SimKvAdapter): the workload's cas ran as WATCH
    // and MULTI/EXEC, and both outcomes happened.
    long applied = adapters.stream().mapToLong(a -> a.watchOutcomes()[0]).sum();
    long aborted = adapters.stream().mapToLong(a -> a.watchOutcomes()[1]).sum();
    assertTrue(applied > 0 && aborted > 0, "EXEC after WATCH: " + applied + " applied, "
        + aborted + " aborted");
  }
}
