package io.detraft.kv;

import io.detraft.core.Membership;
import io.detraft.core.Status;
import io.detraft.io.NodeRunner;
import io.detraft.io.TcpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One node of the replicated key/value store: every group's replica (a {@link KvStateMachine}
 * on a {@link ChronicleKvStore}) under one {@link NodeRunner}, the TCP transport between
 * nodes, and the HTTP API ({@link HttpApi}, {@link AdminApi}) for clients and operators.
 *
 * <p>Data directory: {@code node.properties} (identity, see {@link NodeMetadata}),
 * {@code raft/} (write-ahead log and snapshots), {@code kv/group-N.cm} (each group's map).
 */
public final class KvServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(KvServer.class.getName());

  /**
   * How to start. A bootstrap gives {@code peers}; a join gives {@code join} (a member's HTTP
   * address); a restart gives neither and finds everything in {@code dataDir}.
   *
   * @param nodeId this node's id (0: take it from the data directory)
   * @param raftAddress HOST:PORT for Raft traffic (null: from the data dir or the peers)
   * @param httpAddress HOST:PORT for the HTTP API (port 0: any free port)
   * @param groups group count of a new cluster (0: default, or what the data dir says)
   */
  public record Options(long nodeId, Path dataDir, String raftAddress, String httpAddress,
      SortedMap<Long, String> peers, String join, int groups, Tuning tuning) {
    public Options {
      peers = new TreeMap<>(peers == null ? Map.of() : peers);
      if (dataDir == null) {
        throw new IllegalArgumentException("a data directory is required");
      }
      if (!peers.isEmpty() && join != null) {
        throw new IllegalArgumentException("--peers bootstraps a cluster, --join joins one: "
            + "give one of them");
      }
      tuning = tuning == null ? Tuning.defaults() : tuning;
    }

    public static Options restart(Path dataDir) {
      return new Options(0, dataDir, null, null, null, null, 0, null);
    }

    public Options withTuning(Tuning tuning) {
      return new Options(nodeId, dataDir, raftAddress, httpAddress, peers, join, groups, tuning);
    }
  }

  /**
   * Knobs with sensible defaults; tests shrink them.
   *
   * @param httpThreads threads for the slow paths of HTTP requests (forwarding a write to
   *     the leader, rendering large answers); requests themselves are read, parsed and
   *     started by the HTTP server's selector thread
   */
  public record Tuning(ChronicleKvStore.Sizing sizing, Duration tick, int electionTicks,
      int heartbeatTicks, NodeRunner.SnapshotPolicy snapshots, int httpThreads,
      Duration reconcileInterval, long sessionTimeoutEntries, byte[] authToken,
      javax.net.ssl.SSLContext peerTls, int quiesceTimeouts,
      io.netty.handler.ssl.SslContext httpTls, javax.net.ssl.SSLContext clientTls,
      boolean authData) {
    public static Tuning defaults() {
      // A snapshot serializes a whole group on the Raft thread: every 100,000 entries, not
      // the runner's 10,000, keeps that pause rare at full load.
      return new Tuning(ChronicleKvStore.Sizing.defaults(), Duration.ofMillis(10), 20, 3,
          new NodeRunner.SnapshotPolicy(100_000, 20_000, 2), 16, Duration.ofMillis(200),
          KvStateMachine.DEFAULT_SESSION_TIMEOUT_ENTRIES, null, null, 0, null, null, false);
    }

    public Tuning withSizing(ChronicleKvStore.Sizing sizing) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    /** The admin API's bearer token ({@link AdminToken}; null: open). */
    public Tuning withAuthToken(byte[] authToken) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    /** The data endpoints want the {@link #authToken} too ({@code --auth-data}). */
    public Tuning withAuthData(boolean authData) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    /** Mutual TLS between nodes ({@link TcpTransport.Options#tls}; null: plain TCP). */
    public Tuning withPeerTls(javax.net.ssl.SSLContext peerTls) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    /**
     * HTTPS for the HTTP API ({@link HttpsFront}; null: plaintext), and the context with
     * which this node reaches the other nodes' HTTPS API (forwarded writes): it trusts their
     * CA and shows this node's certificate.
     */
    public Tuning withHttpTls(io.netty.handler.ssl.SslContext httpTls,
        javax.net.ssl.SSLContext clientTls) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    /**
     * Idle groups go quiet after this many election timeouts (0: never; else at least 2):
     * no heartbeats until the next request ({@link NodeRunner.Options#withQuiesce}).
     */
    public Tuning withQuiesce(int quiesceTimeouts) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }

    public Tuning withSnapshots(NodeRunner.SnapshotPolicy snapshots) {
      return new Tuning(sizing, tick, electionTicks, heartbeatTicks, snapshots, httpThreads,
          reconcileInterval, sessionTimeoutEntries, authToken, peerTls, quiesceTimeouts,
          httpTls, clientTls, authData);
    }
  }

  /** An HTTP connection without a request for this long is closed. */
  private static final long IDLE_CONNECTION_MILLIS = 120_000;

  private final NodeMetadata metadata;
  /**
   * The groups whose replica runs here, in id order: a live list that the admin API, the
   * reconciler, the status page and the metrics read as groups start and stop. A group joins
   * it once its replica runs and leaves it before its replica stops.
   */
  private final List<Long> groups = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Map<Long, ChronicleKvStore> stores =
      new java.util.concurrent.ConcurrentSkipListMap<>();
  private final Map<Long, KvStateMachine> machines =
      new java.util.concurrent.ConcurrentSkipListMap<>();
  /** Where the node keeps its data; set before anything starts. */
  private Path dataDir;
  private Tuning tuning;
  /** The voters the hashed groups (1..group count) start with. */
  private Membership voters;
  private StoppedGroups stopped;
  private AddressBook book;
  private final HttpServer http;
  /** The HTTPS front of {@link #http} (null: plaintext HTTP). */
  private final HttpsFront https;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService timer;
  private final HttpPool pool;
  private NodeRunner runner;
  /** For front ends other than HTTP (RESP); set once started. */
  private KvAccess access;
  /** Front ends started after the node (RESP), closed before it. */
  private final List<AutoCloseable> frontEnds = new java.util.concurrent.CopyOnWriteArrayList<>();

  private KvServer(Options options) throws IOException {
    Identity.Resolved identity = Identity.resolve(options);
    NodeMetadata m = identity.metadata();
    Tuning tuning = options.tuning();
    InetSocketAddress advertised = Peers.address(m.httpAddress());
    // With HTTPS the plaintext server listens on loopback only, behind the TLS front.
    http = new HttpServer(tuning.httpTls() == null ? advertised
        : new InetSocketAddress("127.0.0.1", 0), 1024,
        HttpApi.Limits.defaults().maxBodyBytes() + 1024, IDLE_CONNECTION_MILLIS,
        "detraft-http-" + m.nodeId());
    try {
      https = tuning.httpTls() == null ? null
          : HttpsFront.start(advertised, tuning.httpTls(), http.address());
    } catch (IllegalStateException e) {
      http.close();
      throw e;
    }
    m = m.withAddresses(m.raftAddress(), Peers.format(httpAddress()));
    AtomicInteger threads = new AtomicInteger();
    // Bounded: a flood waits in the queue, then runs on the HTTP dispatcher (back-pressure).
    executor = new ThreadPoolExecutor(tuning.httpThreads(), tuning.httpThreads(), 60,
        TimeUnit.SECONDS, new ArrayBlockingQueue<>(16_384), r -> {
          Thread t = new Thread(r, "detraft-worker-" + options.nodeId() + "-"
              + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "detraft-reconcile");
      t.setDaemon(true);
      return t;
    });
    pool = new HttpPool(Duration.ofSeconds(10), 64, tuning.clientTls());
    try {
      if (identity.fresh() || !NodeMetadata.read(options.dataDir()).orElseThrow().equals(m)) {
        // Before any Raft state: a data dir always says whose it is, and where it listens.
        m.write(options.dataDir());
      }
      metadata = m;
      start(options, identity, tuning);
    } catch (RuntimeException | IOException e) {
      close();
      throw e;
    }
  }

  /**
   * Starts a node as {@code options} say.
   *
   * @throws IllegalStateException with an operator-readable message if the flags and the
   *     data directory disagree
   */
  public static KvServer start(Options options) throws IOException {
    SnapshotCommands.checkNoInterruptedImport(options.dataDir());
    try {
      return new KvServer(options);
    } catch (Identity.StartupException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private void start(Options options, Identity.Resolved identity, Tuning tuning)
      throws IOException {
    long nodeId = metadata.nodeId();
    this.dataDir = options.dataDir();
    this.tuning = tuning;
    this.stopped = StoppedGroups.load(dataDir);
    // Group 1 first: its address book lists the groups added at runtime.
    openGroup(1);
    TcpTransport transport = TcpTransport.bind(TcpTransport.Options.defaults(
        metadata.clusterId(), nodeId).withListen(Peers.address(metadata.raftAddress()))
        .withTls(tuning.peerTls()));
    AddressBook book = new AddressBook((id, address) -> {
      if (id != nodeId) {
        transport.setPeer(id, address);
      }
    });
    metadata.initialPeers().forEach((id, address) -> book.accept(AddressBook.raftKey(id),
        address.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    long copied = BookMirror.load(dataDir, book); // a witness's copy, from its last run
    KvStateMachine directory = machines.get(1L);
    directory.systemRecords().forEach(book::accept);
    directory.onSystemRecord(book::accept);
    this.book = book;
    this.voters = Membership.of(identity.voters());
    List<Long> hosted = new ArrayList<>();
    for (long g = 1; g <= metadata.groups(); g++) {
      hosted.add(g);
    }
    hosted.addAll(book.addedGroups().keySet());
    hosted.removeIf(stopped::contains);
    for (long g : hosted) {
      if (g != 1) {
        openGroup(g);
      }
    }
    NodeRunner.Options runnerOptions = NodeRunner.Options.defaults(nodeId,
            options.dataDir().resolve("raft"))
        .withTiming(tuning.tick(), tuning.electionTicks(), tuning.heartbeatTicks())
        .withSnapshots(tuning.snapshots())
        .withQuiesce(tuning.quiesceTimeouts());
    List<NodeRunner.Group> runnerGroups = new ArrayList<>();
    for (long g : hosted) {
      runnerGroups.add(runnerGroup(g));
    }
    runner = NodeRunner.start(runnerOptions, transport, runnerGroups);
    groups.addAll(hosted);

    Metrics metrics = new Metrics();
    Partitioner partitioner = new Partitioner(metadata.groups());
    AdminToken admin = new AdminToken(tuning.authToken(), tuning.authData());
    Router router = new Router(nodeId, runner, machines, book, pool, executor, metrics, admin);
    HttpApi api = new HttpApi(router, partitioner, HttpApi.Limits.defaults(), executor,
        metrics, admin, this::isGroup);
    api.register(http);
    access = new KvAccess(this, router, partitioner);
    new AdminApi(this, runner, router, book, groups, api, metrics).register(http);
    StatusPage statusPage = new StatusPage(this, runner, book, groups);
    statusPage.register(http, api); // GET /ui
    http.start();
    Reconciler reconciler = new Reconciler(nodeId, metadata.raftAddress(),
        metadata.httpAddress(), identity.bootstrapVoter(), runner, router, book, groups);
    long every = tuning.reconcileInterval().toMillis();
    timer.scheduleWithFixedDelay(reconciler::run, every, every, TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(this::startAddedGroups, every, every, TimeUnit.MILLISECONDS);
    BookMirror mirror = new BookMirror(nodeId, dataDir, runner, book, pool, executor, admin,
        options.join());
    mirror.loaded(copied);
    timer.scheduleWithFixedDelay(mirror::run, 0, Math.max(every, 1000), TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(statusPage::sample, 0, 250, TimeUnit.MILLISECONDS);
    LOG.log(System.Logger.Level.INFO, "node " + nodeId + " of cluster " + metadata.clusterId()
        + " serves HTTP on " + metadata.httpAddress() + ", Raft on " + metadata.raftAddress());
  }

  public long nodeId() {
    return metadata.nodeId();
  }

  // ---------------------------------------------------------------- groups at runtime

  /** Opens group {@code g}'s map and state machine (not yet its replica). */
  private void openGroup(long g) {
    ChronicleKvStore store = ChronicleKvStore.open(dataDir.resolve("kv"), "group-" + g,
        tuning.sizing().perGroupOf(metadata.groups()));
    stores.put(g, store);
    machines.put(g, new KvStateMachine(store, tuning.sessionTimeoutEntries()));
  }

  /** What the runner is given for group {@code g}, whose state machine is open. */
  private NodeRunner.Group runnerGroup(long g) {
    KvStateMachine sm = machines.get(g);
    long[] added = g > metadata.groups() ? book.addedGroups().get(g) : null;
    // The map may be ahead of the log's durable commit index (a crash before the commit
    // index reached the disk); the runner counts what the map applied as committed.
    return new NodeRunner.Group(g, added != null
        ? Membership.fromWitnessesNegated(added, new long[0]) : voters, sm,
        sm.appliedIndex());
  }

  /** Whether {@code g} is a group of this cluster: a hashed one, or one added at runtime. */
  boolean isGroup(long g) {
    return (g >= 1 && g <= metadata.groups()) || book.addedGroups().containsKey(g);
  }

  /** The worker threads for slow request work (never the HTTP selector thread). */
  java.util.concurrent.Executor workers() {
    return executor;
  }

  /** Whether this node runs a replica of {@code g} now. */
  boolean runs(long g) {
    return groups.contains(g);
  }

  /** The groups whose replica an operator stopped on this node. */
  List<Long> stoppedGroups() {
    return stopped.list();
  }

  /**
   * Starts this node's replica of {@code g}, a group of the cluster that does not run here
   * (stopped by an operator, or added to the cluster since this node started): its map opens,
   * and the replica resumes from its log and catches up. Blocks until the replica runs.
   *
   * @throws KvException 404 for a group the cluster does not have, 409 if it runs already
   */
  synchronized void startGroup(long g) {
    if (!isGroup(g)) {
      throw KvException.notFound("no group " + g + " in this cluster (add it with POST"
          + " /v1/groups)");
    }
    if (runs(g)) {
      throw new KvException(409, "already_running", "group " + g + " already runs on node "
          + nodeId());
    }
    openGroup(g);
    try {
      runner.startGroup(runnerGroup(g)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      machines.remove(g);
      ChronicleKvStore store = stores.remove(g);
      store.close();
      throw Router.translate(e instanceof java.util.concurrent.ExecutionException ee
          ? ee.getCause() : e);
    }
    stopped.remove(g);
    int at = 0;
    while (at < groups.size() && groups.get(at) < g) {
      at++;
    }
    groups.add(at, g);
    LOG.log(System.Logger.Level.INFO, "node " + nodeId() + " started its replica of group " + g);
  }

  /**
   * Stops this node's replica of {@code g}, keeping its data (log, snapshots, map) for a
   * later {@link #startGroup}, even across restarts of the process. Requests waiting on it
   * fail; a snapshot it was receiving is dropped. Blocks until it stopped.
   *
   * @throws KvException 404 for a group the cluster does not have, 409 if it does not run
   *     here, or for group 1 (it holds the address book every node reads)
   */
  synchronized void stopGroup(long g) {
    if (!isGroup(g)) {
      throw KvException.notFound("no group " + g + " in this cluster");
    }
    if (g == 1) {
      throw new KvException(409, "group_required", "group 1 holds the cluster's address book"
          + " and runs on every node; it cannot be stopped");
    }
    if (!runs(g)) {
      throw new KvException(409, "not_running", "group " + g + " is not running on node "
          + nodeId() + (stopped.contains(g) ? " (already stopped)" : ""));
    }
    stopped.add(g); // first: a crash from here on restarts the node without the replica
    groups.remove(g);
    machines.remove(g);
    try {
      runner.stopGroup(g).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw Router.translate(e instanceof java.util.concurrent.ExecutionException ee
          ? ee.getCause() : e);
    } finally {
      ChronicleKvStore store = stores.remove(g);
      if (store != null && !runner.groups().contains(g)) {
        store.close();
      }
    }
    LOG.log(System.Logger.Level.INFO, "node " + nodeId() + " stopped its replica of group " + g);
  }

  /** Starts a replica of every group added to the cluster that this node does not run yet. */
  private void startAddedGroups() {
    try {
      for (long g : book.addedGroups().keySet()) {
        if (!runs(g) && !stopped.contains(g) && runner.isRunning()) {
          startGroup(g);
        }
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "starting an added group failed: " + e);
    }
  }

  public String clusterId() {
    return metadata.clusterId();
  }

  public int groupCount() {
    return metadata.groups();
  }

  /** Where the HTTP API is served (over TLS if the node was given {@link Tuning#httpTls}). */
  public InetSocketAddress httpAddress() {
    return https != null ? https.address() : http.address();
  }

  public String raftAddress() {
    return metadata.raftAddress();
  }

  /** The status of {@code group} on this node. */
  public Status status(long group) {
    return runner.status(group);
  }

  public Membership membership(long group) {
    return runner.membership(group);
  }

  /** Whether the node still runs (its runner stops by itself on a disk or state machine failure). */
  public boolean isRunning() {
    return runner != null && runner.isRunning();
  }

  /** Why the node stopped by itself, if it did. */
  public java.util.Optional<Throwable> failure() {
    return runner == null ? java.util.Optional.empty() : runner.failure();
  }

  /** What other front ends (RESP) serve through. */
  public KvAccess access() {
    return access;
  }

  /** Closes {@code frontEnd} (a RESP server) when this node closes, before anything else. */
  public void closeWith(AutoCloseable frontEnd) {
    frontEnds.add(frontEnd);
  }

  /** Stops serving, stops Raft (fsyncing the log) and closes every map cleanly. */
  @Override
  public void close() {
    for (AutoCloseable frontEnd : frontEnds) {
      try {
        frontEnd.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "closing a front end failed: " + e);
      }
    }
    frontEnds.clear();
    timer.shutdownNow();
    if (https != null) {
      https.close();
    }
    http.close();
    if (runner != null) {
      runner.close();
    }
    for (ChronicleKvStore store : stores.values()) {
      try {
        store.close();
      } catch (UncheckedIOException | IllegalStateException e) {
        LOG.log(System.Logger.Level.WARNING, "closing a store failed: " + e);
      }
    }
    executor.shutdownNow();
    pool.close();
  }
}
