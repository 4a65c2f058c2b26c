package io.detraft.kv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free loopback ports for servers that this process starts, or tells another process to start,
 * on a port it names up front (peers must know each other's addresses before any is up).
 *
 * <p>Not {@code new ServerSocket(0)}: that port comes from the kernel's ephemeral range, the
 * range every outgoing connection's source port is drawn from too. Between closing the probe
 * and the server binding the port (a JVM start later, in another process) any {@code
 * connect()} on the machine, such as a node dialing its peers, may take it, and the server
 * stops with "Address already in use". Ports below the ephemeral range (Linux 32768-60999,
 * macOS and Windows 49152-65535) are taken only by whoever asks for them by number. Each call
 * also names a port this process has not handed out before, so two servers started together
 * never get the same one.
 */
final class Ports {
  private static final int LOW = 20_000;
  private static final int SPAN = 12_000; // up to 31,999: below every usual ephemeral range
  private static final AtomicInteger NEXT =
      new AtomicInteger(ThreadLocalRandom.current().nextInt(SPAN));

  private Ports() {}

  /** A loopback port nothing listens on now, not handed out by this process before. */
  static int free() {
    for (int attempt = 0; attempt < SPAN; attempt++) {
      int port = LOW + Math.floorMod(NEXT.getAndIncrement(), SPAN);
      try (ServerSocket probe = new ServerSocket()) {
        probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (IOException taken) {
        // someone listens there: the next one
      }
    }
    throw new UncheckedIOException(new IOException("no free loopback port in " + LOW + "-"
        + (LOW + SPAN - 1)));
  }
}
