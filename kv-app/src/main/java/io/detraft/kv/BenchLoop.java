package io.detraft.kv;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Closed-loop clients of {@code detraft bench}, each with one operation in flight, many of them
 * multiplexed on one selector thread (as wrk and memtier do). A thread per client cost a wake-up
 * and two context switches per operation: a fifth of a 2-core machine at 15,000 writes/s, taken
 * from the nodes under test on the same machine.
 *
 * <p>The requests are those of {@link KvClient}: writes go to the group's leader in an
 * exactly-once session ({@code Detraft-Client}/{@code Detraft-Sequence}), linearizable reads to
 * the leader as well; an answer that the node cannot serve (not leader, an election, overload,
 * an unknown outcome, a lost connection) is retried with the same sequence number, at the
 * hinted leader when there is one, until {@link #GIVE_UP_NANOS}. Group routing, leader
 * discovery and session registration come from one {@link KvClient} per loop, called only
 * when those change.
 */
final class BenchLoop implements Runnable {
  static final long GIVE_UP_NANOS = 10_000_000_000L;
  private static final long RETRY_PAUSE_NANOS = 5_000_000L;

  /** Latencies in nanoseconds and when each operation completed (System.nanoTime), grown by doubling. */
  static final class Samples {
    long[] nanos = new long[1 << 14];
    long[] ends = new long[1 << 14];
    int size;

    void add(long n, long end) {
      if (size == nanos.length) {
        nanos = Arrays.copyOf(nanos, size * 2);
        ends = Arrays.copyOf(ends, size * 2);
      }
      ends[size] = end;
      nanos[size++] = n;
    }
  }

  /**
   * What the clients do: uniformly chosen keys, reads with probability {@code readRatio}; only
   * operations that complete in {@code [startNanos, endNanos)} count, and clients stop at
   * {@code endNanos}. {@code etcd}: the same operations through etcd's v3 JSON gateway
   * instead ({@code POST /v3/kv/put} and {@code /v3/kv/range}, base64 keys and values; stale
   * reads are etcd's serializable ones), each client on one of the endpoints, round robin.
   */
  record Plan(byte[][] keys, byte[] value, double readRatio, boolean stale, long startNanos,
      long endNanos, boolean etcd) {}

  /** One client: its sessions, its connections and the operation in flight. */
  private static final class Client {
    final SplittableRandom random;
    final Map<Long, long[]> sessions = new HashMap<>(); // group -> {client id, sequence}
    final Map<InetSocketAddress, SocketChannel> channels = new HashMap<>();
    final ByteBuffer in = ByteBuffer.allocate(1 << 16);
    ByteBuffer out;
    byte[] key;
    boolean read;
    long group;
    long startedNanos;
    int redirects; // "not leader" answers followed at once for the operation in flight
    long dueNanos; // of a pending retry
    SocketChannel channel;

    InetSocketAddress member; // the etcd member this client talks to (etcd mode)
    boolean registering; // a session registration for this client is under way

    Client(long seed) {
      random = new SplittableRandom(seed);
    }
  }

  private final Plan plan;
  private final List<String> endpoints;
  private final List<Client> clients = new ArrayList<>();
  private final LongAdder done;
  private final LongAdder errors;
  final Samples samples = new Samples();
  volatile String firstError;
  private final PriorityQueue<Client> retries =
      new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
  private Selector selector;
  private KvClient directory;
  /**
   * Session registrations run here, off the selector thread: one client's registration (a
   * Raft write) must not stall the other clients of its loop. With many groups, most of a
   * short run's first writes need one.
   */
  private final java.util.concurrent.ExecutorService registrar =
      java.util.concurrent.Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "bench-register");
        t.setDaemon(true);
        return t;
      });
  /** Finished registrations: the client and its session id (0: failed). */
  private final java.util.concurrent.ConcurrentLinkedQueue<Object[]> registered =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private int running;

  BenchLoop(Plan plan, List<String> endpoints, long firstSeed, int count, LongAdder done,
      LongAdder errors) {
    this.plan = plan;
    this.endpoints = endpoints;
    this.done = done;
    this.errors = errors;
    for (int i = 0; i < count; i++) {
      Client c = new Client(firstSeed + i);
      if (plan.etcd()) {
        c.member = Peers.address(endpoints.get((int) ((firstSeed + i) % endpoints.size())));
      }
      clients.add(c);
    }
  }

  @Override
  public void run() {
    try (Selector s = Selector.open();
        KvClient d = plan.etcd() ? null
            : KvClient.connect(endpoints, KvClient.Options.defaults())) {
      selector = s;
      directory = d;
      running = clients.size();
      for (Client c : clients) {
        next(c);
      }
      while (running > 0) {
        long now = System.nanoTime();
        Client due;
        while ((due = retries.peek()) != null && due.dueNanos - now <= 0) {
          send(retries.poll());
        }
        for (Object[] r; (r = registered.poll()) != null; ) {
          Client c = (Client) r[0];
          c.registering = false;
          long[] session = c.sessions.get(c.group);
          session[0] = (Long) r[1];
          session[1] = 1;
          if (session[0] == 0) {
            retryLater(c, "no session in group " + c.group);
          } else {
            send(c);
          }
        }
        long waitMillis = retries.isEmpty() ? 10
            : Math.max(1, (retries.peek().dueNanos - now) / 1_000_000);
        selector.select(Math.min(10, waitMillis));
        for (SelectionKey key : selector.selectedKeys()) {
          Client c = (Client) key.attachment();
          if (key.isValid() && key.isWritable()) {
            write(c);
          } else if (key.isValid() && key.isReadable()) {
            read(c);
          }
        }
        selector.selectedKeys().clear();
      }
      for (Client c : clients) {
        c.channels.values().forEach(BenchLoop::closeQuietly);
      }
    } catch (IOException e) {
      firstError = "bench loop failed: " + e;
      errors.increment();
    } finally {
      registrar.shutdownNow();
    }
  }

  /** Starts the client's next operation, or retires it once the run is over. */
  private void next(Client c) {
    long now = System.nanoTime();
    if (now - plan.endNanos() >= 0) {
      running--;
      return;
    }
    c.key = plan.keys()[c.random.nextInt(plan.keys().length)];
    c.read = plan.readRatio() > 0 && c.random.nextDouble() < plan.readRatio();
    c.startedNanos = now;
    c.redirects = 0;
    if (plan.etcd()) {
      send(c);
      return;
    }
    c.group = directory.groupOf(c.key);
    if (!c.read) {
      long[] session = c.sessions.computeIfAbsent(c.group, g -> new long[2]);
      session[1]++; // a new command; its retries keep this number
    }
    send(c);
  }

  /** Sends (or resends) the operation in flight to the group's leader. */
  private void send(Client c) {
    try {
      if (!c.read && !plan.etcd()) {
        long[] session = c.sessions.get(c.group);
        if (session[0] == 0) {
          register(c);
          return;
        }
      }
      InetSocketAddress node = plan.etcd() ? c.member : directory.leaderAddress(c.group);
      SocketChannel channel = c.channels.get(node);
      if (channel == null) {
        channel = SocketChannel.open(node); // loopback: connecting does not wait long
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ, c);
        c.channels.put(node, channel);
      }
      c.channel = channel;
      c.out = request(c, node);
      write(c);
    } catch (IOException | KvClientException e) {
      dropChannel(c);
      retryLater(c, e.toString());
    }
  }

  private void register(Client c) {
    if (c.registering) {
      return;
    }
    c.registering = true;
    long group = c.group;
    registrar.execute(() -> {
      long id;
      try {
        id = directory.newSession(group);
      } catch (RuntimeException e) {
        id = 0;
      }
      registered.add(new Object[] {c, id});
      selector.wakeup();
    });
  }

  private ByteBuffer request(Client c, InetSocketAddress node) {
    if (plan.etcd()) {
      return etcdRequest(c, node);
    }
    StringBuilder head = new StringBuilder(160);
    head.append(c.read ? "GET" : "PUT").append(" /v1/kv/").append(Http.percentEncode(c.key));
    if (c.read && plan.stale()) {
      head.append("?consistency=stale");
    }
    head.append(" HTTP/1.1\r\nHost: ").append(node.getHostString()).append(':')
        .append(node.getPort()).append("\r\n");
    if (!c.read) {
      long[] session = c.sessions.get(c.group);
      head.append(HttpApi.CLIENT_HEADER).append(": ").append(session[0]).append("\r\n")
          .append(HttpApi.SEQUENCE_HEADER).append(": ").append(session[1]).append("\r\n")
          .append("Content-Length: ").append(plan.value().length).append("\r\n");
    }
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out = ByteBuffer.allocate(h.length + (c.read ? 0 : plan.value().length));
    out.put(h);
    if (!c.read) {
      out.put(plan.value());
    }
    return out.flip();
  }

  /** The body of etcd's {@code /v3/kv/put} (JSON gateway: base64 key and value). */
  static String etcdPut(byte[] key, byte[] value) {
    java.util.Base64.Encoder base64 = java.util.Base64.getEncoder();
    return "{\"key\":\"" + base64.encodeToString(key) + "\",\"value\":\""
        + base64.encodeToString(value) + "\"}";
  }

  private ByteBuffer etcdRequest(Client c, InetSocketAddress node) {
    String body = c.read
        ? "{\"key\":\"" + java.util.Base64.getEncoder().encodeToString(c.key) + "\""
            + (plan.stale() ? ",\"serializable\":true}" : "}")
        : etcdPut(c.key, plan.value());
    String request = "POST /v3/kv/" + (c.read ? "range" : "put") + " HTTP/1.1\r\nHost: "
        + node.getHostString() + ':' + node.getPort() + "\r\nContent-Type: application/json"
        + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    return ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
  }

  private void write(Client c) {
    try {
      c.channel.write(c.out);
      // A full socket buffer (never seen on loopback with one request in flight) waits for
      // the selector to say it drained.
      c.channel.keyFor(selector).interestOps(c.out.hasRemaining()
          ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    } catch (IOException e) {
      dropChannel(c);
      retryLater(c, e.toString());
    }
  }

  private void read(Client c) {
    try {
      if (c.channel.read(c.in) < 0) {
        throw new IOException("connection closed by the node");
      }
    } catch (IOException e) {
      dropChannel(c);
      retryLater(c, e.toString());
      return;
    }
    Answer answer = Answer.parse(c.in);
    if (answer == null) {
      return; // not complete yet
    }
    c.in.clear(); // one request in flight: nothing follows its answer
    onAnswer(c, answer);
  }

  private void onAnswer(Client c, Answer a) {
    if (a.status() == 200 || (c.read && a.status() == 404)) {
      if (a.leader() != 0 && !plan.etcd()) {
        directory.leaderMoved(c.group, a.leader()); // the node forwarded it to the leader
      }
      long now = System.nanoTime();
      if (c.startedNanos - plan.startNanos() >= 0 && now - plan.endNanos() < 0) {
        samples.add(now - c.startedNanos, now);
        done.increment();
      }
      next(c);
    } else if (plan.etcd()) {
      fail(c, "HTTP " + a.status() + ": " + a.body()); // etcd's own client would not retry
    } else if (a.status() == 503 || a.status() == 504 || a.status() == 429) {
      // Not served here, or the outcome is unknown: the same command again (its session
      // makes a retry safe), at the leader the node named if it named one.
      directory.leaderMoved(c.group, a.leader());
      if (a.leader() != 0 && a.status() == 503 && a.body().contains("not_leader")
          && c.redirects++ == 0) {
        send(c); // the first redirect at once; nodes that disagree get the pause below
      } else {
        retryLater(c, a.body());
      }
    } else if (a.status() == 409 && a.body().contains("session_expired")) {
      c.sessions.get(c.group)[0] = 0; // nothing applied: a new session runs it
      send(c);
    } else {
      fail(c, "HTTP " + a.status() + ": " + a.body());
    }
  }

  private void retryLater(Client c, String why) {
    long now = System.nanoTime();
    if (now - c.startedNanos > GIVE_UP_NANOS) {
      fail(c, "gave up: " + why);
      return;
    }
    c.dueNanos = now + RETRY_PAUSE_NANOS;
    retries.add(c);
  }

  private void fail(Client c, String why) {
    if (c.startedNanos - plan.startNanos() >= 0) {
      errors.increment();
      if (firstError == null) {
        firstError = why;
      }
    }
    next(c);
  }

  private void dropChannel(Client c) {
    if (c.channel != null) {
      c.channels.values().remove(c.channel);
      closeQuietly(c.channel);
      c.channel = null;
    }
    c.in.clear();
    if (directory != null) {
      directory.leaderMoved(c.group, 0);
    }
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** A complete HTTP answer: status, {@code Detraft-Leader} (0 if absent), body as text. */
  record Answer(int status, long leader, String body) {
    private static final String LEADER = Http.LEADER_HEADER.toLowerCase(Locale.ROOT);

    /** The answer at the start of {@code in} (in write mode), or null while incomplete. */
    static Answer parse(ByteBuffer in) {
      byte[] b = in.array();
      int n = in.position();
      int headEnd = -1;
      for (int i = 3; i < n; i++) {
        if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
          headEnd = i + 1;
          break;
        }
      }
      if (headEnd < 0) {
        return null;
      }
      // Header names are case-insensitive: look them up in a lower-cased copy, once.
      String head = new String(b, 0, headEnd, StandardCharsets.ISO_8859_1)
          .toLowerCase(Locale.ROOT);
      int status = Integer.parseInt(head.substring(9, 12));
      long length = header(head, "content-length");
      if (headEnd + length > n) {
        return null;
      }
      return new Answer(status, Math.max(0, header(head, LEADER)),
          new String(b, headEnd, (int) length, StandardCharsets.UTF_8));
    }

    private static long header(String head, String lowerName) {
      int at = head.indexOf("\r\n" + lowerName + ":");
      if (at < 0) {
        return 0;
      }
      int from = at + lowerName.length() + 3;
      int to = head.indexOf('\r', from);
      return Long.parseLong(head.substring(from, to).trim());
    }
  }
}
