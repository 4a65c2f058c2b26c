package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write sent to a node that does not lead its group is forwarded to the leader, and the
 * answer names the leader ({@code Detraft-Leader}), so that clients send the next one there:
 * without it, a client whose leader moved (the balancer spreads leaders after a start) was
 * forwarded on every write, one more HTTP hop each, and never told.
 */
@Timeout(120)
class ForwardedWriteTest {
  @TempDir Path dir;

  @Test
  void aForwardedWriteNamesTheLeaderAndTheClientGoesThereNext() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      long group = 1;
      long leader = cluster.leaderOf(group);
      long follower = leader % 3 + 1;
      String key = TestCluster.keysOf(group, 1).get(0);

      try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1)) {
        HttpPool.Response atFollower = pool.send(Peers.address(cluster.endpoint(follower)),
            "PUT", "/v1/kv/" + key, Map.of(), "v1".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, atFollower.status(), atFollower.text());
        assertEquals(leader, atFollower.leader(), "the forwarding node names the leader");
        HttpPool.Response atLeader = pool.send(Peers.address(cluster.endpoint(leader)),
            "PUT", "/v1/kv/" + key, Map.of(), "v2".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, atLeader.status(), atLeader.text());
        assertEquals(0, atLeader.leader(), "the leader's own answer names nobody");
      }

      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        client.leaderMoved(group, follower); // as if the leader had moved since it looked
        client.put(key, "v3");
        assertEquals(Peers.address(cluster.endpoint(leader)), client.leaderAddress(group),
            "the client learned the leader from the answer");
        assertEquals("v3", client.get(key).orElseThrow());
      }
    }
  }
}
