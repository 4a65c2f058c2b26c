package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.EdnHistory;
import io.detraft.checker.History;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code detraft test} for real: server processes in network namespaces or behind TCP relays,
 * faults, the checker. The runs are the README's commands (only the run directory differs).
 * The namespace runs need root and a working {@code ip netns} (CI has both); elsewhere they are
 * skipped, saying why; the relay run works anywhere. About 3 minutes in all.
 */
@Timeout(300)
class JepsenRunTest {
  @TempDir Path dir;

  private static final String NO_NAMESPACES = JepsenNet.unavailableReason();

  private static void needNamespaces() {
    Assumptions.assumeTrue(NO_NAMESPACES == null, "detraft test's namespace runs skipped: "
        + NO_NAMESPACES + " (they need root and iproute2's `ip netns`)");
  }

  private record Run(int status, String out) {}

  private static Run detraft(Path runDir, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    List<String> all = new ArrayList<>(List.of("test"));
    all.addAll(List.of(args));
    all.addAll(List.of("--dir", runDir.toString()));
    int status = Main.run(all.toArray(String[]::new), out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    System.out.println("$ detraft " + String.join(" ", all) + "\n" + text + "exit " + status);
    return new Run(status, text);
  }

  /** Whatever happened, a run leaves no namespace, link or server process behind. */
  @AfterEach
  void nothingLeftBehind() throws IOException {
    if (NO_NAMESPACES == null) {
      assertEquals(List.of(), JepsenNet.namespacesOf(ProcessHandle.current().pid()));
    }
    assertEquals(List.of(), ProcessHandle.current().descendants().filter(JepsenRunTest::isJava)
        .toList(), "server JVMs left behind");
    assertEquals(List.of(), JepsenRelays.threads(), "relay threads still running");
  }

  private static boolean isJava(ProcessHandle p) {
    return p.info().command().orElse("").endsWith("/java");
  }

  @Test
  void partitionsRunIsValidAndLeavesAJepsenStyleRunDirectory() throws Exception {
    needNamespaces();
    // README: ./detraft test --time-limit 30 --nemesis partition --seed 3
    Path run = dir.resolve("partition");
    Run r = detraft(run, "--time-limit", "30", "--nemesis", "partition", "--seed", "3");
    assertEquals(0, r.status(), r.out());
    assertTrue(r.out().contains("network: namespaces, one per node"), r.out());
    assertTrue(r.out().contains("nemesis: partition"), "no partition was injected: " + r.out());
    assertTrue(r.out().contains("fault: partition"), "no progress line named the fault");
    assertTrue(r.out().contains("VALID: no anomaly found"), r.out());

    // The history is Jepsen EDN that the checker reads back, nemesis ops included.
    String edn = Files.readString(run.resolve("history.edn"));
    assertTrue(edn.contains(":process :nemesis, ") && edn.contains(":f :start-partition"));
    History clients = EdnHistory.read(run.resolve("history.edn"), true);
    assertTrue(clients.size() > 1000, "only " + clients.size() + " client events");
    // Each workload's own file is what `detraft check` judges, with the same verdict.
    assertEquals(0, Main.run(new String[] {"check", "--model", "kv-linearizable",
        "--skip-nemesis", run.resolve("history-register.edn").toString()}, System.out,
        System.err));
    assertEquals(0, Main.run(new String[] {"check", "--model", "list-append",
        "--skip-nemesis", run.resolve("history-list-append.edn").toString()}, System.out,
        System.err));
    Map<String, Object> results = Json.parseObject(Files.readString(run.resolve(
        "results.json")));
    assertEquals(true, results.get("valid?"));
    assertEquals("namespaces", results.get("network"));
    assertTrue(Files.readString(run.resolve("results.edn")).startsWith("{:valid? true"));
    assertTrue(Files.readString(run.resolve("nemesis.txt")).contains("partition"));
    for (String png : List.of("latency.png", "throughput.png")) {
      byte[] b = Files.readAllBytes(run.resolve(png));
      assertTrue(b.length > 5000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png);
    }
    for (int node = 1; node <= 3; node++) {
      assertTrue(Files.readString(run.resolve("n" + node).resolve("node.log"))
          .contains("node " + node + " of cluster"), "node " + node + "'s log");
    }
  }

  @Test
  void processAndMembershipFaultsRunIsValid() throws Exception {
    needNamespaces();
    // README: ./detraft test --time-limit 30 --nemesis kill,pause,member,transfer,snapshot
    //   --seed 16
    // Seed 16 draws the member fault first: a node (a group's leader: which one depends on the
    // elections) leaves the cluster through the admin API, its data directory is wiped, and it
    // comes back as node 4; then a majority is killed.
    Path run = dir.resolve("process");
    Run r = detraft(run, "--time-limit", "30", "--nemesis", "kill,pause,member,transfer,snapshot",
        "--seed", "16");
    assertEquals(0, r.status(), r.out());
    java.util.regex.Matcher member = java.util.regex.Pattern.compile("nemesis: member node (\\d)"
        + " \\(id \\1\\) removed, wiped, added back as id 4").matcher(r.out());
    assertTrue(member.find(), r.out());
    String node = member.group(1);
    assertTrue(r.out().contains("nemesis: member: node " + node + " removed: HTTP 200, gone from"
        + " every group"), r.out());
    assertTrue(r.out().contains("nemesis: member: node " + node + " added back: HTTP 2"), r.out());
    assertTrue(r.out().contains("read-back (none lost, none twice): valid"), r.out());
    assertTrue(Files.readString(run.resolve("history.edn")).contains(":f :start-member"));
    assertTrue(Files.readString(run.resolve("nemesis.txt")).contains("member"));
    // The node joined under its new id: its log says so after the wipe.
    assertTrue(Files.readString(run.resolve("n" + node).resolve("node.log"))
        .contains("node 4 of cluster"), "node " + node + "'s log");
  }

  @Test
  void partitionsThroughTcpRelaysRunIsValid() throws Exception {
    // README: ./detraft test --time-limit 15 --nemesis partition --seed 11 --net relays
    // Seed 11 isolates a group's leader (from about 3 s to 7 s); works without root too.
    Path run = dir.resolve("relays");
    Run r = detraft(run, "--time-limit", "15", "--nemesis", "partition", "--seed", "11",
        "--net", "relays");
    assertEquals(0, r.status(), r.out());
    assertTrue(r.out().contains("network: tcp relays (--net relays), one per ordered pair"),
        r.out());
    assertTrue(r.out().contains("nemesis: partition leader isolated"), r.out());
    assertTrue(r.out().contains("VALID: no anomaly found"), r.out());
    java.util.regex.Matcher cut = java.util.regex.Pattern.compile("relays: (\\d+) Raft"
        + " connections reset or refused by cuts").matcher(r.out());
    assertTrue(cut.find() && Long.parseLong(cut.group(1)) > 0, "the cuts cut nothing");
    Map<String, Object> results = Json.parseObject(Files.readString(run.resolve(
        "results.json")));
    assertEquals("relays", results.get("network"));
    // The relays were threads and sockets of this JVM: @AfterEach checks the threads ended.
  }

  @Test
  void plantedStaleReadsAreCaught() {
    needNamespaces();
    // README: ./detraft test --time-limit 30 --nemesis partition --seed 3 --plant-bug stale-reads
    // The same run as the first test, with reads served without ReadIndex: it must fail.
    Run r = detraft(dir.resolve("planted"), "--time-limit", "30", "--nemesis", "partition",
        "--seed", "3", "--plant-bug", "stale-reads");
    assertEquals(1, r.status(), r.out());
    assertTrue(r.out().contains("register (kv-linearizable per key): invalid"), r.out());
    assertTrue(r.out().contains("INVALID"), r.out());
  }

  /**
   * A run killed with SIGKILL cannot clean up: its servers halt by themselves (they watch the
   * run's process), and the next run's sweep removes its namespaces, links and routes.
   */
  @Test
  void aRunKilledHalfWayLeavesNothingOnceTheNextRunSwept() throws Exception {
    needNamespaces();
    Path out = dir.resolve("killed.txt");
    Process run = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "io.detraft.kv.Main", "test", "--time-limit", "60", "--nemesis", "partition", "--seed",
        "3", "--dir", dir.resolve("killed").toString()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    List<ProcessHandle> servers;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.readString(out).contains("nemesis: partition")) {
        assertTrue(run.isAlive() && System.nanoTime() < deadline, Files.readString(out));
        Thread.sleep(200);
      }
      assertTrue(JepsenNet.namespacesOf(run.pid()).size() >= 4, "3 namespaces and a bridge");
      // Only the JVMs: an `ip` command of the nemesis may be running at this moment. (Not by
      // command line: the JDK gives none for one as long as the test classpath's.)
      servers = run.descendants().filter(JepsenRunTest::isJava).toList();
      assertEquals(3, servers.size(), "the three servers");
    } finally {
      run.destroyForcibly(); // SIGKILL: no shutdown hook runs
    }
    run.waitFor(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (servers.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertTrue(servers.stream().noneMatch(ProcessHandle::isAlive), "the servers halt by"
        + " themselves once the run is gone");
    assertTrue(!JepsenNet.namespacesOf(run.pid()).isEmpty(), "the killed run's namespaces stay"
        + " until a sweep");
    List<String> swept = JepsenNet.sweepStale();
    assertTrue(swept.size() >= 4, "swept " + swept);
    assertEquals(List.of(), JepsenNet.namespacesOf(run.pid()));
  }
}
