package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Message;
import io.detraft.io.TcpTransport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS between nodes with the certificates of {@code detraft certs}: a cluster
 * replicates over it, and the link takeover it closes is refused: a node showing node 3's
 * certificate while claiming to be node 2, a node without a certificate, plain TCP.
 */
@Timeout(120)
class PeerTlsTest {
  private static final String CLUSTER = "tls-test";
  @TempDir Path dir;
  private Path certs;

  @BeforeEach
  void makeCertificates() {
    certs = dir.resolve("certs");
    assertEquals(Main.OK, Main.run(new String[] {"certs", "--dir", certs.toString(), "--nodes",
        "3"}, new PrintStream(new ByteArrayOutputStream()), System.err));
  }

  private SSLContext nodeTls(long id) {
    return TlsFiles.context(certs.resolve("ca.pem"), certs.resolve("node-" + id + ".pem"),
        certs.resolve("node-" + id + ".key"));
  }

  @Test
  void aClusterReplicatesOverMutualTls() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("c"), 3, null, this::nodeTls)) {
      cluster.awaitLeaders();
      try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1)) {
        for (long id = 1; id <= 3; id++) {
          assertEquals(200, pool.send(Peers.address(cluster.endpoint(id)), "PUT",
              "/v1/kv/k" + id, Map.of(), "v".getBytes(StandardCharsets.UTF_8)).status());
        }
      }
    }
  }

  private static TcpTransport.Options options(long id, SSLContext tls) {
    return TcpTransport.Options.defaults(CLUSTER, id)
        .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(500)).withTls(tls);
  }

  private static Message heartbeat(long from, long to) {
    return new Message.Heartbeat(1, from, to, 1, 0, 0);
  }

  @Test
  void aPeerWhoseCertificateNamesAnotherNodeIsRefused() throws Exception {
    BlockingQueue<Message> atOne = new LinkedBlockingQueue<>();
    try (TcpTransport one = TcpTransport.bind(options(1, nodeTls(1)))) {
      one.start(atOne::add);
      // The honest node 2 gets through.
      try (TcpTransport two = TcpTransport.bind(options(2, nodeTls(2)))) {
        two.setPeer(1, one.localAddress());
        two.start(m -> { });
        two.send(heartbeat(2, 1));
        assertEquals(heartbeat(2, 1), atOne.poll(10, TimeUnit.SECONDS));
      }
      // Node 3's certificate claiming node 2: refused by node 1, logged, nothing delivered.
      long refusedBefore = one.stats().refusedConnections();
      try (TcpTransport impostor = TcpTransport.bind(options(2, nodeTls(3)))) {
        impostor.setPeer(1, one.localAddress());
        impostor.start(m -> { });
        impostor.send(heartbeat(2, 1));
        TestCluster.await("the refusal", () -> one.stats().refusedConnections()
            > refusedBefore);
      }
      // No client certificate (the CA trusted, nothing shown): the handshake fails.
      long refusedNow = one.stats().refusedConnections();
      SSLContext anonymous = TlsFiles.context(certs.resolve("ca.pem"), null, null);
      try (TcpTransport nameless = TcpTransport.bind(options(2, anonymous))) {
        nameless.setPeer(1, one.localAddress());
        nameless.start(m -> { });
        nameless.send(heartbeat(2, 1));
        TestCluster.await("the refusal", () -> one.stats().refusedConnections() > refusedNow);
      }
      // Plain TCP to a TLS port.
      long refusedThen = one.stats().refusedConnections();
      try (TcpTransport plain = TcpTransport.bind(options(2, null))) {
        plain.setPeer(1, one.localAddress());
        plain.start(m -> { });
        plain.send(heartbeat(2, 1));
        TestCluster.await("the refusal", () -> one.stats().refusedConnections() > refusedThen);
      }
      assertNull(atOne.poll(200, TimeUnit.MILLISECONDS));
      // The dialer checks too: node 1 dialing "node 2" that shows node 3's certificate.
      BlockingQueue<Message> atFake = new LinkedBlockingQueue<>();
      try (TcpTransport fakeTwo = TcpTransport.bind(options(3, nodeTls(3)))) {
        fakeTwo.start(atFake::add);
        one.setPeer(2, fakeTwo.localAddress());
        one.send(heartbeat(1, 2));
        assertNull(atFake.poll(1500, TimeUnit.MILLISECONDS));
      }
    }
  }
}
