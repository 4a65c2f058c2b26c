package io.detraft.io;

import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * A cluster of real nodes in one JVM: each with its own data directory, its own transport on
 * an ephemeral loopback port, and a recording state machine. For tests and benchmarks.
 */
final class LocalCluster implements AutoCloseable {
  static final String CLUSTER_ID = "test-cluster";
  static final long GROUP = 1;

  /** Remembers every command it applied, in order; answers "ok:INDEX". */
  static final class RecordingStateMachine implements StateMachine {
    private final List<String> applied = new ArrayList<>();
    /** The index of the first entry applied by this instance (not restored), 0 if none. */
    private long firstAppliedIndex;
    private int restores;

    @Override
    public synchronized byte[] apply(long index, byte[] command) {
      if (firstAppliedIndex == 0) {
        firstAppliedIndex = index;
      }
      applied.add(new String(command, StandardCharsets.UTF_8));
      return ("ok:" + index).getBytes(StandardCharsets.UTF_8);
    }

    synchronized long firstAppliedIndex() {
      return firstAppliedIndex;
    }

    synchronized int restores() {
      return restores;
    }

    synchronized List<String> applied() {
      return new ArrayList<>(applied);
    }

    synchronized int count() {
      return applied.size();
    }

    @Override
    public synchronized byte[] snapshot() {
      return String.join("\n", applied).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
      restores++;
      applied.clear();
      String s = new String(snapshot, StandardCharsets.UTF_8);
      if (!s.isEmpty()) {
        applied.addAll(List.of(s.split("\n")));
      }
    }
  }

  private final Path root;
  /** The bootstrap membership: nodes 1..size. Nodes added later start with it too. */
  private final Membership voters;
  private final Map<Long, NodeRunner> runners = new TreeMap<>();
  private final Map<Long, TcpTransport> transports = new TreeMap<>();
  private final Map<Long, InetSocketAddress> addresses = new TreeMap<>();
  private final Map<Long, RecordingStateMachine> machines = new TreeMap<>();
  private final Duration tick;
  private final int segmentBytes;
  private final NodeRunner.SnapshotPolicy snapshots;
  /** Applied last to every node's runner options (tests that need other timings). */
  private final UnaryOperator<NodeRunner.Options> tweak;

  /** Tests: small WAL segments, so that pre-allocation does not dominate the disk. */
  LocalCluster(Path root, int size, Duration tick) throws IOException {
    this(root, size, tick, 1 << 20, NodeRunner.SnapshotPolicy.defaults());
  }

  LocalCluster(Path root, int size, Duration tick, NodeRunner.SnapshotPolicy snapshots)
      throws IOException {
    this(root, size, tick, 1 << 20, snapshots);
  }

  LocalCluster(Path root, int size, Duration tick, int segmentBytes,
      NodeRunner.SnapshotPolicy snapshots) throws IOException {
    this(root, size, tick, segmentBytes, snapshots, UnaryOperator.identity());
  }

  /** Runner options changed by {@code tweak} (e.g. other timeouts), on every node. */
  LocalCluster(Path root, int size, Duration tick, UnaryOperator<NodeRunner.Options> tweak)
      throws IOException {
    this(root, size, tick, 1 << 20, NodeRunner.SnapshotPolicy.defaults(), tweak);
  }

  LocalCluster(Path root, int size, Duration tick, int segmentBytes,
      NodeRunner.SnapshotPolicy snapshots, UnaryOperator<NodeRunner.Options> tweak)
      throws IOException {
    this(root, size, tick, segmentBytes, snapshots, tweak, null);
  }

  /**
   * Runs only the nodes in {@code local} here; the other voters run elsewhere (e.g. in a child
   * JVM) and are reached once their addresses are given to {@link #setAddress}.
   */
  LocalCluster(Path root, int size, Duration tick, Set<Long> local) throws IOException {
    this(root, size, tick, 1 << 20, NodeRunner.SnapshotPolicy.defaults(),
        UnaryOperator.identity(), local);
  }

