package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster started with an admin token ({@code --auth-token-file}): changes through the admin
 * API and the internal forwarding endpoint need {@code Authorization: Bearer TOKEN} (else
 * 401); listing members and the data API stay open; nodes forward writes with the token.
 */
@Timeout(120)
class AdminTokenTest {
  @TempDir Path dir;

  private static HttpPool.Response http(String endpoint, String method, String target,
      String token, String body) throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1)) {
      return pool.send(Peers.address(endpoint), method, target,
          token == null ? Map.of() : Map.of("Authorization", "Bearer " + token),
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void adminChangesNeedTheToken() throws Exception {
    byte[] token = "t0ken".getBytes(StandardCharsets.UTF_8);
    try (TestCluster cluster = new TestCluster(dir, 3, token)) {
      cluster.awaitLeaders();
      String node = cluster.endpoint(1);
      for (String[] call : new String[][] {{"POST", "/v1/snapshot", null},
          {"POST", "/v1/leader/transfer", "{\"to\":2}"},
          {"DELETE", "/v1/members/3", null},
          {"POST", "/v1/internal/propose?group=1", "x"}}) {
        HttpPool.Response none = http(node, call[0], call[1], null, call[2]);
        assertEquals(401, none.status(), call[1] + ": " + none.text());
        assertTrue(none.text().contains("\"code\":\"unauthorized\""), none.text());
        HttpPool.Response wrong = http(node, call[0], call[1], "nope", call[2]);
        assertEquals(401, wrong.status(), call[1] + ": " + wrong.text());
      }
      assertEquals(200, http(node, "POST", "/v1/snapshot", "t0ken", null).status());
      assertEquals(200, http(node, "GET", "/v1/members", null, null).status());
      // Writes arriving at followers are forwarded to leaders, with the token: every node
      // gets a key of every group, so each node forwards to the leaders of the others.
      Partitioner partitioner = new Partitioner(TestCluster.GROUPS);
      for (long id = 1; id <= 3; id++) {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          String key = "k" + id;
          for (int i = 0; partitioner.groupOf(key.getBytes(StandardCharsets.UTF_8)) != g; i++) {
            key = "k" + id + "-" + i;
          }
          HttpPool.Response put = http(cluster.endpoint(id), "PUT", "/v1/kv/" + key, null,
              "v" + id);
          assertEquals(200, put.status(), put.text());
          assertEquals("v" + id, http(cluster.endpoint(4 - id), "GET", "/v1/kv/" + key, null,
              null).text());
        }
      }
    }
  }
}
