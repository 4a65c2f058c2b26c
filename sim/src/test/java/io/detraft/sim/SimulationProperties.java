package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

/**
 * jqwik draws simulator seeds; each seed is a full-length run with its own swarm options. A
 * failing seed prints its report and the command that replays it without jqwik. Shrinking is
 * off: a "smaller" seed is just another, unrelated run.
 */
class SimulationProperties {
  /** A seed takes a second or two; one that runs for minutes is stuck (seed -405 spun). */
  private static final long WALL_SECONDS = 120;

  @Property(tries = 20, shrinking = ShrinkingMode.OFF)
  void safeUnderFaults(@ForAll long seed) throws InterruptedException {
    SimResult result = runBounded(seed);
    if (result.failed()) {
      System.out.println(result.report());
    }
    assertFalse(result.failed(), () -> "seed " + seed + " failed: " + result.failure()
        + "\nreplay: java -jar sim/target/detraft-sim.jar --seed " + seed);
  }

  /**
   * Runs the seed on a daemon thread: a run stuck in a loop within one virtual instant fails
   * here, naming its seed, instead of hanging the build.
   */
  private static SimResult runBounded(long seed) throws InterruptedException {
    CompletableFuture<SimResult> run = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        run.complete(new Simulation(SimOptions.derive(seed)).run());
      } catch (Throwable t) {
        run.completeExceptionally(t);
      }
    }, "simulation-" + seed);
    thread.setDaemon(true);
    thread.start();
    try {
      return run.get(WALL_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      StringBuilder stack = new StringBuilder();
      for (StackTraceElement frame : thread.getStackTrace()) {
        stack.append("\n\tat ").append(frame);
      }
      return fail("seed " + seed + " did not finish in " + WALL_SECONDS + " s of wall time;"
          + " replay: java -jar sim/target/detraft-sim.jar --seed " + seed + "\nwhere it is:"
          + stack);
    } catch (ExecutionException e) {
      throw new AssertionError("seed " + seed + " threw", e.getCause());
    }
  }
}
