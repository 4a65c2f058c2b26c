package io.detraft.sim;

import static io.detraft.sim.SimCli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.sim.SimCli.Run;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line: exit statuses, usage on bad flags, the summary of a sweep. */
class MainTest {
  @Test
  void badFlagsPrintUsageAndExitTwo() {
    String[][] bad = {
      {},
      {"--bogus"},
      {"--seed"},
      {"--seed", "x"},
      {"--seeds", "5"},
      {"--seeds", "9..3"},
      {"--seed", "1", "--seeds", "1..2"},
      {"--seed", "1", "--parallel", "0"},
      {"--seed", "1", "--safety-seconds", "-1"},
      {"--seeds", "1..2", "--quiet", "--verbose"},
      {"--seeds", "1..2", "--recheck", "0"},
      {"--seed", "1", "--trace", "0"},
      {"--seed", "1", "--voters", "0"},
      {"--seed", "1", "--voters", "8"},
      {"--seed", "1", "--require-marks"},
      {"--seed", "1", "--state-machine"},
      {"--seed", "1", "--state-machine", "kv"}, // kv-app's: only in ./detraft sim
    };
    for (String[] args : bad) {
      Run run = run(args);
      assertEquals(2, run.status(), String.join(" ", args));
      assertTrue(run.err().contains("usage: detraft-sim"), run.err());
      assertEquals("", run.out(), String.join(" ", args));
    }
  }

  @Test
  void helpPrintsUsage() {
    Run run = run("--help");
    assertEquals(0, run.status());
    assertTrue(run.out().contains("--seeds A..B"));
    assertTrue(run.out().contains("--trace E"));
  }

  @Test
  void aLongerTraceIsShownOnRequest() {
    // A passing seed shows no trace; the flag is accepted and the run is the same.
    Run shortTrace = run("--seed", "4", "--safety-seconds", "2");
    Run longTrace = run("--seed", "4", "--safety-seconds", "2", "--trace", "500");
    assertEquals(shortTrace.out().lines().skip(1).findFirst(),
        longTrace.out().lines().skip(1).findFirst());
  }

  @Test
  void oneSeedPrintsOptionsAndResult() {
    Run run = run("--seed", "4", "--safety-seconds", "3");
    assertEquals(0, run.status(), run.out());
    assertTrue(run.out().startsWith("options: seed=4 "), run.out());
    assertTrue(run.out().contains("seed=4 PASS fingerprint="), run.out());
  }

  @Test
  void sweepPrintsASummary() {
    Run run = run("--seeds", "1..4", "--parallel", "2", "--safety-seconds", "3", "--recheck",
        "2");
    assertEquals(0, run.status(), run.out());
    assertTrue(run.out().contains("seeds: 4 passed, 0 failed, 0 unknown (of 4)"), run.out());
    assertTrue(run.out().contains("simulated s per wall s"), run.out());
    assertTrue(run.out().contains("seeds per core-hour"), run.out());
    // Every mark is listed, zeros included, and the ones that never fired are named.
    assertTrue(run.out().contains("coverage marks"), run.out());
    assertTrue(run.out().contains("core SNAPSHOT_FAST_FORWARD"), run.out());
    assertTrue(run.out().contains("sim  CRASH_DURING_SNAPSHOT_INSTALL"), run.out());
    assertTrue(run.out().contains("never fired (") || run.out().contains("every mark fired"),
        run.out());
  }

  @Test
  void votersPinTheClusterSize() {
    // Seed 2 picks 2 voters of its own; pinned, it runs one group of 5 (its spare kept).
    Run run = run("--seed", "2", "--safety-seconds", "2", "--voters", "5");
    assertEquals(0, run.status(), run.out());
    assertTrue(run.out().contains("cluster{n=6 voters=5 groups=1 "), run.out());
    assertTrue(run(("--seed 2 --safety-seconds 2").split(" ")).out()
        .contains("cluster{n=3 voters=2 "));
  }

