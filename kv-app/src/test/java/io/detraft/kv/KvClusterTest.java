package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.History;
import io.detraft.core.HardState;
import io.detraft.io.WriteAheadLog;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Kv;
import io.detraft.checker.LinearizabilityChecker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Faults on a real 3-node cluster: leader loss, restart and catch-up, join and removal. */
@Timeout(180)
class KvClusterTest {
  @TempDir Path dir;

  private static HttpPool.Response http(String endpoint, String method, String target,
      String body) throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(20), 1)) {
      return pool.send(Peers.address(endpoint), method, target, Map.of(),
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static Optional<String> staleGet(String endpoint, String key) throws Exception {
    HttpPool.Response r = http(endpoint, "GET", "/v1/kv/" + key + "?consistency=stale", null);
    return r.status() == 404 ? Optional.empty() : Optional.of(r.text());
  }

  /** Waits until node {@code id} has applied everything the others committed. */
  private static void awaitCaughtUp(TestCluster cluster, long id) {
    TestCluster.await("node " + id + " catching up", () -> {
      for (long g = 1; g <= TestCluster.GROUPS; g++) {
        long leader = cluster.leaderOf(g);
        if (leader == 0 || cluster.servers.get(id).status(g).applied()
            < cluster.servers.get(leader).status(g).commit()) {
          return false;
        }
      }
      return true;
    });
  }

  @Test
  void writesContinueWithoutTheLeaderAndARestartedNodeCatchesUpFromASnapshot()
      throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3);
        KvClient client = KvClient.connect(cluster.endpoints())) {
      cluster.awaitLeaders();
      for (int i = 0; i < 20; i++) {
        client.put("before-" + i, "v" + i);
      }
      long victim = cluster.leaderOf(1);
      cluster.stop(victim);
      for (int i = 0; i < 200; i++) {
        client.put("during-" + i, "v" + i); // retried through the election
      }
      // Compact every group's log on the survivors, so the victim needs a snapshot.
      for (KvServer s : cluster.servers.values()) {
        HttpPool.Response r = http(Peers.format(s.httpAddress()), "POST", "/v1/snapshot", "");
        assertEquals(200, r.status(), r.text());
      }
      for (int i = 0; i < 100; i++) {
        client.put("after-" + i, "v" + i);
      }
      KvServer back = cluster.restart(victim);
      awaitCaughtUp(cluster, victim);
      // The victim takes no snapshots of its own (interval 0): any file came from a leader.
      try (var files = java.nio.file.Files.list(dir.resolve("n" + victim).resolve("raft")
          .resolve("snapshots"))) {
        assertTrue(files.findAny().isPresent(), "no snapshot was installed");
      }
      String endpoint = Peers.format(back.httpAddress());
      for (String prefix : List.of("before-", "during-", "after-")) {
        for (int i = 0; i < 20; i++) {
          assertEquals(Optional.of("v" + i), staleGet(endpoint, prefix + i), prefix + i);
        }
      }
    }
  }

  /**
   * A crash can leave a node's maps ahead of the commit index its log recorded durably (the
   * commit index is synced lazily): the node must still start, trust what its maps applied,
   * and catch up from there.
   */
  @Test
  void aNodeWhoseMapsAreAheadOfItsLogsCommitIndexRestarts() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3);
        KvClient client = KvClient.connect(cluster.endpoints())) {
      cluster.awaitLeaders();
      for (int i = 0; i < 30; i++) {
        client.put("before-" + i, "v" + i);
      }
      long victim = 2;
      awaitCaughtUp(cluster, victim);
      cluster.stop(victim);
      Path raft = dir.resolve("n" + victim).resolve("raft");
      try (WriteAheadLog wal = WriteAheadLog.open(raft, WriteAheadLog.Options.defaults())) {
        for (var e : wal.recovered().entrySet()) {
          HardState hs = e.getValue().hardState();
          assertTrue(hs.commit() > 0);
          wal.saveHardState(e.getKey(), new HardState(hs.term(), hs.vote(), 0));
        }
        wal.sync();
      }
      KvServer back = cluster.restart(victim);
      for (int i = 0; i < 10; i++) {
        client.put("after-" + i, "v" + i);
      }
      awaitCaughtUp(cluster, victim);
      String endpoint = Peers.format(back.httpAddress());
      for (String prefix : List.of("before-", "after-")) {
        for (int i = 0; i < 10; i++) {
          assertEquals(Optional.of("v" + i), staleGet(endpoint, prefix + i), prefix + i);
        }
      }
    }
  }

  @Test
  void aNodeJoinsAndAnotherIsRemoved() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3);
        KvClient client = KvClient.connect(cluster.endpoints())) {
      cluster.awaitLeaders();
      for (int i = 0; i < 50; i++) {
        client.put("k" + i, "v" + i);
      }
      String raft4 = "127.0.0.1:" + TestCluster.freePort();
      HttpPool.Response added = http(cluster.endpoint(2), "POST", "/v1/members",
          "{\"id\":4,\"raft\":\"" + raft4 + "\",\"role\":\"voter\"}");
      assertTrue(added.status() == 200 || added.status() == 202, added.text());
      KvServer four = KvServer.start(new KvServer.Options(4, dir.resolve("n4"), raft4,
          "127.0.0.1:0", null, cluster.endpoint(1), 0, TestCluster.tuning()));
      cluster.servers.put(4L, four);
      TestCluster.await("node 4 a voter everywhere", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          long leader = cluster.leaderOf(g);
          if (leader == 0 || !cluster.servers.get(leader).membership(g).isVoter(4)) {
            return false;
          }
        }
        return true;
      });
      awaitCaughtUp(cluster, 4);
      assertEquals(Optional.of("v7"), staleGet(Peers.format(four.httpAddress()), "k7"));

      HttpPool.Response removed = http(cluster.endpoint(4), "DELETE", "/v1/members/1", null);
      assertTrue(removed.status() == 200 || removed.status() == 202, removed.text());
      TestCluster.await("node 1 gone from every group", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          long leader = cluster.leaderOf(g);
          if (leader == 0 || leader == 1
              || cluster.servers.get(leader).membership(g).isMember(1)) {
            return false;
          }
        }
        return true;
      });
      cluster.stop(1);
      client.put("k-after", "still works");
      assertEquals(Optional.of("still works"), client.get("k-after"));
      HttpPool.Response reuse = http(cluster.endpoint(2), "POST", "/v1/members",
          "{\"id\":1,\"raft\":\"127.0.0.1:1\"}");
      assertEquals(409, reuse.status(), reuse.text());
    }
  }

  /**
   * Clients do gets, puts and compare-and-sets on a few keys while a nemesis stops and
   * restarts group leaders; the history they record must be linearizable.
   */
  @Test
  void historyUnderLeaderCrashesIsLinearizable() throws Exception {
    HistoryBuilder history = new HistoryBuilder();
    long t0 = System.nanoTime();
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong processes = new AtomicLong();
      List<Thread> clients = new ArrayList<>();
      KvClient.Options options = KvClient.Options.defaults()
          .withOperationTimeout(Duration.ofSeconds(3));
      for (int c = 0; c < 4; c++) {
        int seed = c;
        Thread t = new Thread(() -> {
          Random random = new Random(seed);
          long process = processes.getAndIncrement();
          try (KvClient client = KvClient.connect(cluster.endpoints(), options)) {
            while (running.get()) {
              long key = random.nextInt(3);
              long value = random.nextInt(5);
              byte[] k = ("key" + key).getBytes(StandardCharsets.UTF_8);
              int kind = random.nextInt(3);
              String f = kind == 0 ? Kv.GET : kind == 1 ? Kv.PUT : Kv.CAS;
              long expected = random.nextInt(5);
              Object invokeValue = kind == 0 ? Kv.pair(key, null) : kind == 1
                  ? Kv.pair(key, value) : Kv.casValue(key, expected, value);
              synchronized (history) {
                history.invoke(process, f, invokeValue, System.nanoTime() - t0);
              }
              try {
                Object okValue = invokeValue;
                boolean applied = true;
                if (kind == 0) {
                  Optional<byte[]> v = client.get(k);
                  okValue = Kv.pair(key, v.map(b -> Long.parseLong(new String(b,
                      StandardCharsets.UTF_8))).orElse(null));
                } else if (kind == 1) {
                  client.put(k, String.valueOf(value).getBytes(StandardCharsets.UTF_8));
                } else {
                  applied = client.compareAndSet(k, String.valueOf(expected).getBytes(
                      StandardCharsets.UTF_8), String.valueOf(value).getBytes(
                      StandardCharsets.UTF_8));
                }
                synchronized (history) {
                  if (applied) {
                    history.ok(process, f, okValue, System.nanoTime() - t0);
                  } else {
                    history.fail(process, f, okValue, System.nanoTime() - t0);
                  }
                }
              } catch (KvClientException e) {
                synchronized (history) {
                  if (e.outcomeUnknown() && kind != 0) {
                    history.info(process, f, invokeValue, System.nanoTime() - t0);
                    process = processes.getAndIncrement() + 100; // a crashed process never returns
                  } else {
                    history.fail(process, f, invokeValue, System.nanoTime() - t0);
                  }
                }
              }
            }
          }
        }, "history-client-" + c);
        clients.add(t);
        t.start();
      }
      Random nemesis = new Random(42);
      for (int round = 0; round < 3; round++) {
        Thread.sleep(1500);
        long victim = cluster.leaderOf(1 + nemesis.nextInt(TestCluster.GROUPS));
        if (victim != 0) {
          cluster.stop(victim);
          Thread.sleep(1500);
          cluster.restart(victim);
        }
      }
      Thread.sleep(1500);
      running.set(false);
      for (Thread t : clients) {
        t.join(30_000);
      }
    }
    History h = history.build();
    assertTrue(h.operations().size() > 100, "only " + h.operations().size() + " operations");
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(h);
    assertTrue(result.isValid(), result.toString());
  }
}
