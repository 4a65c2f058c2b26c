package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Witnesses offered by kv-app ({@code "role":"witness"}): two data nodes and a witness on real
 * sockets. The witness joins every group as a witness, learns the address book from a data
 * replica (its own group 1 holds no payloads), forwards writes, refuses reads; one data node
 * dies and every group goes on writing with the other and the witness; the witness's data
 * directory holds none of the values.
 */
@Timeout(240)
class WitnessClusterTest {
  /** The hashed groups and the one the test adds. */
  private static final long[] GROUPS = {1, 2, 3, 10};

  @TempDir Path dir;

  private static HttpPool.Response http(String endpoint, String method, String target,
      String body) throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(30), 1)) {
      return pool.send(Peers.address(endpoint), method, target, Map.of(),
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A value no other test writes: found in a data dir only if the node stores values. */
  private static String value(int i) {
    return "witness-test-value-" + i + "-ff1d7";
  }

  @Test
  void twoDataNodesAndAWitnessSurviveTheLossOfADataNode() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 2)) {
      cluster.awaitLeaders();
      String raft3 = "127.0.0.1:" + Ports.free();
      HttpPool.Response bad = http(cluster.endpoint(1), "POST", "/v1/members",
          "{\"id\":3,\"raft\":\"" + raft3 + "\",\"role\":\"observer\"}");
      assertEquals(400, bad.status());
      assertTrue(bad.text().contains("voter, learner or witness"), bad.text());
      HttpPool.Response added = http(cluster.endpoint(1), "POST", "/v1/members",
          "{\"id\":3,\"raft\":\"" + raft3 + "\",\"role\":\"witness\"}");
      assertTrue(added.status() == 200 || added.status() == 202, added.text());
      assertTrue(added.text().contains("\"role\":\"witness\""), added.text());
      KvServer witness = KvServer.start(new KvServer.Options(3, dir.resolve("n3"), raft3,
          "127.0.0.1:0", null, cluster.endpoint(1), 0, TestCluster.tuning()));
      cluster.servers.put(3L, witness);
      TestCluster.await("node 3 a witness of every group", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          long leader = cluster.leaderOf(g);
          if (leader == 0 || leader == 3 || !cluster.servers.get(leader).membership(g)
              .isWitness(3) || !witness.membership(g).isWitness(3)) {
            return false;
          }
        }
        return true;
      });
      // Its book came from a data replica: it knows both data nodes' HTTP addresses.
      TestCluster.await("the witness's copy of the address book", () -> {
        try {
          String members = http(Peers.format(witness.httpAddress()), "GET", "/v1/members",
              null).text();
          return members.contains("\"http\":\"" + cluster.endpoint(1) + "\"")
              && members.contains("\"http\":\"" + cluster.endpoint(2) + "\"")
              && members.contains("{\"id\":3,\"raft\":\"" + raft3 + "\"")
              && members.contains("\"role\":\"witness\"");
        } catch (Exception e) {
          return false;
        }
      });
      String third = Peers.format(witness.httpAddress());
      assertTrue(http(third, "GET", "/v1/status", null).text().contains("\"witnesses\":[3]"));

      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        for (int i = 0; i < 30; i++) {
          client.put("k" + i, value(i));
        }
      }
      // Writes sent to the witness are handed to the leader; reads are refused, stale too
      // (its map is empty, not behind), naming the leader.
      HttpPool.Response through = http(third, "PUT", "/v1/kv/via-witness", value(100));
      assertEquals(200, through.status(), through.text());
      for (String query : List.of("", "?consistency=stale")) {
        HttpPool.Response read = http(third, "GET", "/v1/kv/k1" + query, null);
        assertEquals(503, read.status(), read.text());
        assertTrue(read.text().contains("\"witness\"") && read.text().contains("data replica"),
            read.text());
        assertTrue(read.leader() == 1 || read.leader() == 2, "leader hint " + read.leader());
      }
      HttpPool.Response export = http(third, "GET", "/v1/snapshot/1", null);
      assertEquals(409, export.status(), export.text());
      // A group with a witness keeps two data voters: removing one is refused up front.
      HttpPool.Response remove = http(cluster.endpoint(2), "DELETE", "/v1/members/1", null);
      assertEquals(409, remove.status(), remove.text());
      assertTrue(remove.text().contains("last_data_voters"), remove.text());

      // A group added now starts with the same witness on every node.
      HttpPool.Response group = http(cluster.endpoint(2), "POST", "/v1/groups",
          "{\"group\":10}");
      assertEquals(201, group.status(), group.text());
      TestCluster.await("group 10 with its witness", () -> witness.runs(10)
          && witness.membership(10).isWitness(3) && witness.status(10).leader() != 0);
      assertEquals(200, http(third, "PUT", "/v1/kv/g10?group=10", value(103)).status());

      // Both data nodes hold everything; then one of them dies for good.
      awaitDataNodesCaughtUp(cluster);
      long victim = cluster.leaderOf(1);
      long survivor = 3 - victim;
      cluster.stop(victim);
      TestCluster.await("node " + survivor + " leading every group", () -> {
        for (long g : GROUPS) {
          if (cluster.leaderOf(g) != survivor) {
            return false;
          }
        }
        return true;
      });
      String alive = cluster.endpoint(survivor);
      try (KvClient client = KvClient.connect(List.of(alive, third))) {
        for (int i = 30; i < 60; i++) {
          client.put("k" + i, value(i)); // committed by the survivor and the witness
        }
        for (int i = 0; i < 60; i++) {
          assertEquals(Optional.of(value(i)), client.get("k" + i), "k" + i);
        }
      }
      assertEquals(200, http(third, "PUT", "/v1/kv/via-witness-2", value(101)).status());
      assertEquals(value(103), http(alive, "GET", "/v1/kv/g10?group=10", null).text());
      assertEquals(200, http(third, "PUT", "/v1/kv/g10b?group=10", value(104)).status());

      // The witness restarts from its data dir alone: its copy of the book says where the
      // survivor's HTTP API is, so it forwards writes again.
      cluster.stop(3);
      String book = Files.readString(dir.resolve("n3").resolve(BookMirror.FILE));
      assertTrue(book.contains(cluster.endpoint(survivor).replace(":", "\\:")), book);
      KvServer again = cluster.restart(3);
      String restarted = Peers.format(again.httpAddress());
      TestCluster.await("a leader in every group again", () -> {
        for (long g : GROUPS) {
          if (cluster.leaderOf(g) != survivor || again.status(g).leader() != survivor) {
            return false;
          }
        }
        return true;
      });
      HttpPool.Response after = http(restarted, "PUT", "/v1/kv/via-witness-3", value(102));
      assertEquals(200, after.status(), after.text());
      assertEquals(value(102), http(alive, "GET", "/v1/kv/via-witness-3", null).text());

      // What the witness stored: logs, maps and the book, but no value.
      assertTrue(stores(dir.resolve("n" + survivor), value(59)), "the scan finds values");
      for (int i : new int[] {0, 29, 30, 59, 100, 101, 102, 103, 104}) {
        assertFalse(stores(dir.resolve("n3"), value(i)), "the witness stored " + value(i));
      }

      // With the witness the only replica left, it still refuses reads, and writes fail.
      cluster.stop(survivor);
      HttpPool.Response read = http(restarted, "GET", "/v1/kv/k1?consistency=stale", null);
      assertEquals(503, read.status());
      assertTrue(read.text().contains("\"witness\""), read.text());
      HttpPool.Response write = http(restarted, "PUT", "/v1/kv/lost", "x");
      assertEquals(503, write.status(), write.text());
    }
  }

  @Test
  void aWitnessNextToASingleDataVoterIsRefused() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 1)) {
      cluster.awaitLeaders();
      HttpPool.Response r = http(cluster.endpoint(1), "POST", "/v1/members",
          "{\"id\":2,\"raft\":\"127.0.0.1:1\",\"role\":\"witness\"}");
      assertEquals(409, r.status(), r.text());
      assertTrue(r.text().contains("witness_needs_data_voters")
          && r.text().contains("two data voters"), r.text());
    }
  }

  private static void awaitDataNodesCaughtUp(TestCluster cluster) {
    TestCluster.await("both data nodes applied every commit", () -> {
      for (long g : GROUPS) {
        long leader = cluster.leaderOf(g);
        if (leader == 0) {
          return false;
        }
        long commit = cluster.servers.get(leader).status(g).commit();
        for (long id = 1; id <= 2; id++) {
          if (cluster.servers.get(id).status(g).applied() < commit) {
            return false;
          }
        }
      }
      return true;
    });
  }

  /** Whether any file under {@code dataDir} contains {@code text}. */
  private static boolean stores(Path dataDir, String text) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> files = Files.walk(dataDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (indexOf(Files.readAllBytes(f), needle) >= 0) {
          return true;
        }
      }
    }
    return false;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
