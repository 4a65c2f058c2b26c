package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.PlantedBug;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The measurement behind the README's election-storm bound: seeds 1..N of the default mix
 * (or every nemesis on), each failing seed with its verdict, and how many terms the busiest
 * group went through after the heal (a histogram), for the correct core or with the
 * election-storm canary planted. A measurement, not a check (CanaryTest is the check), so it
 * runs only on request:
 *
 * <pre>mvn -B -pl sim -am test -Dtest=StormCensus -Dstorm.census=true
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dstorm.seeds=N] [-Dstorm.all=true]
 *     [-Dstorm.bug=true]</pre>
 */
@EnabledIfSystemProperty(named = "storm.census", matches = "true")
class StormCensus {
  @Test
  void census() throws Exception {
    int seeds = Integer.getInteger("storm.seeds", 200);
    boolean all = Boolean.getBoolean("storm.all");
    SimHooks hooks = Boolean.getBoolean("storm.bug")
        ? PlantedFaults.coreBug(PlantedBug.LOSING_CANDIDATE_RETRIES_AT_ONCE)
        : SimHooks.defaults();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<String[]>> runs = new ArrayList<>();
      for (long seed = 1; seed <= seeds; seed++) {
        long s = seed;
        runs.add(pool.submit(() -> {
          SimOptions options = all ? SimOptions.derive(s).withAllNemeses() : SimOptions.derive(s);
          Simulation simulation = new Simulation(options, hooks);
          SimResult result = simulation.run();
          String first = result.failed() ? result.failure().lines().findFirst().orElse("") : "";
          return new String[] {Long.toString(s), Long.toString(simulation.termsSinceHeal()),
              first.substring(0, Math.min(200, first.length()))};
        }));
      }
      TreeMap<Long, Integer> terms = new TreeMap<>();
      int failed = 0;
      for (Future<String[]> run : runs) {
        String[] r = run.get();
        terms.merge(Long.parseLong(r[1]), 1, Integer::sum);
        if (!r[2].isEmpty()) {
          failed++;
          System.out.println("seed " + r[0] + " (" + r[1] + " terms after the heal): " + r[2]);
        }
      }
      System.out.println("failed " + failed + " of " + seeds + "; seeds by the most terms a"
          + " group went through after the heal: " + terms);
      assertTrue(failed <= seeds);
    } finally {
      pool.shutdownNow();
    }
  }
}