  @Test
  void allNemesesSwitchesEveryFaultOn() {
    long seed = DeterminismTest.firstSeed(o -> o.network().loss() == 0
        && o.network().replay() == 0 && !o.network().partitions() && !o.process().crashes()
        && o.protocol().snapshotThreshold() == 0 && o.protocol().churnEveryNanos() == 0);
    SimOptions own = SimOptions.derive(seed);
    SimOptions all = own.withAllNemeses();
    assertEquals(all, own.withAllNemeses(), "a function of the seed");
    Run run = run("--seed", Long.toString(seed), "--safety-seconds", "2", "--all-nemeses");
    assertEquals(0, run.status(), run.out());
    String options = run.out().lines().findFirst().orElseThrow();
    assertEquals("options: " + all.withSafetySeconds(2).describe(), options);
    for (String off : new String[] {"loss=off", "dup=off", "replay=off", "!reorder",
        "partitions=off", "clog=off", "torn=off", "crash=off", "pause=off", "snapshotAfter=off",
        "randomSnapshot=off", "churn=off", "transfer=off"}) {
      assertFalse(options.contains(off), off + " in " + options);
    }
    // Churn gets a spare to add; what the seed drew anyway (intervals, delays, the
    // workload) is kept.
    assertTrue(all.cluster().size() > all.cluster().voters(), options);
    assertEquals(own.cluster().voters(), all.cluster().voters());
    assertEquals(own.network().partitionEveryNanos(), all.network().partitionEveryNanos());
    assertEquals(own.process().crashEveryNanos(), all.process().crashEveryNanos());
    assertEquals(own.network().delayMinNanos(), all.network().delayMinNanos());
    assertEquals(own.workload(), all.workload());
    assertEquals(own.phases(), all.phases());
  }

  @Test
  void requireMarksFailsASweepThatMissesAMark() {
    // Two short seeds cannot reach every rare path.
    Run run = run("--seeds", "1..2", "--parallel", "1", "--safety-seconds", "2",
        "--require-marks");
    assertEquals(1, run.status(), run.out());
    assertTrue(run.out().contains("seeds: 2 passed, 0 failed"), run.out());
    assertTrue(run.out().contains("[--require-marks: exit 1]"), run.out());
  }

  /**
   * A sweep in which every seed fails (a planted disk whose fsync never completes: no leader,
   * so the liveness check fails): one line per seed, in seed order, each with its failure and
   * the command that replays it with the sweep's overrides; then the summary; exit status 1.
   */
  @Test
  void aFailingSweepPrintsEachFailingSeedWithItsReplayCommandAndExitsOne() {
    Run run = run(PlantedFaults.stuckFsync(), "--seeds", "7..8", "--parallel", "1",
        "--safety-seconds", "1", "--voters", "3");
    assertEquals(1, run.status(), run.out());
    List<String> failing = run.out().lines().filter(line -> line.startsWith("seed=")).toList();
    assertEquals(2, failing.size(), run.out());
    for (int i = 0; i < 2; i++) {
      long seed = 7 + i;
      String line = failing.get(i);
      assertTrue(line.startsWith("seed=" + seed + " FAIL fingerprint="), line);
      assertTrue(line.contains(" :: liveness: not done within"), line);
      assertTrue(line.endsWith("  [replay: java -jar sim/target/detraft-sim.jar --seed " + seed
          + " --safety-seconds 1.0 --voters 3]"), line);
    }
    assertTrue(run.out().contains("seeds: 0 passed, 2 failed, 0 unknown (of 2)"), run.out());
  }

  @Test
  void aFailingSeedPrintsItsReportAndExitsOne() {
    Run run = run(PlantedFaults.stuckFsync(), "--seed", "7", "--safety-seconds", "1");
    assertEquals(1, run.status(), run.out());
    assertTrue(run.out().contains("seed=7 FAIL fingerprint="), run.out());
    assertTrue(run.out().contains("failure: liveness: not done within"), run.out());
    assertTrue(run.out().contains("last events:"), run.out());
    assertTrue(run.out().contains("replay: java -jar sim/target/detraft-sim.jar --seed 7"),
        run.out());
  }

  @Test
  void verboseSweepPrintsEverySeed() {
    Run run = run("--seeds", "5..6", "--parallel", "1", "--safety-seconds", "2", "--verbose");
    assertEquals(0, run.status(), run.out());
    assertTrue(run.out().contains("options: seed=5 "), run.out());
    assertTrue(run.out().contains("options: seed=6 "), run.out());
    assertTrue(run.out().contains("seed=6 PASS"), run.out());
  }
}
