package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.io.RealDisk;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real 3-node cluster on loopback: the HTTP API end to end. */
@Timeout(120)
class KvServerTest {
  @TempDir Path dir;

  private static HttpPool.Response http(String endpoint, String method, String target,
      String body) throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1)) {
      return pool.send(Peers.address(endpoint), method, target, Map.of(),
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void crudThroughEveryNode() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      for (long id = 1; id <= 3; id++) {
        String node = cluster.endpoint(id);
        String key = "key-" + id;
        assertEquals(200, http(node, "PUT", "/v1/kv/" + key, "v" + id).status());
        for (long reader = 1; reader <= 3; reader++) {
          HttpPool.Response r = http(cluster.endpoint(reader), "GET", "/v1/kv/" + key, null);
          assertEquals(200, r.status(), r.text());
          assertEquals("v" + id, r.text());
        }
        HttpPool.Response cas = http(node, "PUT", "/v1/kv/" + key + "?cas=wrong", "x");
        assertEquals(409, cas.status());
        assertTrue(cas.text().contains("\"current\":\"v" + id + "\""), cas.text());
        assertEquals(200, http(node, "PUT", "/v1/kv/" + key + "?cas=v" + id, "w").status());
        assertEquals(200, http(node, "DELETE", "/v1/kv/" + key, null).status());
        // Linearizable: sees the delete on any node. (A stale read may lag on a follower.)
        assertEquals(404, http(node, "GET", "/v1/kv/" + key, null).status());
      }
      String list = http(cluster.endpoint(2), "POST", "/v1/txn",
          "{\"ops\":[{\"op\":\"append\",\"key\":\"{t}a\",\"value\":\"1\"},"
              + "{\"op\":\"append\",\"key\":\"{t}b\",\"value\":\"2\"},"
              + "{\"op\":\"read\",\"key\":\"{t}a\"}]}").text();
      assertEquals("{\"results\":[{\"ok\":true},{\"ok\":true},{\"value\":[\"1\"]}]}", list);
      HttpPool.Response bad = http(cluster.endpoint(1), "PUT", "/v1/kv/"
          + "k".repeat(2000), "v");
      assertEquals(414, bad.status());
      assertTrue(bad.text().startsWith("{\"code\":\"key_too_large\""), bad.text());
      HttpPool.Response large = http(cluster.endpoint(1), "PUT", "/v1/kv/big",
          "v".repeat(64 * 1024 + 1));
      assertEquals(413, large.status());
      assertTrue(large.text().startsWith("{\"code\":\"value_too_large\""), large.text());

      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        client.put("c", "1");
        assertEquals(Optional.of("1"), client.get("c"));
        assertTrue(client.compareAndSet(b("c"), b("1"), b("2")));
        assertFalse(client.compareAndSet(b("c"), b("1"), b("3")));
        client.append(b("l"), b("x"));
        assertTrue(client.delete(b("c")));
        assertFalse(client.delete(b("c")));
        assertEquals(Optional.empty(), client.get("c"));
      }
      long leader = cluster.leaderOf(1);
      long target = leader % 3 + 1;
      HttpPool.Response transfer = http(cluster.endpoint(leader), "POST", "/v1/leader/transfer",
          "{\"to\":" + target + ",\"group\":1}");
      assertEquals(200, transfer.status(), transfer.text());
      assertTrue(transfer.text().contains("\"1\":\"ok\""), transfer.text());
      HttpPool.Response snapshot = http(cluster.endpoint(2), "POST", "/v1/snapshot", "");
      assertEquals(200, snapshot.status(), snapshot.text());
      String status = http(cluster.endpoint(1), "GET", "/v1/status", null).text();
      assertTrue(status.contains("\"role\":\"leader\"") || status.contains("follower"), status);
      String metrics = http(cluster.endpoint(1), "GET", "/metrics", null).text();
      assertTrue(metrics.contains("detraft_raft_commit_index{node=\"1\",group=\"1\"}"), metrics);
      // The writes above were synced: a histogram of fsyncs, cumulative up to +Inf == count.
      List<Long> buckets = new ArrayList<>();
      Matcher bucket = Pattern.compile("detraft_disk_fsync_seconds_bucket\\{le=\"[^\"]+\"\\} "
          + "(\\d+)").matcher(metrics);
      while (bucket.find()) {
        buckets.add(Long.parseLong(bucket.group(1)));
      }
      Matcher count = Pattern.compile("detraft_disk_fsync_seconds_count (\\d+)").matcher(metrics);
      assertTrue(count.find() && Long.parseLong(count.group(1)) > 0, metrics);
      assertEquals(RealDisk.SYNC_BUCKETS.length + 1, buckets.size(), metrics);
      assertEquals(Long.parseLong(count.group(1)), buckets.get(buckets.size() - 1), metrics);
      for (int i = 1; i < buckets.size(); i++) {
        assertTrue(buckets.get(i) >= buckets.get(i - 1), metrics);
      }
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> unused() {
    return List.of();
  }
}
