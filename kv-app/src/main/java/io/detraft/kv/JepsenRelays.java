package io.detraft.kv;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The network of a {@code detraft test} run where network namespaces are not allowed (not
 * root, or {@code ip netns} fails): the nodes' Raft links go through TCP relays on loopback, one
 * per ordered pair of nodes, that the nemesis can cut (stop forwarding: open connections are
 * reset, new ones are reset as soon as they are accepted) and heal. The relays are threads and
 * sockets of the test's JVM, so nothing outlives it.
 *
 * <p>How node i comes to dial relay (i, j): the address book replicates one Raft address per
 * node, so every node dials the same string for node j. That string is a name,
 * {@code dt-n<j>:PORT}, and each server JVM resolves names through its own hosts file (the JDK's
 * {@code jdk.net.hosts.file} property): in node i's file {@code dt-n<j>} is {@code 127.X.i.j},
 * where relay (i, j) listens, forwarding to {@code 127.X.0.j}, where node j listens (its own
 * file maps its own name there). All of 127.0.0.0/8 is loopback on Linux. A Raft connection
 * carries one direction only (the dialer sends frames; the listener answers the handshake and
 * nothing more), so relay (i, j) carries exactly i's messages to j, and a one-way cut is one
 * relay cut.
 *
 * <p>Only Raft traffic is relayed: HTTP (the clients, and the writes a follower hands to its
 * leader) goes directly, as the clients' addresses must be the same for every node.
 */
final class JepsenRelays implements JepsenNemesis.Links, AutoCloseable {
  private final int nodes;
  /** The second byte of every address: 127.X.i.j. */
  private final int network;
  private final int port;
  /** Index from * (nodes + 1) + to; null on the diagonal. */
  private final Relay[] relays;
  private volatile boolean closed;
  /** Connections reset or refused because their link was cut. */
  private final java.util.concurrent.atomic.AtomicLong cutConnections =
      new java.util.concurrent.atomic.AtomicLong();

  private JepsenRelays(int nodes, int network, int port) {
    this.nodes = nodes;
    this.network = network;
    this.port = port;
    this.relays = new Relay[(nodes + 1) * (nodes + 1)];
  }

