package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Codec;
import io.detraft.core.Message;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Two transports on loopback, and raw sockets playing every kind of bad peer. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpTransportTest {
  private static final String CLUSTER = "transport-test";
  private static final Duration SHORT = Duration.ofMillis(300);

  private TcpTransport a;
  private TcpTransport b;
  private final BlockingQueue<Message> atA = new LinkedBlockingQueue<>();
  private final BlockingQueue<Message> atB = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() throws IOException {
    a = TcpTransport.bind(options(CLUSTER, 1));
    b = TcpTransport.bind(options(CLUSTER, 2));
    a.setPeer(2, b.localAddress());
    b.setPeer(1, a.localAddress());
    a.start(atA::add);
    b.start(atB::add);
  }

  @AfterEach
  void stop() {
    a.close();
    b.close();
  }

  private static TcpTransport.Options options(String cluster, long id) {
    return TcpTransport.Options.defaults(cluster, id).withTimeouts(SHORT, SHORT)
        .withLimits(4096, 1000);
  }

  private static Message heartbeat(long from, long to, long term) {
    return new Message.Heartbeat(1, from, to, term, 0, 0);
  }

  @Test
  void deliversMessagesBothWaysInOrder() throws Exception {
    for (int i = 1; i <= 500; i++) {
      assertTrue(a.send(heartbeat(1, 2, i)));
    }
    assertTrue(b.send(heartbeat(2, 1, 7)));
    for (int i = 1; i <= 500; i++) {
      assertEquals(heartbeat(1, 2, i), atB.poll(5, TimeUnit.SECONDS));
    }
    assertEquals(heartbeat(2, 1, 7), atA.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void aRoundsMessagesGoToEachPeerInOrderAndABatchTooLargeForTheQueueIsDroppedWhole()
      throws Exception {
    TcpTransport c = TcpTransport.bind(options(CLUSTER, 3));
    BlockingQueue<Message> atC = new LinkedBlockingQueue<>();
    try {
      c.start(atC::add);
      a.setPeer(3, c.localAddress());
      List<Message> round = new ArrayList<>();
      for (int i = 1; i <= 300; i++) { // interleaved, as a round of many groups is
        round.add(heartbeat(1, 2 + i % 2, i));
      }
      round.add(heartbeat(1, 7, 1)); // no address: dropped, the others still go
      assertEquals(300, a.send(round));
      for (int i = 1; i <= 300; i++) {
        assertEquals(heartbeat(1, 2 + i % 2, i),
            (i % 2 == 0 ? atB : atC).poll(5, TimeUnit.SECONDS));
      }
      long dropped = a.stats().dropped();
      assertEquals(1, dropped);

      // The queue holds 1,000 messages: a share bigger than that is refused whole.
      List<Message> tooMany = new ArrayList<>();
      for (int i = 0; i < 1001; i++) {
        tooMany.add(heartbeat(1, 2, 5000 + i));
      }
      assertEquals(0, a.send(tooMany));
      assertEquals(dropped + 1001, a.stats().dropped());
      assertHealthy();
      assertNull(atB.poll(200, TimeUnit.MILLISECONDS), "a dropped batch arrived in part");
    } finally {
      c.close();
    }
  }

  @Test
  void aNodeOfAnotherClusterIsRefusedWithAReason() throws Exception {
    try (TcpTransport stranger = TcpTransport.bind(options("other-cluster", 3))) {
      stranger.setPeer(1, a.localAddress());
      stranger.start(m -> { });
      stranger.send(heartbeat(3, 1, 1));
      LocalCluster.await(() -> a.stats().refusedConnections() > 0, Duration.ofSeconds(5),
          "the refusal");
    }
    try (Socket raw = connect(a)) {
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      Handshake.writeHello(out, "other-cluster", 3, 1);
      String reason = Handshake.readAnswer(new DataInputStream(raw.getInputStream()));
      assertTrue(reason.contains("other-cluster") && reason.contains(CLUSTER), reason);
    }
    assertNull(atA.poll(100, TimeUnit.MILLISECONDS));
    assertHealthy();
  }

  @Test
  void anIncompatibleVersionIsRefusedWithAReason() throws Exception {
    try (Socket raw = connect(a)) {
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      out.writeInt(Handshake.MAGIC);
      out.writeShort(99);
      out.writeShort(Codec.VERSION);
      out.writeLong(2);
      out.writeLong(1);
      out.writeShort(CLUSTER.length());
      out.writeBytes(CLUSTER);
      String reason = Handshake.readAnswer(new DataInputStream(raw.getInputStream()));
      assertNotNull(reason);
      assertTrue(reason.contains("incompatible version"), reason);
      assertClosed(raw);
    }
    assertHealthy();
  }

  @Test
  void randomBytesCloseThatConnectionOnly() throws Exception {
    Random random = new Random(42);
    for (int round = 0; round < 5; round++) {
      try (Socket raw = connect(a)) {
        byte[] junk = new byte[1 + random.nextInt(2000)];
        random.nextBytes(junk);
        raw.getOutputStream().write(junk);
        assertClosed(raw);
      }
    }
    assertHealthy();
  }

  @Test
  void anOversizedFrameClosesTheConnection() throws Exception {
    try (Socket raw = authenticated(a, 2)) {
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      out.writeInt(4097);
      out.write(new byte[100]);
      out.flush();
      assertClosed(raw);
    }
    assertTrue(a.stats().malformedConnections() >= 1);
    assertHealthy();
  }

  @Test
  void anUndecodableFrameOrASpoofedSenderClosesTheConnection() throws Exception {
    try (Socket raw = authenticated(a, 2)) {
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      out.writeInt(5);
      out.write(new byte[] {1, 99, 0, 0, 0}); // version 1, no such type
      out.flush();
      assertClosed(raw);
    }
    try (Socket raw = authenticated(a, 2)) {
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      out.write(Frames.encode(heartbeat(3, 1, 1))); // node 2's link, node 3's message
      out.flush();
      assertClosed(raw);
    }
    try (Socket raw = authenticated(a, 2)) { // one bit flipped in transit: the checksum fails
      DataOutputStream out = new DataOutputStream(raw.getOutputStream());
      byte[] frame = Frames.encode(heartbeat(2, 1, 1));
      frame[frame.length - 6] ^= 0x10;
      out.write(frame);
      out.flush();
      assertClosed(raw);
    }
    assertNull(atA.poll(100, TimeUnit.MILLISECONDS));
    assertHealthy();
  }

  @Test
  void silentAndStalledConnectionsAreClosedAfterTheirTimeouts() throws Exception {
    try (Socket silent = connect(a); Socket stalled = authenticated(a, 2)) {
      stalled.getOutputStream().write(new byte[] {0, 0}); // half a length, then nothing
      assertHealthy(); // while both hang
      assertClosed(silent);
      assertClosed(stalled);
    }
    assertHealthy();
  }

  @Test
  void anUnreachablePeerNeverBlocksTheSenderNorGrowsItsQueue() throws Exception {
    int freePort;
    try (ServerSocket probe = new ServerSocket(0)) {
      freePort = probe.getLocalPort();
    } // closed: nobody listens there now
    a.setPeer(9, new InetSocketAddress("127.0.0.1", freePort));
    long start = System.nanoTime();
    int accepted = 0;
    for (int i = 0; i < 200_000; i++) {
      if (a.send(heartbeat(1, 9, i))) {
        accepted++;
      }
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(millis < 5_000, "send blocked: " + millis + " ms");
    assertTrue(accepted < 200_000, "nothing was dropped");
    assertTrue(a.stats().dropped() > 0);
    assertHealthy();
  }

  @Test
  void aPeerThatStopsReadingIsDisconnectedAndRedialed() throws Exception {
    try (ServerSocket fake = new ServerSocket(0)) {
      fake.setSoTimeout(10_000);
      a.setPeer(9, new InetSocketAddress("127.0.0.1", fake.getLocalPort()));
      Message big = new Message.Propose(1, 1, 9, 0, java.util.List.of(new byte[3000]));
      a.send(big);
      try (Socket first = fake.accept()) {
        answerHello(first); // then never read again: the socket buffers fill up
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        fake.setSoTimeout(50);
        Socket second = null;
        while (second == null && System.nanoTime() < deadline) {
          for (int i = 0; i < 200; i++) {
            a.send(big);
          }
          try {
            second = fake.accept();
          } catch (SocketTimeoutException e) {
            // not yet
          }
        }
        assertNotNull(second, "the stalled link was never redialed");
        second.close();
      }
    }
    assertHealthy();
  }

  private static void answerHello(Socket socket) throws IOException {
    DataInputStream in = new DataInputStream(socket.getInputStream());
    Handshake.Hello hello = Handshake.readHello(in);
    assertNull(Handshake.refusal(hello, CLUSTER, 9));
    Handshake.writeAnswer(new DataOutputStream(socket.getOutputStream()), null);
  }

  @Test
  void reconnectsToAPeerThatMovedAfterARestart() throws Exception {
    b.close();
    b = TcpTransport.bind(options(CLUSTER, 2));
    b.setPeer(1, a.localAddress());
    b.start(atB::add);
    a.setPeer(2, b.localAddress());
    LocalCluster.await(() -> {
      a.send(heartbeat(1, 2, 5));
      try {
        return atB.poll(50, TimeUnit.MILLISECONDS) != null;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }, Duration.ofSeconds(10), "a message over the new link");
  }

  @Test
  void redialsAPeerThatComesBackOnTheSamePortAfterFailedDials() throws Exception {
    assertHealthy(); // the link from A to B is up
    InetSocketAddress where = b.localAddress();
    b.close();
    // B is down for a while: A's dials fail and its backoff grows towards the 1 s maximum.
    long downUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
    while (System.nanoTime() < downUntil) {
      a.send(heartbeat(1, 2, 1));
      Thread.sleep(20);
    }
    assertTrue(a.stats().dropped() > 0, "A never noticed that B was gone");

    b = TcpTransport.bind(options(CLUSTER, 2).withListen(where)); // A is not told anything
    b.setPeer(1, a.localAddress());
    b.start(atB::add);
    long start = System.nanoTime();
    LocalCluster.await(() -> {
      a.send(heartbeat(1, 2, 6));
      try {
        // Skip what A queued while it slept between dials: only a fresh message counts.
        for (Message m; (m = atB.poll(20, TimeUnit.MILLISECONDS)) != null; ) {
          if (m.equals(heartbeat(1, 2, 6))) {
            return true;
          }
        }
        return false;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }, Duration.ofSeconds(5), "a message over the redialed link");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // At most one maximal backoff (1 s) plus a dial; allow for a slow machine.
    assertTrue(millis < 2_500, "redialed after " + millis + " ms");
  }

  /** B can still talk to A, and A to B. */
  private void assertHealthy() throws InterruptedException {
    atA.clear();
    atB.clear();
    assertTrue(b.send(heartbeat(2, 1, 1000)));
    assertTrue(a.send(heartbeat(1, 2, 1000)));
    assertEquals(heartbeat(2, 1, 1000), atA.poll(5, TimeUnit.SECONDS));
    assertEquals(heartbeat(1, 2, 1000), atB.poll(5, TimeUnit.SECONDS));
  }

  private static Socket connect(TcpTransport target) throws IOException {
    Socket raw = new Socket();
    raw.connect(target.localAddress(), 1000);
    raw.setSoTimeout(5000);
    return raw;
  }

  /** A raw connection that passed the handshake as node {@code as}. */
  private static Socket authenticated(TcpTransport target, long as) throws IOException {
    Socket raw = connect(target);
    Handshake.writeHello(new DataOutputStream(raw.getOutputStream()), CLUSTER, as,
        target.options().nodeId());
    assertNull(Handshake.readAnswer(new DataInputStream(raw.getInputStream())));
    return raw;
  }

  /** The node closed {@code raw}: reads end (after any answer) within the socket timeout. */
  private static void assertClosed(Socket raw) throws IOException {
    InputStream in = raw.getInputStream();
    byte[] sink = new byte[256];
    try {
      while (in.read(sink) >= 0) {
        // skip a refusal answer, if any
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("connection still open after " + raw.getSoTimeout() + " ms");
    } catch (IOException e) {
      // reset by the node: closed too
    }
  }
}
