package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A mini sweep in the build: 50 seeds with a shorter safety phase (the CLI runs full-length
 * sweeps). Every seed must pass; an unknown checker verdict is printed as a warning.
 */
class SweepTest {
  static final int SEEDS = 50;
  static final double SAFETY_SECONDS = 8;

  @Test
  void fiftySeedsPass() {
    List<String> failures = new ArrayList<>();
    double simulated = 0;
    long crashes = 0;
    long partitions = 0;
    long ops = 0;
    for (long seed = 1000; seed < 1000 + SEEDS; seed++) {
      SimResult result = new Simulation(Main.optionsFor(seed, SAFETY_SECONDS)).run();
      simulated += result.simulatedNanos() / 1e9;
      crashes += result.stats().crashes();
      partitions += result.stats().partitions();
      ops += result.stats().opsOk();
      if (result.verdict() == SimResult.Verdict.UNKNOWN) {
        System.out.println("warning: " + result.line());
      }
      if (result.failed()) {
        System.out.println(result.report());
        failures.add(result.line());
      }
    }
    System.out.printf("mini sweep: %d seeds, %.0f simulated s, %d crashes, %d partitions,"
        + " %d ok ops%n", SEEDS, simulated, crashes, partitions, ops);
    assertEquals(List.of(), failures);
    // The sweep must actually exercise faults and the workload.
    assertTrue(crashes > 50 && partitions > 20 && ops > 10_000,
        "crashes=" + crashes + " partitions=" + partitions + " ops=" + ops);
  }
}