  /**
   * Binds the relays on a free loopback network and port and writes each node's hosts file
   * ({@code dir/n<i>/hosts}). Close it even if a later step throws.
   */
  static JepsenRelays create(int nodes, Path dir) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      int port;
      try (ServerSocket probe = new ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      JepsenRelays relays = new JepsenRelays(nodes,
          1 + ThreadLocalRandom.current().nextInt(254), port);
      try {
        relays.bind();
        relays.writeHostsFiles(dir);
        return relays;
      } catch (BindException e) {
        relays.close(); // another run holds that network or port: draw again
        last = e;
      } catch (IOException | RuntimeException e) {
        relays.close();
        throw e;
      }
    }
    throw new IOException("no free loopback address for the relays", last);
  }

  private void bind() throws IOException {
    for (int node = 1; node <= nodes; node++) {
      // Where node j will listen must be free too; a server cannot report a clash clearly.
      try (ServerSocket probe = new ServerSocket()) {
        probe.bind(listenAddress(node));
      }
    }
    for (int from = 1; from <= nodes; from++) {
      for (int to = 1; to <= nodes; to++) {
        if (from != to) {
          Relay relay = new Relay(from, to);
          relays[from * (nodes + 1) + to] = relay;
          relay.start();
        }
      }
    }
  }

  private void writeHostsFiles(Path dir) throws IOException {
    String hostname;
    try {
      hostname = java.net.InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      hostname = "localhost";
    }
    for (int self = 1; self <= nodes; self++) {
      StringBuilder hosts = new StringBuilder("# detraft test: node ").append(self)
          .append("'s view of the others (through the relays)\n")
          .append("127.0.0.1 localhost ").append(hostname).append("\n::1 localhost\n");
      for (int other = 1; other <= nodes; other++) {
        String address = other == self ? host(0, self) : host(self, other);
        hosts.append(address).append(' ').append(name(other)).append('\n');
      }
      Path file = hostsFile(dir, self);
      Files.createDirectories(file.getParent());
      Files.writeString(file, hosts);
    }
  }

  /** The hosts file of node {@code node}: give the server {@code -Djdk.net.hosts.file=} it. */
  static Path hostsFile(Path dir, int node) {
    return dir.resolve("n" + node).resolve("hosts");
  }

  /** Node {@code node}'s Raft address: a name each node's hosts file resolves its own way. */
  String raftAddress(int node) {
    return name(node) + ":" + port;
  }

  /** Where node {@code node} listens for Raft connections. */
  InetSocketAddress listenAddress(int node) {
    return new InetSocketAddress(host(0, node), port);
  }

  /** Where relay ({@code from}, {@code to}) listens. */
  InetSocketAddress relayAddress(int from, int to) {
    return new InetSocketAddress(host(from, to), port);
  }

  /** The loopback network of the relays, for the run's first lines. */
  String network() {
    return "127." + network + ".*.*:" + port;
  }

  private static String name(int node) {
    return "dt-n" + node;
  }

  private String host(int from, int to) {
    return "127." + network + "." + from + "." + to;
  }

  @Override
  public void cut(int from, int to) {
    relays[from * (nodes + 1) + to].cut();
  }

  @Override
  public void healPartitions() {
    for (Relay relay : relays) {
      if (relay != null) {
        relay.cut = false;
      }
    }
  }

  /** Closes every relay and connection; their threads end. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (Relay relay : relays) {
      if (relay != null) {
        relay.close();
      }
    }
  }

  /** How many connections cuts have reset or refused so far. */
  long cutConnections() {
    return cutConnections.get();
  }

  /** The relay threads still alive (for tests: none once closed). */
  static List<Thread> threads() {
    List<Thread> alive = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().startsWith("detraft-relay")) {
        alive.add(t);
      }
    }
    return alive;
  }

  /** One ordered pair's relay: an accepting thread, and two copying threads a connection. */
  private final class Relay {
    private final int from;
    private final int to;
    private final ServerSocket server = new ServerSocket();
    /** Both ends of every open connection, so a cut can reset them. */
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;

    Relay(int from, int to) throws IOException {
      this.from = from;
      this.to = to;
      try {
        server.setReuseAddress(true);
        server.bind(relayAddress(from, to));
      } catch (IOException e) {
        server.close();
        throw e;
      }
    }

    void start() {
      thread("accept", this::accept);
    }

    private void accept() {
      while (!closed) {
        Socket inbound;
        try {
          inbound = server.accept();
        } catch (IOException e) {
          return; // closed
        }
        if (cut || closed) {
          cutConnections.incrementAndGet();
          reset(inbound);
          continue;
        }
        Socket outbound = new Socket();
        sockets.add(inbound);
        sockets.add(outbound);
        try {
          inbound.setTcpNoDelay(true);
          outbound.setTcpNoDelay(true);
          outbound.connect(listenAddress(to), 2_000);
        } catch (IOException e) {
          reset(inbound); // node `to` is down: so is the link
          reset(outbound);
          continue;
        }
        thread("copy", () -> copy(inbound, outbound));
        thread("copy", () -> copy(outbound, inbound));
        if (cut || closed) { // cut while connecting: the cut may have missed these two
          reset(inbound);
          reset(outbound);
        }
      }
    }

    /** Copies until either end fails or closes; then both ends go. */
    private void copy(Socket source, Socket target) {
      byte[] buffer = new byte[64 * 1024];
      try {
        InputStream in = source.getInputStream();
        OutputStream out = target.getOutputStream();
        for (int n; (n = in.read(buffer)) >= 0; ) {
          if (cut) {
            break; // not a byte more
          }
          out.write(buffer, 0, n);
        }
      } catch (IOException e) {
        // Reset by a cut, or by an end: close both below.
      }
      reset(source);
      reset(target);
    }

    void cut() {
      cut = true;
      for (Socket s : sockets) {
        if (s.isConnected() && s.getLocalPort() == port) { // count each connection once
          cutConnections.incrementAndGet();
        }
        reset(s);
      }
    }

    void close() {
      try {
        server.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      for (Socket s : sockets) {
        reset(s);
      }
    }

    /** Closes with RST (linger 0), as a dropped link looks to the ends: not a clean FIN. */
    private void reset(Socket socket) {
      sockets.remove(socket);
      try {
        socket.setSoLinger(true, 0);
      } catch (IOException e) {
        // Already closed.
      }
      try {
        socket.close();
      } catch (IOException e) {
        // Already closed.
      }
    }

    private void thread(String what, Runnable body) {
      Thread t = new Thread(body, "detraft-relay-" + what + "-" + from + ">" + to);
      t.setDaemon(true);
      t.start();
    }
  }
}
