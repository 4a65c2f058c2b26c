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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
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

  /**
   * A node restarted with other Raft and HTTP ports keeps its identity (its data directory),
   * and the others learn where it went from the address book, without a membership change,
   * while writes continue: the moved node, which hears from no leader at first, publishes its
   * new addresses through another node.
   */
  @Test
  void aNodeMovedToOtherPortsKeepsItsIdentityAndTheOthersFindIt() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      long mover = 3;
      java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic
          .AtomicInteger();
      java.util.concurrent.atomic.AtomicReference<Throwable> failure =
          new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic
          .AtomicBoolean();
      Thread writer = new Thread(() -> {
        try (KvClient client = KvClient.connect(List.of(cluster.endpoint(1),
            cluster.endpoint(2)))) {
          while (!stop.get()) {
            client.put("moving-" + written.get(), "v");
            written.incrementAndGet();
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      writer.start();
      TestCluster.await("some writes", () -> written.get() > 20);
      cluster.stop(mover);
      String raft = "127.0.0.1:" + Ports.free();
      String httpAt = "127.0.0.1:" + Ports.free();
      int before = written.get();
      TestCluster.await("writes while the node is away", () -> written.get() > before + 20);
      KvServer moved = cluster.restartAt(mover, raft, httpAt);
      assertEquals(httpAt, Peers.format(moved.httpAddress()));
      assertEquals(raft, moved.raftAddress());
      // The others dial the new address (the book says so) and the node catches up.
      TestCluster.await("the book of node 1 has the new addresses", () -> {
        try {
          String members = http(cluster.endpoint(1), "GET", "/v1/members", null).text();
          return members.contains(raft) && members.contains(httpAt);
        } catch (Exception e) {
          return false;
        }
      });
      int after = written.get();
      TestCluster.await("writes after the move", () -> written.get() > after + 20);
      stop.set(true);
      writer.join(30_000);
      assertEquals(null, failure.get(), "a write failed");
      awaitCaughtUp(cluster, mover);
      for (int i = 0; i < written.get(); i += Math.max(1, written.get() / 40)) {
        assertEquals(Optional.of("v"), staleGet(httpAt, "moving-" + i), "moving-" + i);
      }
      // Its data directory records where it is now: a plain restart stays there.
      cluster.stop(mover);
      KvServer again = cluster.restart(mover);
      assertEquals(raft, again.raftAddress());
      assertEquals(httpAt, Peers.format(again.httpAddress()));
    }
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
      String raft4 = "127.0.0.1:" + Ports.free();
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

  /** What happens to the cluster while the clients of {@link #recordHistory} record. */
  private interface Nemesis {
    void run(TestCluster cluster) throws Exception;
  }

  /**
   * Clients do gets, puts and compare-and-sets on a few keys while {@code nemesis} runs; returns
   * the history they recorded once it is done. The clients know the endpoints of the nodes
   * running now only: they must learn any other node (a joiner) from the cluster.
   */
  private static History recordHistory(TestCluster cluster, Nemesis nemesis) throws Exception {
    HistoryBuilder history = new HistoryBuilder();
    long t0 = System.nanoTime();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong processes = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    KvClient.Options options = KvClient.Options.defaults()
        .withOperationTimeout(Duration.ofSeconds(3));
    List<String> endpoints = cluster.endpoints();
    for (int c = 0; c < 4; c++) {
      int seed = c;
      Thread t = new Thread(() -> {
        Random random = new Random(seed);
        long process = processes.getAndIncrement();
        try (KvClient client = KvClient.connect(endpoints, options)) {
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
    try {
      nemesis.run(cluster);
    } finally {
      running.set(false);
      for (Thread t : clients) {
        t.join(30_000);
      }
    }
    synchronized (history) {
      return history.build();
    }
  }

  private static void assertLinearizable(History h) {
    assertTrue(h.operations().size() > 100, "only " + h.operations().size() + " operations");
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(h);
    assertTrue(result.isValid(), result.toString());
  }

  /**
   * Clients do gets, puts and compare-and-sets on a few keys while a nemesis stops and
   * restarts group leaders; the history they record must be linearizable.
   */
  @Test
  void historyUnderLeaderCrashesIsLinearizable() throws Exception {
    History h;
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      h = recordHistory(cluster, c -> {
        Random nemesis = new Random(42);
        for (int round = 0; round < 3; round++) {
          Thread.sleep(1500);
          long victim = c.leaderOf(1 + nemesis.nextInt(TestCluster.GROUPS));
          if (victim != 0) {
            c.stop(victim);
            Thread.sleep(1500);
            c.restart(victim);
          }
        }
        Thread.sleep(1500);
      });
    }
    assertLinearizable(h);
  }
  /**
   * The newest snapshot index of each group in node {@code id}'s data dir, from the file names
   * ({@code snap-GROUP-INDEX-TERM.snap}, see SnapshotStore); a group without one is absent.
   */
  private Map<Long, Long> snapshotIndexes(long id) {
    Path snapshots = dir.resolve("n" + id).resolve("raft").resolve("snapshots");
    Map<Long, Long> out = new TreeMap<>();
    if (!Files.isDirectory(snapshots)) {
      return out;
    }
    try (var files = Files.list(snapshots)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.startsWith("snap-") && name.endsWith(".snap")) {
          String[] parts = name.substring(5, name.length() - 5).split("-");
          out.merge(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Math::max);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  /** The highest commit index of each group among the running nodes. */
  private static Map<Long, Long> commits(TestCluster cluster) {
    Map<Long, Long> out = new TreeMap<>();
    for (long g = 1; g <= TestCluster.GROUPS; g++) {
      long group = g;
      out.put(g, cluster.servers.values().stream().mapToLong(s -> s.status(group).commit())
          .max().orElse(0));
    }
    return out;
  }

  /**
   * Waits until node {@code id} has applied {@code target} in every group, and holds a snapshot
   * of every group newer than {@code after}: the test tuning never snapshots by itself
   * (interval 0) and nobody asks node {@code id} to, so such a file came from a leader.
   */
  private void awaitSnapshotCatchUp(TestCluster cluster, long id, Map<Long, Long> target,
      Map<Long, Long> after) {
    TestCluster.await("node " + id + " catching up from snapshots", () -> {
      Map<Long, Long> installed = snapshotIndexes(id);
      for (long g = 1; g <= TestCluster.GROUPS; g++) {
        if (cluster.servers.get(id).status(g).applied() < target.get(g)
            || installed.getOrDefault(g, 0L) <= after.getOrDefault(g, 0L)) {
          return false;
        }
      }
      return true;
    });
  }

  /**
   * Like {@link #historyUnderLeaderCrashesIsLinearizable}, through a snapshot catch-up and
   * membership changes: a group leader is stopped; writes on other keys grow every log past
   * its last entry and the others compact their logs behind it (POST /v1/snapshot: the test
   * tuning snapshots only when asked); it restarts and must catch up from leaders'
   * snapshots. Then a fourth node joins (from snapshots too, every log being compacted) and
   * another node is removed. The history must stay linearizable throughout.
   */
  @Test
  @Timeout(90) // above TestCluster.await's 30 s, so that a stuck wait names what it waited for
  void historyThroughASnapshotCatchUpAJoinAndARemovalIsLinearizable() throws Exception {
    long trailing = TestCluster.tuning().snapshots().trailingEntries();
    History h;
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      h = recordHistory(cluster, c -> {
        Thread.sleep(1000);
        long victim = c.leaderOf(1) != 0 ? c.leaderOf(1) : 3;
        long removed = victim == 1 ? 2 : 1;
        long keeper = 6 - victim - removed;
        Map<Long, Long> victimLast = new TreeMap<>();
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          victimLast.put(g, c.servers.get(victim).status(g).lastIndex());
        }
        assertEquals(Map.of(), snapshotIndexes(victim), "a snapshot before any was asked for");
        c.stop(victim);

        try (KvClient filler = KvClient.connect(c.endpoints())) {
          int i = 0;
          while (!c.servers.values().stream().allMatch(s -> victimLast.entrySet().stream()
              .allMatch(e -> s.status(e.getKey()).applied() > e.getValue() + trailing + 20))) {
            assertTrue(i < 5_000, "the logs do not grow: " + victimLast);
            for (int j = 0; j < 10; j++, i++) {
              filler.put("filler-" + i, "v" + i);
            }
          }
        }
        for (KvServer s : c.servers.values()) {
          HttpPool.Response r = http(Peers.format(s.httpAddress()), "POST", "/v1/snapshot", "");
          assertEquals(200, r.status(), r.text());
          Map<Long, Long> taken = snapshotIndexes(s.nodeId());
          for (long g = 1; g <= TestCluster.GROUPS; g++) {
            // Compacted up to the snapshot's index minus the trailing entries.
            assertTrue(taken.getOrDefault(g, 0L) - trailing > victimLast.get(g),
                "node " + s.nodeId() + " kept the log node " + victim + " needs: " + taken
                    + " vs " + victimLast);
          }
        }
        Map<Long, Long> target = commits(c);
        c.restart(victim);
        awaitSnapshotCatchUp(c, victim, target, victimLast);

        String raft4 = "127.0.0.1:" + Ports.free();
        HttpPool.Response added = http(c.endpoint(keeper), "POST", "/v1/members",
            "{\"id\":4,\"raft\":\"" + raft4 + "\",\"role\":\"voter\"}");
        assertTrue(added.status() == 200 || added.status() == 202, added.text());
        target = commits(c);
        c.servers.put(4L, KvServer.start(new KvServer.Options(4, dir.resolve("n4"), raft4,
            "127.0.0.1:0", null, c.endpoint(keeper), 0, TestCluster.tuning())));
        TestCluster.await("node 4 a voter everywhere", () -> {
          for (long g = 1; g <= TestCluster.GROUPS; g++) {
            long leader = c.leaderOf(g);
            if (leader == 0 || !c.servers.get(leader).membership(g).isVoter(4)) {
              return false;
            }
          }
          return true;
        });
        awaitSnapshotCatchUp(c, 4, target, Map.of());

        HttpPool.Response gone = http(c.endpoint(4), "DELETE", "/v1/members/" + removed, null);
        assertTrue(gone.status() == 200 || gone.status() == 202, gone.text());
        TestCluster.await("node " + removed + " gone from every group", () -> {
          for (long g = 1; g <= TestCluster.GROUPS; g++) {
            long leader = c.leaderOf(g);
            if (leader == 0 || leader == removed
                || c.servers.get(leader).membership(g).isMember(removed)) {
              return false;
            }
          }
          return true;
        });
        c.stop(removed);
        Thread.sleep(1500); // more history on the new configuration
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          long leader = c.leaderOf(g);
          if (leader != 0) {
            assertEquals(Set.of(victim, keeper, 4L), Arrays.stream(c.servers.get(leader)
                .membership(g).voters()).boxed().collect(Collectors.toSet()), "group " + g);
          }
        }
      });
    }
    assertLinearizable(h);
  }
}