  /** {@code local} null: every node runs here. */
  private LocalCluster(Path root, int size, Duration tick, int segmentBytes,
      NodeRunner.SnapshotPolicy snapshots, UnaryOperator<NodeRunner.Options> tweak,
      Set<Long> local) throws IOException {
    this.root = root;
    this.tweak = tweak;
    this.segmentBytes = segmentBytes;
    this.snapshots = snapshots;
    this.tick = tick;
    long[] ids = new long[size];
    for (int i = 0; i < size; i++) {
      ids[i] = i + 1;
    }
    this.voters = Membership.of(ids);
    for (long id = 1; id <= size; id++) {
      if (local == null || local.contains(id)) {
        TcpTransport transport = TcpTransport.bind(transportOptions(id));
        transports.put(id, transport);
        addresses.put(id, transport.localAddress());
      }
    }
    for (long id = 1; id <= size; id++) {
      if (!transports.containsKey(id)) {
        continue; // runs elsewhere
      }
      for (long peer = 1; peer <= size; peer++) {
        if (peer != id && addresses.containsKey(peer)) {
          transports.get(id).setPeer(peer, addresses.get(peer));
        }
      }
      startRunner(id);
    }
  }

  /** Tells every node running here where node {@code id} (running elsewhere) listens. */
  void setAddress(long id, InetSocketAddress address) {
    addresses.put(id, address);
    for (var e : transports.entrySet()) {
      if (e.getKey() != id) {
        e.getValue().setPeer(id, address);
      }
    }
  }

  private TcpTransport.Options transportOptions(long id) {
    return TcpTransport.Options.defaults(CLUSTER_ID, id)
        .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(500));
  }

  private void startRunner(long id) throws IOException {
    RecordingStateMachine machine = new RecordingStateMachine();
    machines.put(id, machine);
    NodeRunner.Options options = tweak.apply(NodeRunner.Options.defaults(id, dataDir(id))
        .withTiming(tick, 20, 3)
        .withStorage(new WriteAheadLog.Options(segmentBytes), segmentBytes / 4)
        .withProposalTimeout(Duration.ofSeconds(10))
        .withSnapshots(snapshots));
    runners.put(id, NodeRunner.start(options, transports.get(id),
        List.of(NodeRunner.Group.of(GROUP, voters, machine))));
  }

  /** Closes node {@code id}'s runner (and with it its transport and WAL). */
  void stop(long id) {
    runners.remove(id).close();
    transports.remove(id);
  }

  /**
   * Restarts a stopped node from its data directory (or starts a new node, which joins with
   * the bootstrap membership and waits to be added), on a new port the others learn.
   */
  void restart(long id) throws IOException {
    TcpTransport transport = TcpTransport.bind(transportOptions(id));
    transports.put(id, transport);
    addresses.put(id, transport.localAddress());
    for (long peer : new ArrayList<>(addresses.keySet())) {
      if (peer != id) {
        transport.setPeer(peer, addresses.get(peer));
        if (transports.containsKey(peer)) {
          transports.get(peer).setPeer(id, transport.localAddress());
        }
      }
    }
    try {
      startRunner(id);
    } catch (IOException | RuntimeException e) {
      transports.remove(id); // start() closed it
      throw e;
    }
  }

  /** Stops node {@code id} for good: the others forget its address. */
  void forget(long id) {
    if (runners.containsKey(id)) {
      stop(id);
    }
    addresses.remove(id);
    for (TcpTransport t : transports.values()) {
      t.removePeer(id);
    }
  }

  Path dataDir(long id) {
    return root.resolve("node-" + id);
  }

  NodeRunner runner(long id) {
    return runners.get(id);
  }

  TcpTransport transport(long id) {
    return transports.get(id);
  }

  InetSocketAddress address(long id) {
    return addresses.get(id);
  }

  RecordingStateMachine machine(long id) {
    return machines.get(id);
  }

  Iterable<Long> running() {
    return new ArrayList<>(runners.keySet());
  }

  /** The one running node that leads in the highest term, waiting up to {@code timeout}. */
  long awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      long leader = 0;
      long term = -1;
      for (var e : runners.entrySet()) {
        Status s = e.getValue().status(GROUP);
        if (s.role() == Role.LEADER && s.term() > term) {
          leader = e.getKey();
          term = s.term();
        }
      }
      if (leader != 0) {
        return leader;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no leader within " + timeout);
  }

  /** Proposes through whichever node leads, retrying answers that say nothing was appended. */
  byte[] propose(String command, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      long leader = awaitLeader(Duration.ofNanos(deadline - System.nanoTime()));
      CompletableFuture<byte[]> f = runners.get(leader).propose(
          GROUP, command.getBytes(StandardCharsets.UTF_8));
      try {
        return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof ProposalException pe) || pe.outcomeUnknown()) {
          throw e; // an unknown outcome must not be retried blindly in a test of exactness
        }
        last = pe;
        Thread.sleep(20);
      }
    }
    throw new AssertionError("proposal not committed within " + timeout, last);
  }

  static void await(BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    for (NodeRunner runner : runners.values()) {
      runner.close();
    }
    runners.clear();
  }
}
