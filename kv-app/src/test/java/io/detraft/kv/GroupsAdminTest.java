package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups at runtime on a real 3-node cluster ({@code POST /v1/groups}, {@code DELETE
 * /v1/groups/G}): a group's replica stops on one node while the others go on, stays stopped
 * across a restart of the process, starts again and catches up; a group added to the
 * running cluster elects a leader and serves keys that name it; bad requests get clear errors.
 */
@Timeout(180)
class GroupsAdminTest {
  private static final String TOKEN = "groups-secret";
  private static final Map<String, String> ADMIN = Map.of("Authorization", "Bearer " + TOKEN);

  @TempDir Path dir;

  private static HttpPool.Response http(String endpoint, String method, String target,
      Map<String, String> headers, String body) throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(40), 1)) {
      return pool.send(Peers.address(endpoint), method, target, headers,
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static HttpPool.Response admin(String endpoint, String method, String target,
      String body) throws Exception {
    return http(endpoint, method, target, ADMIN, body);
  }

  @Test
  void aStoppedReplicaStaysStoppedAcrossARestartThenStartsAndCatchesUp() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3, TOKEN.getBytes(StandardCharsets.UTF_8));
        KvClient client = KvClient.connect(cluster.endpoints())) {
      cluster.awaitLeaders();
      List<String> keys = TestCluster.keysOf(2, 40);
      for (String k : keys.subList(0, 10)) {
        client.put(k, "before");
      }
      String third = cluster.endpoint(3);

      // Bad requests: no token, unknown group, group 1, not a number, bad JSON.
      assertEquals(401, http(third, "DELETE", "/v1/groups/2", Map.of(), null).status());
      HttpPool.Response unknown = admin(third, "DELETE", "/v1/groups/77", null);
      assertEquals(404, unknown.status());
      assertTrue(unknown.text().contains("no group 77"), unknown.text());
      HttpPool.Response first = admin(third, "DELETE", "/v1/groups/1", null);
      assertEquals(409, first.status());
      assertTrue(first.text().contains("address book"), first.text());
      assertEquals(400, admin(third, "DELETE", "/v1/groups/two", null).status());
      HttpPool.Response badJson = admin(third, "POST", "/v1/groups", "{\"group\":");
      assertEquals(400, badJson.status());
      assertTrue(badJson.text().contains("not a JSON object"), badJson.text());
      assertEquals(400, admin(third, "POST", "/v1/groups", "{\"group\":\"x\"}").status());
      HttpPool.Response running = admin(third, "POST", "/v1/groups", "{\"group\":2}");
      assertEquals(409, running.status());
      assertTrue(running.text().contains("already_running"), running.text());

      // Stop group 2 on node 3: twice is refused, reads of it there are refused (not a 404:
      // that would read as "no such key"), and writes go on through the other two.
      HttpPool.Response stopped = admin(third, "DELETE", "/v1/groups/2", null);
      assertEquals(200, stopped.status(), stopped.text());
      HttpPool.Response again = admin(third, "DELETE", "/v1/groups/2", null);
      assertEquals(409, again.status());
      assertTrue(again.text().contains("already stopped"), again.text());
      HttpPool.Response read = http(third, "GET", "/v1/kv/" + keys.get(0)
          + "?consistency=stale", Map.of(), null);
      assertEquals(503, read.status());
      assertTrue(read.text().contains("group_not_running"), read.text());
      String groups = admin(third, "GET", "/v1/groups", null).text();
      assertTrue(groups.contains("\"running\":[1,3]") && groups.contains("\"stopped\":[2]"),
          groups);
      for (String k : keys.subList(10, 40)) {
        client.put(k, "during"); // the client asks another node when node 3 refuses
      }

      // The stop outlives a restart of the process.
      cluster.stop(3);
      KvServer restarted = cluster.restart(3);
      assertTrue(!restarted.runs(2) && restarted.runs(1) && restarted.runs(3));
      assertTrue(admin(third(cluster), "GET", "/v1/groups", null).text()
          .contains("\"stopped\":[2]"));

      // Started again, it catches up from its own log and the leader.
      HttpPool.Response started = admin(third(cluster), "POST", "/v1/groups", "{\"group\":2}");
      assertEquals(200, started.status(), started.text());
      assertTrue(started.text().contains("\"created\":false"), started.text());
      long leader = cluster.leaderOf(2);
      TestCluster.await("node 3 catching up in group 2", () -> cluster.leaderOf(2) != 0
          && restarted.status(2).applied() >= cluster.servers.get(cluster.leaderOf(2))
              .status(2).commit());
      assertTrue(leader != 0);
      for (String k : keys) {
        HttpPool.Response r = http(third(cluster), "GET", "/v1/kv/" + k + "?consistency=stale",
            Map.of(), null);
        assertEquals(200, r.status(), k + ": " + r.text());
      }
      assertEquals("during", http(third(cluster), "GET", "/v1/kv/" + keys.get(39), Map.of(),
          null).text());
    }
  }

  private static String third(TestCluster cluster) {
    return cluster.endpoint(3);
  }

  @Test
  void aGroupAddedToARunningClusterElectsALeaderAndServesTheKeysThatNameIt() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3, TOKEN.getBytes(StandardCharsets.UTF_8))) {
      cluster.awaitLeaders();
      String one = cluster.endpoint(1);
      assertEquals(401, http(one, "POST", "/v1/groups", Map.of(), "{\"group\":10}").status());
      HttpPool.Response added = admin(one, "POST", "/v1/groups", "{\"group\":10}");
      assertEquals(201, added.status(), added.text());
      assertTrue(added.text().contains("\"created\":true")
          && added.text().contains("\"voters\":[1,2,3]"), added.text());
      // The other nodes read the address book and start their replicas by themselves.
      TestCluster.await("every node runs group 10, with a leader", () -> cluster.servers
          .values().stream().allMatch(s -> s.runs(10)) && cluster.leaderOf(10) != 0);
      HttpPool.Response twice = admin(cluster.endpoint(2), "POST", "/v1/groups",
          "{\"group\":10}");
      assertEquals(409, twice.status(), twice.text());

      // A key written to group 10 is there, and only there: no existing key moved.
      String key = TestCluster.keysOf(1, 1).get(0);
      assertEquals(200, putRetrying(cluster.endpoint(2), key + "?group=10", "in-ten"));
      assertEquals("in-ten", http(cluster.endpoint(3), "GET", "/v1/kv/" + key + "?group=10",
          Map.of(), null).text());
      assertEquals(404, http(cluster.endpoint(3), "GET", "/v1/kv/" + key, Map.of(), null)
          .status());
      HttpPool.Response otherHashed = http(one, "PUT", "/v1/kv/" + key + "?group=2", Map.of(),
          "x");
      assertEquals(400, otherHashed.status());
      assertTrue(otherHashed.text().contains("hashes to group 1"), otherHashed.text());
      HttpPool.Response noGroup = http(one, "GET", "/v1/kv/" + key + "?group=99", Map.of(),
          null);
      assertEquals(404, noGroup.status());
      assertTrue(noGroup.text().contains("no_group"), noGroup.text());
      String groups = admin(one, "GET", "/v1/groups", null).text();
      assertTrue(groups.contains("\"group_count\":3") && groups.contains("\"added\":[10]")
          && groups.contains("\"running\":[1,2,3,10]"), groups);

      // A restarted node starts the added group again from the book and its own log.
      cluster.stop(2);
      KvServer restarted = cluster.restart(2);
      assertTrue(restarted.runs(10));
      TestCluster.await("node 2 serving group 10", () -> {
        try {
          return http(cluster.endpoint(2), "GET", "/v1/kv/" + key + "?group=10", Map.of(),
              null).text().equals("in-ten");
        } catch (Exception e) {
          return false;
        }
      });
    }
  }

  /** PUTs until the group has a leader that answers (a new group may still be electing). */
  private static int putRetrying(String endpoint, String target, String value)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    HttpPool.Response r;
    do {
      r = http(endpoint, "PUT", "/v1/kv/" + target, Map.of(), value);
      if (r.status() == 200) {
        return 200;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return r.status();
  }
}
