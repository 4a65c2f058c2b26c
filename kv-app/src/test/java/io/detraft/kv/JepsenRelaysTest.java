package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TCP relays of {@code detraft test}: a cut link resets its connections and refuses new
 * ones until healed, other links carry on, and closing ends every thread and frees every
 * address. Real sockets on loopback; node 2 is an echo server.
 */
@Timeout(60)
class JepsenRelaysTest {
  @TempDir Path dir;

  @Test
  void aCutLinkResetsAndRefusesUntilHealedAndCloseLeavesNothing() throws Exception {
    InetSocketAddress relay12;
    try (JepsenRelays relays = JepsenRelays.create(3, dir);
        ServerSocket node2 = new ServerSocket()) {
      relay12 = relays.relayAddress(1, 2);
      node2.bind(relays.listenAddress(2));
      Thread echo = new Thread(() -> echo(node2), "echo-node-2");
      echo.setDaemon(true);
      echo.start();

      // Node 1's file resolves node 2's name to relay (1, 2), and its own to where it listens.
      String hosts1 = Files.readString(JepsenRelays.hostsFile(dir, 1));
      assertTrue(hosts1.contains(relay12.getHostString() + " dt-n2"), hosts1);
      assertTrue(hosts1.contains(relays.listenAddress(1).getHostString() + " dt-n1"), hosts1);
      assertTrue(relays.raftAddress(2).startsWith("dt-n2:"));

      try (Socket from1 = connect(relay12); Socket from3 = connect(relays.relayAddress(3, 2))) {
        assertTrue(echoes(from1) && echoes(from3), "both links carry bytes");
        relays.cut(1, 2);
        assertTrue(!echoes(from1), "the open connection of a cut link is reset");
        assertTrue(!connectsAndEchoes(relay12), "a new connection on a cut link is reset");
        assertTrue(echoes(from3), "another link into the same node still works");
        assertTrue(relays.cutConnections() >= 2, "counted: " + relays.cutConnections());
        relays.healPartitions();
        try (Socket healed = connect(relay12)) {
          assertTrue(echoes(healed), "healed");
        }
      }
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!JepsenRelays.threads().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(List.of(), JepsenRelays.threads());
    try (ServerSocket free = new ServerSocket()) {
      free.bind(relay12); // the relay's address is free again
    }
  }

  private static Socket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5_000);
    s.setSoTimeout(5_000);
    return s;
  }

  /** Whether a new connection carries a byte there and back (the reset may come at connect). */
  private static boolean connectsAndEchoes(InetSocketAddress address) {
    try (Socket s = connect(address)) {
      return echoes(s);
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether a byte sent comes back; false on reset or end of stream. */
  private static boolean echoes(Socket s) {
    try {
      s.getOutputStream().write(42);
      return s.getInputStream().read() == 42;
    } catch (IOException e) {
      return false;
    }
  }

  private static void echo(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread t = new Thread(() -> {
          try (s; InputStream in = s.getInputStream()) {
            for (int b; (b = in.read()) >= 0; ) {
              s.getOutputStream().write(b);
            }
          } catch (IOException e) {
            // Reset by a cut.
          }
        }, "echo");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }
}
