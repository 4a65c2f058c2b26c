package io.detraft.io;

import io.detraft.core.Message;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Raft messages over TCP: one outbound connection per peer (dialed by a {@link PeerSender})
 * and any number of inbound ones (each read by an {@link InboundConnection}). A message is a
 * frame of {@code length:u32} and its {@link io.detraft.core.Codec} encoding; a
 * {@link Handshake} opens every connection, so a node of another cluster or protocol version
 * is refused, with the reason logged on both ends.
 *
 * <p>{@link #send} never blocks and never queues without bound: it is called by the Raft
 * thread, and Raft tolerates lost messages. Inbound messages go to the consumer given to
 * {@link #start}, on the connection's thread; the consumer must not block for long.
 */
public final class TcpTransport implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

  /**
   * @param clusterId peers must present the same id
   * @param nodeId this node
   * @param listen where to accept connections (port 0: any free port)
   * @param maxFrameBytes frames above this close the connection (and are never sent)
   * @param sendQueueCapacity messages queued per peer before new ones are dropped
   * @param handshakeTimeout how long a new connection may take to say who it is
   * @param stallTimeout how long a peer may stop in the middle of a frame, or stop reading
   *     while we write to it
   * @param reconnectBackoffMin first wait after a failed dial; doubles up to the max
   * @param reconnectBackoffMax longest wait between dials
   * @param maxInboundConnections accepted connections open at once, authenticated or not
   * @param tls mutual TLS on every connection (null: plain TCP): both ends show a
   *     certificate the context trusts, and each must name the node the other expects
   *     ({@link PeerCertificate}), so a node cannot claim another's id
   */
  public record Options(
      String clusterId,
      long nodeId,
      InetSocketAddress listen,
      int maxFrameBytes,
      int sendQueueCapacity,
      Duration handshakeTimeout,
      Duration stallTimeout,
      Duration reconnectBackoffMin,
      Duration reconnectBackoffMax,
      int maxInboundConnections,
      javax.net.ssl.SSLContext tls) {

    public Options {
      if (clusterId == null || clusterId.isEmpty() || nodeId <= 0 || listen == null
          || maxFrameBytes < 1024 || sendQueueCapacity < 1 || maxInboundConnections < 1
          || handshakeTimeout.isNegative() || handshakeTimeout.isZero()
          || stallTimeout.isNegative() || stallTimeout.isZero()
          || reconnectBackoffMin.isNegative() || reconnectBackoffMax.compareTo(
              reconnectBackoffMin) < 0) {
        throw new IllegalArgumentException("invalid transport options: " + this);
      }
    }

    /** Loopback, any port, 16 MiB frames, 4096 queued per peer, 2 s handshake, 20 ms-1 s. */
    public static Options defaults(String clusterId, long nodeId) {
      return new Options(clusterId, nodeId, new InetSocketAddress("127.0.0.1", 0), 16 << 20,
          4096, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(20),
          Duration.ofSeconds(1), 64, null);
    }

    public Options withListen(InetSocketAddress listen) {
      return new Options(clusterId, nodeId, listen, maxFrameBytes, sendQueueCapacity,
          handshakeTimeout, stallTimeout, reconnectBackoffMin, reconnectBackoffMax,
          maxInboundConnections, tls);
    }

    public Options withTimeouts(Duration handshakeTimeout, Duration stallTimeout) {
      return new Options(clusterId, nodeId, listen, maxFrameBytes, sendQueueCapacity,
          handshakeTimeout, stallTimeout, reconnectBackoffMin, reconnectBackoffMax,
          maxInboundConnections, tls);
    }

    /** Mutual TLS with {@code tls}'s key and trusted CAs (see {@link #tls}). */
    public Options withTls(javax.net.ssl.SSLContext tls) {
      return new Options(clusterId, nodeId, listen, maxFrameBytes, sendQueueCapacity,
          handshakeTimeout, stallTimeout, reconnectBackoffMin, reconnectBackoffMax,
          maxInboundConnections, tls);
    }

    public Options withLimits(int maxFrameBytes, int sendQueueCapacity) {
      return new Options(clusterId, nodeId, listen, maxFrameBytes, sendQueueCapacity,
          handshakeTimeout, stallTimeout, reconnectBackoffMin, reconnectBackoffMax,
          maxInboundConnections, tls);
    }
  }

  /** Counters since start, for monitoring and tests. */
  public record Stats(long sent, long dropped, long received, long refusedConnections,
      long malformedConnections) {}

  private final Options options;
  private final ServerSocket server;
  private final Map<Long, PeerSender> senders = new ConcurrentHashMap<>();
  private final Set<InboundConnection> inbound = ConcurrentHashMap.newKeySet();
  /** The current authenticated connection of each peer; a newer one replaces it. */
  private final Map<Long, InboundConnection> byPeer = new HashMap<>();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private volatile Consumer<Message> consumer;
  private volatile boolean closed;
  private Thread acceptor;
  private final Thread watchdog;

  private TcpTransport(Options options, ServerSocket server) {
    this.options = options;
    this.server = server;
    this.watchdog = new Thread(this::watchSenders, "detraft-watchdog-" + options.nodeId());
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** Binds the listening socket; nothing is accepted until {@link #start}. */
  public static TcpTransport bind(Options options) throws IOException {
    ServerSocket server = options.tls() == null ? new ServerSocket()
        : options.tls().getServerSocketFactory().createServerSocket();
    if (server instanceof javax.net.ssl.SSLServerSocket tls) {
      tls.setNeedClientAuth(true); // a peer without a certificate the CA signed is refused
    }
    server.setReuseAddress(true); // a restarted node can take its port back at once
    server.bind(options.listen());
    return new TcpTransport(options, server);
  }

  public Options options() {
    return options;
  }

  /** The bound address (with the actual port when 0 was asked for). */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /**
   * Adds a peer, or moves it to a new address (the link is re-dialed). Safe to call from any
   * thread while the transport runs: a node added to a group must be known here before the
   * leader can reach it.
   */
  public synchronized void setPeer(long nodeId, InetSocketAddress address) {
    if (nodeId == options.nodeId() || nodeId <= 0 || address == null) {
      throw new IllegalArgumentException("invalid peer " + nodeId + " at " + address);
    }
    if (closed) {
      return;
    }
    PeerSender sender = senders.get(nodeId);
    if (sender != null) {
      sender.setAddress(address);
      return;
    }
    sender = new PeerSender(this, nodeId, address);
    senders.put(nodeId, sender);
    sender.start();
  }

  /**
   * Forgets a peer (e.g. a node removed from every group): its queued messages are dropped
   * and its link closed. Messages to it are dropped from now on. No-op for an unknown peer.
   */
  public void removePeer(long nodeId) {
    PeerSender sender;
    synchronized (this) {
      sender = senders.remove(nodeId);
    }
    if (sender != null) {
      sender.close();
    }
  }

  /** The peers this transport sends to, with their addresses, by node id. */
  public synchronized SortedMap<Long, InetSocketAddress> peers() {
    TreeMap<Long, InetSocketAddress> out = new TreeMap<>();
    senders.forEach((id, sender) -> out.put(id, sender.address()));
    return out;
  }

  /** Starts accepting; inbound messages go to {@code consumer}. */
  public synchronized void start(Consumer<Message> consumer) {
    if (this.consumer != null) {
      throw new IllegalStateException("already started");
    }
    this.consumer = consumer;
    acceptor = new Thread(this::acceptLoop, "detraft-accept-" + options.nodeId());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * Queues {@code message} for its receiver and returns at once: false if it was dropped
   * (unknown peer, or its queue is full).
   */
  public boolean send(Message message) {
    return send(List.of(message)) == 1;
  }

  /**
   * Queues {@code messages} and returns at once: each peer's share, in order, as one batch
   * that its link writes with one flush (so a round's messages for a peer, from every group,
   * cost one hand-off and one syscall). Returns how many were queued; a peer's whole share is
   * dropped if its queue has no room for it.
   */
  public int send(List<Message> messages) {
    if (messages.isEmpty()) {
      return 0;
    }
    Map<Long, List<Message>> byPeer = new HashMap<>(4);
    for (Message m : messages) {
      byPeer.computeIfAbsent(m.to(), peer -> new ArrayList<>()).add(m);
    }
    int queued = 0;
    for (var e : byPeer.entrySet()) {
      PeerSender sender = senders.get(e.getKey());
      if (sender != null && sender.offer(e.getValue())) {
        queued += e.getValue().size();
      } else {
        dropped.addAndGet(e.getValue().size());
      }
    }
    return queued;
  }

  public Stats stats() {
    return new Stats(sent.get(), dropped.get(), received.get(), refused.get(), malformed.get());
  }

  /** Stops accepting, closes every connection and stops every thread. */
  @Override
  public void close() {
    List<PeerSender> toJoin;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toJoin = new ArrayList<>(senders.values());
    }
    try {
      server.close();
    } catch (IOException e) {
      // Closing is all we wanted.
    }
    toJoin.forEach(PeerSender::close);
    inbound.forEach(InboundConnection::close);
    watchdog.interrupt();
    try {
      watchdog.join(2000);
      if (acceptor != null) {
        acceptor.join(2000);
      }
      for (PeerSender sender : toJoin) {
        sender.join(2000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ for the connections

  private void acceptLoop() {
    long count = 0;
    while (!closed) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.WARNING, "accept failed: " + e);
        }
        continue;
      }
      if (inbound.size() >= options.maxInboundConnections()) {
        refused.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, "refused connection from "
            + socket.getRemoteSocketAddress() + ": " + inbound.size() + " connections open");
        closeQuietly(socket);
        continue;
      }
      InboundConnection connection = new InboundConnection(this, socket);
      inbound.add(connection);
      if (closed) {
        connection.close();
      }
      Thread reader = new Thread(connection, "detraft-recv-" + options.nodeId() + "-" + ++count);
      reader.setDaemon(true);
      reader.start();
    }
  }

  /**
   * Unblocks senders stuck writing to a peer that stopped reading, and closes inbound
   * connections whose handshake or started frame is overdue.
   */
  private void watchSenders() {
    long stallNanos = options.stallTimeout().toNanos();
    long every = Math.max(10, Math.min(options.stallTimeout().toMillis(),
        options.handshakeTimeout().toMillis()) / 4);
    while (!closed) {
      try {
        Thread.sleep(every);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      for (PeerSender sender : senders.values()) {
        sender.closeIfStalled(now, stallNanos);
      }
      for (InboundConnection connection : inbound) {
        connection.closeIfOverdue(now);
      }
    }
  }

  /** A connection proved to come from {@code connection.peer()}: it replaces an older one. */
  synchronized void authenticated(InboundConnection connection) {
    InboundConnection previous = byPeer.put(connection.peer(), connection);
    if (previous != null) {
      previous.close(); // e.g. a half-open link of the peer's previous incarnation
    }
  }

  synchronized void connectionClosed(InboundConnection connection) {
    inbound.remove(connection);
    byPeer.remove(connection.peer(), connection);
  }

  void deliver(Message message) {
    received.incrementAndGet();
    consumer.accept(message);
  }

  void countSent(int messages) {
    sent.addAndGet(messages);
  }

  void countDropped(int messages) {
    dropped.addAndGet(messages);
  }

  void countRefused() {
    refused.incrementAndGet();
  }

  void countMalformed() {
    malformed.incrementAndGet();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing is all we wanted.
    }
  }
}
