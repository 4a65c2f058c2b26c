package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Codec;
import io.detraft.core.Message;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every node of a committing 3-node cluster is hit by bad connections; it keeps committing. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileTrafficTest {
  @TempDir Path dir;

  @Test
  void badPeersNeitherStopNodesNorStallCommits() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      cluster.awaitLeader(Duration.ofSeconds(20));
      List<Socket> hanging = new ArrayList<>();
      Random random = new Random(7);
      int committed = 0;
      try {
        for (int round = 0; round < 4; round++) {
          for (long id = 1; id <= 3; id++) {
            hanging.addAll(attack(cluster, id, random));
          }
          // Commits go on while the attackers hang on to their connections.
          for (int i = 0; i < 25; i++) {
            String answer = new String(cluster.propose("cmd-" + round + "-" + i,
                Duration.ofSeconds(10)), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("ok:"));
            committed++;
          }
        }
      } finally {
        for (Socket s : hanging) {
          s.close();
        }
      }
      assertEquals(100, committed);
      for (long id = 1; id <= 3; id++) {
        assertTrue(cluster.runner(id).isRunning(), "node " + id + " stopped");
        TcpTransport.Stats stats = cluster.transport(id).stats();
        assertTrue(stats.refusedConnections() >= 4 && stats.malformedConnections() >= 4,
            "node " + id + ": " + stats);
      }
      ClusterTest.awaitSameHistory(cluster, 100);
    }
  }

  /** Opens bad connections to node {@code id}; returns those left hanging. */
  private static List<Socket> attack(LocalCluster cluster, long id, Random random)
      throws IOException {
    List<Socket> hanging = new ArrayList<>();
    long impostor = id == 1 ? 2 : 1;
    // The node may refuse and reset a bad connection at any byte: a SocketException on our
    // side is an answer, not a failure of the test.
    try (Socket junk = connect(cluster, id)) { // random bytes
      byte[] bytes = new byte[1 + random.nextInt(4096)];
      random.nextBytes(bytes);
      refusable(() -> junk.getOutputStream().write(bytes));
    }
    try (Socket stranger = connect(cluster, id)) { // another cluster
      refusable(() -> Handshake.writeHello(new DataOutputStream(stranger.getOutputStream()),
          "not-" + LocalCluster.CLUSTER_ID, impostor, id));
    }
    try (Socket big = connect(cluster, id)) { // an oversized frame
      refusable(() -> {
        DataOutputStream out = hello(big, impostor, id);
        out.writeInt(Integer.MAX_VALUE);
        out.flush();
      });
    }
    try (Socket garbage = connect(cluster, id)) { // a frame the codec rejects
      refusable(() -> {
        DataOutputStream out = hello(garbage, impostor, id);
        byte[] frame = Codec.encode(new Message.Heartbeat(1, impostor, id, 1, 0, 0));
        frame[1] = 100; // no such message type
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
      });
    }
    hanging.add(connect(cluster, id)); // half-open: connects, says nothing
    Socket stalled = connect(cluster, id);
    hello(stalled, impostor, id).write(new byte[] {0, 0, 1}); // stops inside a length
    hanging.add(stalled);
    return hanging;
  }

  private interface Write {
    void run() throws IOException;
  }

  private static void refusable(Write write) throws IOException {
    try {
      write.run();
    } catch (SocketException e) {
      // Refused and reset by the node: as it should.
    }
  }

  private static Socket connect(LocalCluster cluster, long id) throws IOException {
    Socket socket = new Socket();
    socket.connect(cluster.address(id), 1000);
    return socket;
  }

  private static DataOutputStream hello(Socket socket, long from, long to) throws IOException {
    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
    Handshake.writeHello(out, LocalCluster.CLUSTER_ID, from, to);
    socket.getInputStream().read(new byte[3]); // the answer (accepted, empty reason)
    return out;
  }
}
