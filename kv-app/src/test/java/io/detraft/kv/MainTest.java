package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CLI: usage errors exit 2, and each start-up pitfall is refused with a clear message. */
@Timeout(120)
class MainTest {
  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void badFlagsExit2WithUsage() {
    for (String[] args : new String[][] {
        {}, {"frobnicate"}, {"server", "--bogus", "1"}, {"server"},
        {"server", "--data-dir", "d", "--id", "x"},
        {"server", "--data-dir", "d", "--peers", "1=nohostport"},
        {"server", "--data-dir", "d", "--peers", "1=a:1", "--join", "a:2"},
        {"server", "--data-dir", "d", "--quiesce", "1"}, {"cluster", "--quiesce", "-3"},
        {"put", "only-a-key"}, {"bench", "--clients", "0"}, {"get", "k", "--endpoints", "x"}}) {
      Run r = run(args);
      assertEquals(Main.USAGE, r.status(), String.join(" ", args));
      assertTrue(r.err().contains("usage: detraft"), r.err());
      if (List.of(args).contains("--quiesce")) {
        assertTrue(r.err().contains("--quiesce must be"), r.err()); // not "unknown flag"
      }
    }
    assertEquals(Main.OK, run("--help").status());
    Run help = run("cluster", "--help");
    assertEquals(Main.OK, help.status(), help.err());
    assertTrue(help.out().contains("usage: detraft"), help.out());
  }

  /** Starts a node through the CLI, then stops it; returns its data dir. */
  private Path bootstrapAndStop(String peers) throws Exception {
    Path data = dir.resolve("node1");
    CountDownLatch stop = new CountDownLatch(1);
    stop.countDown(); // serve, then stop at once: enough to create the data dir
    Flags f = new Flags(new String[] {"--id", "1", "--data-dir", data.toString(), "--peers",
        peers, "--http", "127.0.0.1:0", "--groups", "2"}, 0, java.util.Set.of("id",
        "data-dir", "raft", "http", "peers", "join", "groups"), java.util.Set.of());
    assertEquals(Main.OK, Main.server(f, new PrintStream(new ByteArrayOutputStream()),
        System.err, stop));
    assertTrue(Files.exists(data.resolve(NodeMetadata.FILE)));
    return data;
  }

  @Test
  void restartingWithOtherPeersIsRefused() throws Exception {
    String peers = "1=127.0.0.1:" + Ports.free();
    Path data = bootstrapAndStop(peers);
    Run r = run("server", "--id", "1", "--data-dir", data.toString(), "--http", "127.0.0.1:0",
        "--peers", peers + ",2=127.0.0.1:" + Ports.free());
    assertEquals(Main.FAILED, r.status());
    assertTrue(r.err().contains("was bootstrapped with --peers " + peers), r.err());
    assertTrue(r.err().contains("restart with only --data-dir"), r.err());
    Run wrongId = run("server", "--id", "2", "--data-dir", data.toString());
    assertTrue(wrongId.err().contains("belongs to node 1, not node 2"), wrongId.err());
  }

  @Test
  void aDataDirOfAnotherClusterIsRefused() throws Exception {
    Path data = bootstrapAndStop("1=127.0.0.1:" + Ports.free());
    try (TestCluster other = new TestCluster(dir.resolve("other"), 3)) {
      other.awaitLeaders();
      Run r = run("server", "--id", "7", "--data-dir", data.toString(), "--raft",
          "127.0.0.1:" + Ports.free(), "--http", "127.0.0.1:0", "--join",
          other.endpoint(1));
      assertEquals(Main.FAILED, r.status());
      assertTrue(r.err().contains("belongs to cluster") && r.err().contains(
          other.servers.get(1L).clusterId()), r.err());
    }
    // A directory with someone else's files and no identity is not taken over either.
    Path stranger = Files.createDirectories(dir.resolve("stranger"));
    Files.writeString(stranger.resolve("wal-0001"), "not ours");
    Run r = run("server", "--id", "1", "--data-dir", stranger.toString(), "--http",
        "127.0.0.1:0", "--peers", "1=127.0.0.1:" + Ports.free());
    assertEquals(Main.FAILED, r.status());
    assertTrue(r.err().contains("is not empty (wal-0001)"), r.err());
  }

