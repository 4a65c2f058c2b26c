package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's {@code ./detraft check ...} commands, as written: the same argument vector,
 * handed to {@link Main} in a child JVM whose working directory holds {@code history.edn}.
 * (The launcher runs {@code kv-app/target/detraft.jar}, which the package phase builds after
 * the tests; this runs the jar's main class on the test class path instead.) The word
 * {@code check} once got lost between kv-app's Main and the checker's, so the README's command
 * exited 64 with "unknown command '--model'" while a test that passed only {@code --help} was
 * green.
 */
@Timeout(180)
class ReadmeCommandsTest {
  @TempDir Path dir;

  private record Run(int status, String out) {}

  /** Runs {@code detraft ARGS} in {@link #dir} as the launcher would, stdout and stderr merged. */
  private Run detraft(String... args) throws IOException, InterruptedException {
    return detraft(Map.of(), args);
  }

  /** As above, with {@code env} added to the child's environment. */
  private Run detraft(Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Xmx256m", "io.detraft.kv.Main"));
    command.addAll(List.of(args));
    Path output = dir.resolve("output.txt");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    try {
      assertTrue(process.waitFor(90, TimeUnit.SECONDS), "detraft " + String.join(" ", args)
          + " did not finish");
    } finally {
      process.destroyForcibly();
    }
    return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }

  @Test
  void theReadmeCheckCommandRunsAsWritten() throws Exception {
    // README.md, "Checking a history".
    String[] readme = {"check", "--model", "list-append", "--consistency",
        "strict-serializable", "history.edn"};
    Files.writeString(dir.resolve("history.edn"), String.join("\n",
        "{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r :y nil]]}",
        "{:index 1, :time 10, :type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r :y []]]}",
        "{:index 2, :time 20, :type :invoke, :process 1, :f :txn, :value [[:append :y 1] [:r :x nil]]}",
        "{:index 3, :time 30, :type :ok, :process 1, :f :txn, :value [[:append :y 1] [:r :x [1]]]}",
        ""));
    Run valid = detraft(readme);
    assertEquals(0, valid.status(), valid.out());
    assertTrue(valid.out().toLowerCase().contains("valid"), valid.out());

    // The same command on a G1c history: each transaction saw the other's append.
    Files.writeString(dir.resolve("history.edn"), String.join("\n",
        "{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r :y nil]]}",
        "{:index 1, :time 1, :type :invoke, :process 1, :f :txn, :value [[:append :y 1] [:r :x nil]]}",
        "{:index 2, :time 2, :type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r :y [1]]]}",
        "{:index 3, :time 3, :type :ok, :process 1, :f :txn, :value [[:append :y 1] [:r :x [1]]]}",
        ""));
    Run invalid = detraft(readme);
    assertEquals(1, invalid.status(), invalid.out());
    assertTrue(invalid.out().contains("G1c"), invalid.out());
  }

  /** README.md, "Looking instead of reading": the report commands, as written. */
  @Test
  void theReadmeReportCommandsRunAsWritten() throws Exception {
    Files.writeString(dir.resolve("history.edn"), String.join("\n",
        "{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r :y nil]]}",
        "{:index 1, :time 1, :type :invoke, :process 1, :f :txn, :value [[:append :y 1] [:r :x nil]]}",
        "{:index 2, :time 2, :type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r :y [1]]]}",
        "{:index 3, :time 3, :type :ok, :process 1, :f :txn, :value [[:append :y 1] [:r :x [1]]]}",
        ""));
    Run check = detraft("check", "--model", "list-append", "--consistency",
        "strict-serializable", "--report", "reports", "history.edn");
    assertEquals(1, check.status(), check.out());
    assertTrue(Files.readString(dir.resolve("reports/history.html")).contains("G1c"));

    Run sim = detraft("sim", "--seed", "7", "--report", "reports");
    assertEquals(0, sim.status(), sim.out());
    assertTrue(sim.out().contains("report: " + dir.resolve("reports/seed-7.html")
        .toAbsolutePath()), sim.out());
    assertTrue(Files.readString(dir.resolve("reports/seed-7.html")).contains(
        "\"verdict\":\"PASS\""));

    // The bench talks to $DETRAFT_ENDPOINTS when no --endpoints is given: here, a test node.
    try (TestCluster cluster = new TestCluster(dir.resolve("cluster"), 1)) {
      cluster.awaitLeaders();
      Run bench = detraft(Map.of("DETRAFT_ENDPOINTS", String.join(",", cluster.endpoints())),
          "bench", "--duration", "5", "--report", "bench");
      assertEquals(0, bench.status(), bench.out());
      for (String file : List.of("index.html", "throughput.png", "latency.png", "bench.txt")) {
        assertTrue(Files.size(dir.resolve("bench").resolve(file)) > 0, file);
      }
    }
  }

  @Test
  void theKvAppReadmeCheckCommandRunsAsWritten() throws Exception {
    // kv-app/README.md, "Quick start": ./detraft check --model kv-linearizable history.edn
    Files.writeString(dir.resolve("history.edn"), String.join("\n",
        "{:index 0, :time 0, :type :invoke, :process 0, :f :put, :value [1 10]}",
        "{:index 1, :time 1, :type :ok, :process 0, :f :put, :value [1 10]}",
        "{:index 2, :time 2, :type :invoke, :process 1, :f :get, :value [1 nil]}",
        "{:index 3, :time 3, :type :ok, :process 1, :f :get, :value [1 10]}",
        ""));
    Run run = detraft("check", "--model", "kv-linearizable", "history.edn");
    assertEquals(0, run.status(), run.out());
    // A bad flag is still the checker's usage error (64), named as such.
    Run bad = detraft("check", "--model", "list-append", "--frobnicate", "history.edn");
    assertEquals(64, bad.status(), bad.out());
    assertTrue(bad.out().contains("unknown option '--frobnicate'"), bad.out());
  }
}
