package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.detraft.sim.SimHooks;
import io.detraft.sim.SimOptions;
import io.detraft.sim.SimResult;
import io.detraft.sim.Simulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same state machine the server runs, inside the deterministic simulator: every seed
 * draws its own network, disk, process and clock faults; the simulator's oracles and the
 * linearizability check of the client history must pass.
 */
@Timeout(120)
class SimulatedKvTest {
  @Test
  void kvStateMachineSurvivesTheFaultModel() {
    SimHooks hooks = SimHooks.defaults().withStateMachineFactory(node -> new SimKvAdapter());
    for (long seed = 1; seed <= 12; seed++) {
      SimOptions options = SimOptions.derive(seed).withSafetySeconds(10);
      SimResult result = new Simulation(options, hooks).run();
      // A failure replays exactly: run this test's loop for that seed alone.
      assertEquals(SimResult.Verdict.PASS, result.verdict(), () -> "seed " + result.seed()
          + ": " + result.oracle() + " " + result.failure() + "\n" + result.traceTail());
    }
  }
}