  @Test
  void joiningWithAnIdInUseOrWithoutBeingAddedIsRefused() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      TestCluster.await("addresses published", () -> {
        try {
          return Main.run(new String[] {"members", "--endpoints", cluster.endpoint(1)},
              new PrintStream(new ByteArrayOutputStream()), System.err) == Main.OK
              && cluster.servers.values().stream().allMatch(s -> s.membership(1).isVoter(3));
        } catch (RuntimeException e) {
          return false;
        }
      });
      TestCluster.await("node 3 publishing its HTTP address",
          () -> membersText(cluster).contains("\"id\":3,\"raft\"")
              && !membersText(cluster).contains("\"http\":null"));
      Run used = run("server", "--id", "3", "--data-dir", dir.resolve("n3-again").toString(),
          "--raft", cluster.peers.get(3L), "--http", "127.0.0.1:0", "--join",
          cluster.endpoint(1));
      assertEquals(Main.FAILED, used.status());
      assertTrue(used.err().contains("node id 3 is already in use"), used.err());
      Run notAdded = run("server", "--id", "9", "--data-dir", dir.resolve("n9").toString(),
          "--raft", "127.0.0.1:" + Ports.free(), "--http", "127.0.0.1:0", "--join",
          cluster.endpoint(2));
      assertEquals(Main.FAILED, notAdded.status());
      assertTrue(notAdded.err().contains("add it first"), notAdded.err());
    }
  }

  private static String membersText(TestCluster cluster) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Main.run(new String[] {"members", "--endpoints", cluster.endpoint(1)},
        new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void dataCommandsTalkToTheCluster() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      String endpoints = String.join(",", cluster.endpoints());
      assertEquals("OK\n", run("put", "greeting", "hello", "--endpoints", endpoints).out());
      assertEquals("hello\n", run("get", "greeting", "--endpoints", endpoints).out());
      assertEquals(Main.OK, run("del", "greeting", "--endpoints", endpoints).status());
      Run missing = run("get", "greeting", "--endpoints", endpoints);
      assertEquals(Main.FAILED, missing.status());
      assertTrue(run("status", "--endpoints", endpoints).out().contains("\"groups\":["));
      Run bench = run("bench", "--clients", "2", "--duration", "1", "--warmup", "0", "--read-ratio", "0.5",
          "--keys", "20", "--endpoints", endpoints);
      assertEquals(Main.OK, bench.status(), bench.err());
      assertTrue(bench.out().contains("p99.9"), bench.out());
    }
  }

  /**
   * kv-app/README.md's many-groups command: {@code detraft cluster --nodes 3 --groups G
   * --quiesce 2}. The groups go quiet when idle and wake for the next write and read.
   */
  @Test
  @Timeout(60)
  void aQuiescingClusterWakesForTheNextRequest() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CountDownLatch stop = new CountDownLatch(1);
    AtomicInteger status = new AtomicInteger(-1);
    Flags f = new Flags(new String[] {"cluster", "--nodes", "3", "--groups", "4", "--quiesce",
        "2", "--base-port", "0", "--data-dir", dir.resolve("quiet").toString()}, 1,
        Set.of("nodes", "data-dir", "groups", "base-port", "quiesce"), Set.of());
    Thread cluster = new Thread(() -> status.set(Main.cluster(f,
        new PrintStream(out, true, StandardCharsets.UTF_8), stop)), "detraft-quiet-cluster");
    cluster.start();
    try {
      TestCluster.await("the cluster's endpoints", () -> !cluster.isAlive()
          || out.toString(StandardCharsets.UTF_8).contains("export DETRAFT_ENDPOINTS="));
      Matcher m = Pattern.compile("export DETRAFT_ENDPOINTS=(\\S+)")
          .matcher(out.toString(StandardCharsets.UTF_8));
      assertTrue(m.find(), out.toString(StandardCharsets.UTF_8));
      String endpoints = m.group(1);
      for (int round = 0; round < 2; round++) {
        Run put = run("put", "k" + round, "v" + round, "--endpoints", endpoints);
        assertEquals(Main.OK, put.status(), put.err());
        Run get = run("get", "k" + round, "--endpoints", endpoints);
        assertEquals("v" + round + "\n", get.out(), get.err());
        Thread.sleep(2_000); // idle: 2 election timeouts (400 ms) and one more, then quiet
      }
    } finally {
      stop.countDown();
      cluster.join(20_000);
    }
    assertEquals(Main.OK, status.get());
  }

  /**
   * The README's quick start: {@code detraft cluster --nodes 3} (here on free ports and a temp
   * data dir) prints its endpoints, the data commands work against them, and it stops.
   */
  @Test
  @Timeout(30)
  void theQuickStartClusterServesPutAndGet() throws Exception {
    Path data = dir.resolve("cluster");
    ByteArrayOutputStream out = new ByteArrayOutputStream(); // synchronized: read while written
    CountDownLatch stop = new CountDownLatch(1);
    AtomicInteger status = new AtomicInteger(-1);
    Flags f = new Flags(new String[] {"cluster", "--nodes", "3", "--base-port", "0",
        "--data-dir", data.toString()}, 1, Set.of("nodes", "data-dir", "groups", "base-port"),
        Set.of());
    Thread cluster = new Thread(() -> status.set(Main.cluster(f,
        new PrintStream(out, true, StandardCharsets.UTF_8), stop)), "detraft-cluster-command");
    cluster.start();
    try {
      TestCluster.await("the cluster's endpoints", () -> !cluster.isAlive()
          || out.toString(StandardCharsets.UTF_8).contains("export DETRAFT_ENDPOINTS="));
      String printed = out.toString(StandardCharsets.UTF_8);
      assertTrue(cluster.isAlive(), "the cluster command returned " + status.get() + ": "
          + printed);
      Matcher m = Pattern.compile("export DETRAFT_ENDPOINTS=(\\S+)").matcher(printed);
      assertTrue(m.find(), printed);
      String endpoints = m.group(1);
      List<String> list = List.of(endpoints.split(","));
      assertEquals(3, list.size(), printed);
      for (int id = 1; id <= 3; id++) {
        assertTrue(printed.contains("node " + id + ": http " + list.get(id - 1)), printed);
        assertTrue(Files.exists(data.resolve("node-" + id).resolve(NodeMetadata.FILE)),
            "node " + id + " has no data dir under " + data);
      }
      list.forEach(e -> assertTrue(Peers.address(e).getPort() > 0, e));

      Run put = run("put", "hello", "world", "--endpoints", endpoints);
      assertEquals(Main.OK, put.status(), put.err());
      assertEquals("OK\n", put.out());
      for (String endpoint : list) { // any one node answers for the cluster
        Run get = run("get", "hello", "--endpoints", endpoint);
        assertEquals(Main.OK, get.status(), get.err());
        assertEquals("world\n", get.out());
      }
      Run st = run("status", "--endpoints", endpoints);
      assertEquals(Main.OK, st.status(), st.err());
      assertTrue(st.out().contains("\"group_count\":" + Partitioner.DEFAULT_GROUPS), st.out());
    } finally {
      stop.countDown();
      cluster.join(20_000);
    }
    assertTrue(!cluster.isAlive(), "the cluster command did not stop");
    assertEquals(Main.OK, status.get());
  }

  @Test
  void simAndCheckPassThrough() {
    assertEquals(0, run("sim", "--help").status());
    assertEquals(0, run("check", "--help").status());
  }

  /**
   * {@code detraft sim --state-machine kv} replicates kv-app's own state machine in every
   * seed (SimulatedKvTest runs it over more seeds and checks its sessions did the work).
   */
  @Test
  void simRunsKvAppsStateMachineOnRequest() {
    Run sweep = run("sim", "--seeds", "1..2", "--safety-seconds", "3", "--state-machine", "kv");
    assertEquals(0, sweep.status(), sweep.out() + sweep.err());
    assertTrue(sweep.out().contains("state machine kv"), sweep.out());
    assertTrue(sweep.out().contains("seeds: 2 passed"), sweep.out());
    Run bad = run("sim", "--seed", "1", "--state-machine", "redis");
    assertEquals(2, bad.status());
    assertTrue(bad.err().contains("no state machine 'redis' here (known: kv, sim"), bad.err());
  }
}
