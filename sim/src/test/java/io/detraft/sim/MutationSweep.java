package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bounded simulator sweep that the sim module's mutation profile ({@code -Pmutation})
 * runs against every mutant of core: {@link #SEEDS} seeds of the default mix and as many with
 * every nemesis on, {@link #SAFETY_SECONDS} virtual seconds of faults each, and every one
 * must pass (a mutant is killed when an oracle, an invariant or the liveness check fails a
 * seed). Its name does not end in "Test": a plain build does not run it ({@link SweepTest} is
 * the build's sweep).
 */
class MutationSweep {
  static final int SEEDS = 6;
  static final double SAFETY_SECONDS = 3;

  @Test
  void boundedSweepPasses() {
    List<String> failures = new ArrayList<>();
    for (long seed = 1; seed <= SEEDS; seed++) {
      for (boolean allNemeses : new boolean[] {false, true}) {
        SimResult result = new Simulation(
            Main.optionsFor(seed, SAFETY_SECONDS, 0, allNemeses)).run();
        if (result.failed()) {
          failures.add(result.line());
        }
      }
    }
    assertEquals(List.of(), failures);
  }
}
