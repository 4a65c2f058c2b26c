package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.report.ReportDirectory;
import io.detraft.sim.SimDisk;
import io.detraft.sim.SimHooks;
import io.detraft.sim.SimOptions;
import io.detraft.sim.SimResult;
import io.detraft.sim.Simulation;
import io.detraft.sim.report.SimReport;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of page, opened in a real browser: headless Chromium (Debian's {@code chromium},
 * which {@code .ci/run} installs) loads the simulator's report of a failing seed, the
 * checker's report of an invalid history, the bench report and a live node's {@code /ui}, runs
 * their scripts, and the test checks the DOM it dumps: the expected elements, the page's own
 * "rendered" mark, and no script error. Each page is also saved as a screenshot under
 * {@code kv-app/target/screenshots/} (the README's pictures come from there). Skipped, with a
 * message, where no Chromium is installed.
 */
@Timeout(300)
class BrowserTest {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");

  private static String chromium;

  @TempDir Path dir;

  @BeforeAll
  static void findChromium() {
    chromium = onPath("chromium", "chromium-browser", "google-chrome").orElse(null);
    Assumptions.assumeTrue(chromium != null, "no headless Chromium on the PATH: the browser "
        + "tests are skipped (Debian: apt-get install -y chromium)");
  }

  private static Optional<String> onPath(String... names) {
    for (String dirName : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : names) {
        Path candidate = Path.of(dirName, name);
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate.toString());
        }
      }
    }
    return Optional.empty();
  }

  /** What the browser made of a page: the DOM after its scripts ran, and its console. */
  private record Loaded(String dom, String console) {}

  /** Loads {@code url}, lets its scripts run for a few (virtual) seconds, dumps the DOM. */
  private Loaded load(String url) throws Exception {
    Path out = dir.resolve("dom.html");
    Path log = dir.resolve("chromium.log");
    run(out, log, "--dump-dom", url);
    return new Loaded(Files.readString(out), Files.readString(log));
  }

  /** Saves a screenshot of {@code url} as {@code target/screenshots/NAME.png}. */
  private Path screenshot(String url, String name, int width, int height) throws Exception {
    Files.createDirectories(SCREENSHOTS);
    Path png = SCREENSHOTS.resolve(name + ".png").toAbsolutePath();
    Files.deleteIfExists(png);
    run(dir.resolve("shot.out"), dir.resolve("shot.log"), "--window-size=" + width + ","
        + height, "--screenshot=" + png, url);
    byte[] bytes = Files.readAllBytes(png);
    assertArrayEquals(PNG, Arrays.copyOf(bytes, PNG.length), png + " is a PNG");
    assertTrue(bytes.length > 10_000, png + " shows something: " + bytes.length + " bytes");
    return png;
  }

  private void run(Path out, Path log, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox",
        "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-extensions", "--hide-scrollbars",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
        "--user-data-dir=" + Files.createTempDirectory(dir, "profile-")));
    command.addAll(List.of(args));
    Process browser = new ProcessBuilder(command).redirectOutput(out.toFile())
        .redirectError(log.toFile()).start();
    try {
      assertTrue(browser.waitFor(120, TimeUnit.SECONDS), "chromium did not finish: "
          + String.join(" ", command));
      assertEquals(0, browser.exitValue(), () -> "chromium failed: " + read(log));
    } finally {
      // Chromium's helpers (zygote, GPU, network service) go with it, whatever happened.
      browser.descendants().forEach(ProcessHandle::destroyForcibly);
      browser.destroyForcibly();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static void assertRendered(Loaded page, String... ids) {
    assertTrue(page.dom().contains("data-rendered=\"true\""), "the page's script finished: "
        + page.dom().substring(0, Math.min(2000, page.dom().length())));
    assertFalse(page.dom().contains("data-errors="), "script errors: " + page.dom());
    assertFalse(page.console().contains("Uncaught"), "script errors: " + page.console());
    for (String id : ids) {
      assertTrue(page.dom().contains("id=\"" + id + "\""), "no #" + id + " in the page");
    }
  }

  @Test
  void theSimulatorsPageOfAFailingSeedRenders() throws Exception {
    // A host that answers reads from its local state without ReadIndex (a planted bug): the
    // history checker catches the stale reads in partition-heavy seeds.
    SimResult failed = null;
    SimReport report = null;
    for (long seed = 1; seed <= 40 && failed == null; seed++) {
      SimOptions options = SimOptions.derive(seed).withSafetySeconds(6);
      if (!options.network().partitions()) {
        continue;
      }
      report = new SimReport();
      Simulation simulation = new Simulation(options, SimHooks.defaults().withStaleReads(true));
      SimResult result = simulation.recordTo(report).run();
      List<io.detraft.checker.History> histories = simulation.clientHistories();
      report.clientHistory("kv", histories.get(0));
      report.clientHistory("txn", histories.get(1));
      failed = result.failed() ? result : null;
    }
    if (failed == null) { // never seen; a disk whose fsync never ends fails any seed
      long day = 24 * 3600 * 1_000_000_000L;
      SimHooks stuck = SimHooks.defaults().withDiskFactory((node, o, random) ->
          new SimDisk(o.withFsyncNanos(day, day), random));
      report = new SimReport();
      failed = new Simulation(SimOptions.derive(7).withSafetySeconds(2), stuck)
          .recordTo(report).run();
    }
    assertTrue(failed.failed(), failed.line());
    Path page = report.write(ReportDirectory.prepare(dir.resolve("sim").toString()), failed);
    String url = page.toUri().toString();
    Loaded loaded = load(url);
    assertRendered(loaded, "timeline", "verdict", "failure", "filter-AppendRequest", "events");
    assertTrue(loaded.dom().contains(">FAIL</span>"), "the verdict");
    // The page opens where the failure is: for a history check (it fires at the end of the
    // run) at the operation the checker could not place, found on its client's lane; else
    // where the invariant fired.
    assertTrue(loaded.dom().contains(failed.oracle().equals("linearizability")
        ? "id=\"blamed-row\"" : "id=\"failure-row\""), loaded.dom());
    screenshot(url, "sim-report", 1400, 900);
  }

  @Test
  void theCheckersPageRenders() throws Exception {
    Path history = Files.writeString(dir.resolve("history.edn"), String.join("\n",
        "{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append :y 1]]}",
        "{:index 1, :time 1, :type :invoke, :process 1, :f :txn, :value [[:r :y nil] [:append :x 1]]}",
        "{:index 2, :time 2, :type :ok, :process 0, :f :txn, :value [[:append :y 1]]}",
        "{:index 3, :time 3, :type :invoke, :process 0, :f :txn, :value [[:r :x nil]]}",
        "{:index 4, :time 4, :type :ok, :process 1, :f :txn, :value [[:r :y []] [:append :x 1]]}",
        "{:index 5, :time 5, :type :ok, :process 0, :f :txn, :value [[:r :x []]]}",
        "{:index 6, :time 6, :type :invoke, :process 2, :f :txn, :value [[:r :x nil] [:r :y nil]]}",
        "{:index 7, :time 7, :type :ok, :process 2, :f :txn, :value [[:r :x [1]] [:r :y [1]]]}",
        ""));
    Path reports = dir.resolve("check");
    int status = Main.run(new String[] {"check", "--model", "list-append", "--report",
        reports.toString(), history.toString()}, new PrintStream(new ByteArrayOutputStream()),
        System.err);
    assertEquals(1, status, "G2-item-process is invalid under strict-serializable");
    String url = reports.resolve("history.html").toUri().toString();
    Loaded loaded = load(url);
    assertTrue(loaded.dom().contains("<svg class=\"cycle\""), "the cycle is drawn");
    assertTrue(loaded.dom().contains("id=\"timeline\"") && loaded.dom().contains("id=\"verdict\""));
    assertFalse(loaded.console().contains("Uncaught"), loaded.console());
    screenshot(url, "check-report", 1200, 1000);
  }

  @Test
  void theBenchPageRenders() throws Exception {
    // The charts of a short synthetic run (the bench itself is BenchReportTest's, on a cluster).
    BenchLoop.Samples samples = new BenchLoop.Samples();
    long start = 1_000_000_000L;
    java.util.Random random = new java.util.Random(1);
    for (long t = start; t < start + 10_000_000_000L; t += 200_000 + random.nextInt(400_000)) {
      samples.add(300_000 + (long) (Math.abs(random.nextGaussian()) * 900_000), t);
    }
    Path reports = dir.resolve("bench");
    BenchReport.open(reports.toString(), System.err).write("bench: synthetic, 10 s",
        List.of(samples), start, start + 10_000_000_000L, "result: (synthetic)\n",
        new PrintStream(new ByteArrayOutputStream()));
    String url = reports.resolve("index.html").toUri().toString();
    Loaded loaded = load(url);
    assertTrue(loaded.dom().contains("id=\"throughput\"") && loaded.dom().contains(
        "id=\"latency\"") && loaded.dom().contains("id=\"intervals\""), loaded.dom());
    assertFalse(loaded.console().contains("Uncaught"), loaded.console());
    screenshot(url, "bench-report", 1000, 1000);
  }

  @Test
  void aNodesStatusPageRendersLive() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("cluster"), 3)) {
      cluster.awaitLeaders();
      String url = "http://" + cluster.endpoint(1) + "/ui";
      Loaded loaded = load(url);
      assertRendered(loaded, "groups", "members", "changes", "metrics");
      assertTrue(loaded.dom().contains("class=\"live\""), "it reached /v1/ui/cluster");
      assertEquals(3, loaded.dom().split("class=\"member-row\"", -1).length - 1,
          "three members");
      assertTrue(loaded.dom().contains("class=\"group-row\""));
      assertTrue(loaded.dom().contains("class=\"change-row\""), "leaders were elected");
      screenshot(url, "status-page", 1300, 800);
    }
  }
}
