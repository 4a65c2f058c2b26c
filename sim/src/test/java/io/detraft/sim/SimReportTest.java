package io.detraft.sim;

import static io.detraft.sim.SimCli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.sim.SimCli.Run;
import io.detraft.checker.report.ReportDirectory;
import io.detraft.sim.report.SimReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim --report DIR}: the page of one seed and of each failing seed of a sweep; recording
 * does not change the run; a report directory that cannot be used is said, and the verdict
 * stands.
 */
class SimReportTest {
  @TempDir Path dir;

  private static String fingerprint(String out) {
    Matcher m = Pattern.compile("fingerprint=([0-9a-f]{16})").matcher(out);
    assertTrue(m.find(), out);
    return m.group(1);
  }

  @Test
  void aSeedsPageHoldsItsRunAndRecordingChangesNothing() throws Exception {
    Run plain = run(SimHooks.defaults(), "--seed", "3", "--safety-seconds", "2");
    Run reported = run(SimHooks.defaults(), "--seed", "3", "--safety-seconds", "2", "--report",
        dir.resolve("r").toString());
    assertEquals(0, reported.status(), reported.out() + reported.err());
    assertEquals(fingerprint(plain.out()), fingerprint(reported.out()));
    Path page = dir.resolve("r").resolve("seed-3.html");
    assertTrue(reported.out().contains("report: " + page.toAbsolutePath()), reported.out());
    String html = Files.readString(page);
    assertTrue(html.contains("\"verdict\":\"PASS\""), html.substring(0, 400));
    assertTrue(html.contains("\"fingerprint\":\"" + fingerprint(plain.out()) + "\""));
    assertTrue(html.contains("<canvas id=\"timeline\""));
    // Every node sent messages, some node led, commits advanced, clients completed operations.
    assertTrue(html.contains("\"AppendRequest\""), "message types");
    assertTrue(html.contains(",\"LEADER\","), "a role change to leader");
    assertFalse(html.contains("\"messages\":[]"));
    assertFalse(html.contains("\"commits\":[]"));
    assertTrue(html.contains("[\"kv\","), "client operations");
    assertFalse(html.contains("<script src") || html.contains("<link"), "self-contained");
  }

  @Test
  void aFailingSeedsPageMarksTheBrokenInvariant() throws Exception {
    Run run = run(PlantedFaults.stuckFsync(), "--seed", "7", "--safety-seconds", "1",
        "--report", dir.toString());
    assertEquals(1, run.status(), run.out());
    String html = Files.readString(dir.resolve("seed-7.html"));
    assertTrue(html.contains("\"verdict\":\"FAIL\""));
    assertTrue(html.contains("\"oracle\":\"liveness\""), "the invariant that broke");
    assertTrue(html.contains("\"failure\":\"liveness: not done within"), "its words");
    assertTrue(html.contains("\"spans\":[["), "fsyncs in flight are drawn");
  }

  @Test
  void aSweepWritesOnePagePerFailingSeed() throws Exception {
    Run run = run(PlantedFaults.stuckFsync(), "--seeds", "7..8", "--parallel", "1",
        "--safety-seconds", "1", "--voters", "3", "--report", dir.toString());
    assertEquals(1, run.status(), run.out());
    for (long seed = 7; seed <= 8; seed++) {
      Path page = dir.resolve("seed-" + seed + ".html");
      assertTrue(Files.exists(page), run.out());
      assertTrue(run.out().contains("report: " + page.toAbsolutePath()), run.out());
    }
    // A passing sweep writes nothing.
    Path quiet = dir.resolve("quiet");
    Run passing = run(SimHooks.defaults(), "--seeds", "1..2", "--parallel", "1",
        "--safety-seconds", "1", "--report", quiet.toString());
    assertEquals(0, passing.status(), passing.out());
    try (var files = Files.list(quiet)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void anUnusableReportDirectoryIsSaidAndTheVerdictStands() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    Run failing = run(PlantedFaults.stuckFsync(), "--seed", "7", "--safety-seconds", "1",
        "--report", file.toString());
    assertEquals(1, failing.status(), "the seed's verdict: " + failing.out());
    assertTrue(failing.err().contains("detraft-sim: no report: report directory " + file
        + " is a file, not a directory"), failing.err());
    Run passing = run(SimHooks.defaults(), "--seed", "3", "--safety-seconds", "1", "--report",
        file.toString());
    assertEquals(0, passing.status(), passing.err());
    if (Files.isDirectory(Path.of("/proc/self"))) { // not writable, even for root
      Run readOnly = run(SimHooks.defaults(), "--seed", "3", "--safety-seconds", "1",
          "--report", "/proc/self");
      assertEquals(0, readOnly.status());
      assertTrue(readOnly.err().contains("report directory /proc/self is not writable"),
          readOnly.err());
    }
  }

  @Test
  void aNodeThatStopsOnADiskFaultIsDrawnApartFromACrash() throws Exception {
    // Every nemesis on: failed fsyncs (EIO) and full disks (ENOSPC) stop nodes.
    for (long seed = 1; seed <= 10; seed++) {
      SimReport report = new SimReport();
      SimResult result = new Simulation(SimOptions.derive(seed).withAllNemeses()
          .withSafetySeconds(8)).recordTo(report).run();
      String html = report.html(result);
      if (html.contains("\"stopped\",\"stopped: fail-stop: ")) {
        assertTrue(html.contains("simulated EIO") || html.contains("simulated ENOSPC"), "why");
        return;
      }
    }
    throw new AssertionError("no node stopped on a disk fault in 10 seeds with every nemesis");
  }

  @Test
  void aSafetyFailureIsMarkedWhereItFired() throws Exception {
    // The canary's lying disk (fsync acknowledged, data lost at a crash) on a crash-heavy mix.
    for (long seed = 1; seed <= 50; seed++) {
      Simulation simulation = new Simulation(PlantedFaults.crashHeavy(seed, 5),
          PlantedFaults.lyingDisk());
      SimReport report = new SimReport();
      SimResult result = simulation.recordTo(report).run();
      if (!result.failed()) {
        continue;
      }
      Path page = report.write(ReportDirectory.prepare(dir.toString()), result);
      String html = Files.readString(page);
      assertTrue(html.contains("\"failedAt\":" + result.simulatedNanos() / 1000 + ","));
      assertTrue(html.contains("\"oracle\":\"" + result.oracle() + "\""), result.line());
      assertTrue(html.contains("crash ("), "the crashes are drawn as spans");
      return;
    }
    throw new AssertionError("the lying disk was not caught in 50 crash-heavy seeds");
  }
}
