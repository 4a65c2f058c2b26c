package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.PlantedBug;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The census behind the README's canary table: every planted bug, swept over seeds 1..200 of
 * the default mix and of every nemesis on, with the first failing seed, the share of failing
 * seeds and the oracles that fired. A measurement, not a check (CanaryTest is the check), so
 * it runs only on request:
 *
 * <pre>mvn -B -pl sim -am test -Dtest=CanaryCensus -Dcanary.census=true
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dcanary.seeds=N] [-Dcanary.only=NAME-PART]</pre>
 */
@EnabledIfSystemProperty(named = "canary.census", matches = "true")
class CanaryCensus {
  static final int SEEDS = Integer.getInteger("canary.seeds", 200);

  /** Every canary the simulator keeps, by name. */
  static final Map<String, SimHooks> CANARIES = new java.util.LinkedHashMap<>();

  static {
    CANARIES.put("vote granted before it is durable", PlantedFaults.earlyVotes());
    CANARIES.put("ack before fsync", PlantedFaults.earlyAcknowledgements());
    CANARIES.put("follower commits an unverified suffix",
        PlantedFaults.coreBug(PlantedBug.FOLLOWER_COMMITS_UNVERIFIED_SUFFIX));
    CANARIES.put("leader counts itself before persisting",
        PlantedFaults.coreBug(PlantedBug.LEADER_COUNTS_ITSELF_BEFORE_PERSISTING));
    CANARIES.put("lease never expires", PlantedFaults.coreBug(PlantedBug.LEASE_NEVER_EXPIRES));
    CANARIES.put("ReadIndex without a quorum round",
        PlantedFaults.coreBug(PlantedBug.READ_INDEX_WITHOUT_QUORUM));
    CANARIES.put("quiet leader reads alone",
        PlantedFaults.coreBug(PlantedBug.QUIET_LEADER_READS_ALONE));
    CANARIES.put("session drops a client's first command",
        SimHooks.defaults().withNodeBug(SimHooks.NodeBug.SESSION_DROPS_FIRST_COMMAND));
    CANARIES.put("transfer never completes",
        PlantedFaults.coreBug(PlantedBug.TRANSFER_NEVER_SENDS_TIMEOUT_NOW));
    CANARIES.put("membership change before a commit of the term (2015)",
        PlantedFaults.coreBug(PlantedBug.MEMBERSHIP_CHANGE_BEFORE_TERM_COMMIT));
    CANARIES.put("two membership changes in flight",
        PlantedFaults.coreBug(PlantedBug.TWO_MEMBERSHIP_CHANGES_IN_FLIGHT));
    CANARIES.put("fsync lies", PlantedFaults.lyingDisk());
    CANARIES.put("stale reads (no ReadIndex)", PlantedFaults.staleReads());
    CANARIES.put("witness votes without the log check",
        PlantedFaults.coreBug(PlantedBug.WITNESS_VOTES_WITHOUT_LOG_CHECK));
    CANARIES.put("witness gets payloads",
        PlantedFaults.coreBug(PlantedBug.WITNESS_GETS_PAYLOADS));
    CANARIES.put("losing candidate retries at once (election storm)",
        PlantedFaults.coreBug(PlantedBug.LOSING_CANDIDATE_RETRIES_AT_ONCE));
  }

  @Test
  void census() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(
        Runtime.getRuntime().availableProcessors());
    try {
      System.out.println("| canary | mode | first failing seed | failing seeds in 1.." + SEEDS
          + " | oracles |");
      System.out.println("|---|---|---|---|---|");
      String only = System.getProperty("canary.only", "");
      for (Map.Entry<String, SimHooks> canary : CANARIES.entrySet()) {
        if (!canary.getKey().contains(only)) {
          continue;
        }
        row(pool, canary.getKey(), "default mix", canary.getValue(),
            seed -> SimOptions.derive(seed));
        row(pool, canary.getKey(), "every nemesis", canary.getValue(),
            seed -> SimOptions.derive(seed).withAllNemeses());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void row(ExecutorService pool, String name, String mode, SimHooks hooks,
      LongFunction<SimOptions> mix) throws Exception {
    List<Future<SimResult>> runs = new ArrayList<>();
    for (long seed = 1; seed <= SEEDS; seed++) {
      long s = seed;
      runs.add(pool.submit(() -> new Simulation(mix.apply(s), hooks).run()));
    }
    long first = 0;
    int failed = 0;
    java.util.TreeMap<String, Integer> oracles = new java.util.TreeMap<>();
    for (Future<SimResult> run : runs) {
      SimResult result = run.get();
      if (result.failed()) {
        failed++;
        first = first == 0 ? result.seed() : first;
        oracles.merge(result.oracle(), 1, Integer::sum);
      }
    }
    System.out.printf("| %s | %s | %s | %d (%.1f %%) | %s |%n", name, mode,
        first == 0 ? "none" : Long.toString(first), failed, 100.0 * failed / SEEDS, oracles);
    assertTrue(failed <= SEEDS);
  }

}
