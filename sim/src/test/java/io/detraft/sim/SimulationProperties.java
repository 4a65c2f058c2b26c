package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

/**
 * jqwik draws simulator seeds; each seed is a full-length run with its own swarm options. A
 * failing seed prints its report and the command that replays it without jqwik. Shrinking is
 * off: a "smaller" seed is just another, unrelated run.
 */
class SimulationProperties {

  @Property(tries = 20, shrinking = ShrinkingMode.OFF)
  void safeUnderFaults(@ForAll long seed) {
    SimResult result = new Simulation(SimOptions.derive(seed)).run();
    if (result.failed()) {
      System.out.println(result.report());
    }
    assertFalse(result.failed(), () -> "seed " + seed + " failed: " + result.failure()
        + "\nreplay: java -jar sim/target/detraft-sim.jar --seed " + seed);
  }
}
