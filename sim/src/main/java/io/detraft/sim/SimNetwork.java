package io.detraft.sim;

import io.detraft.io.Frames;
import io.detraft.core.Message;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.distribution.AbstractRealDistribution;
import org.apache.commons.math3.distribution.LogNormalDistribution;
import org.apache.commons.math3.distribution.ParetoDistribution;

/**
 * The simulated network between replicas. Every message travels as the frame the real
 * transport sends ({@link Frames}: the core codec's bytes and a CRC32C) and is decoded by the
 * same checks a real receiver makes, so the codec and the frame checks run in every run and a
 * message cannot share mutable state between sender and receiver. In some seeds a packet
 * arrives with one bit flipped; the checksum must refuse it, and the receiver closes the
 * connection it came on. Frames travel only on connections opened with the real handshake
 * ({@link SimConnections}).
 *
 * <p>Faults: loss, duplication, delay with a heavy tail (Pareto or log-normal, from Commons
 * Math on the run's generator), reordering (off = FIFO links), partitions (checked both when a
 * packet is sent and when it would arrive, so a partition also eats packets in flight),
 * clogged links (a link holds every packet until the clog ends) and replays (a send may also
 * re-send one of the link's last {@link #REPLAY_RING} packets, to arrive {@link
 * #REPLAY_MIN_NANOS} to {@link #REPLAY_MAX_NANOS} later: unlike a duplicate, which arrives
 * next to its original, a replay is an old packet that comes back after the receiver moved
 * on, often in the same term, so only the content of the message can tell it is stale). In
 * the liveness phase the network is clean: no loss, no duplication, no replays, small delays.
 */
final class SimNetwork {
  /** Partition shapes the nemesis picks from. */
  enum Shape {
    SYMMETRIC,
    ASYMMETRIC,
    ISOLATE_ONE,
    MAJORITY_MINORITY,
    BRIDGE,
    /**
     * The leader of a group alone, while its clock runs slow and the others' run fast, to the
     * drift bound: the moment a lease that outlives its bound serves a stale read.
     */
    ISOLATE_LEADER
  }

  /** Packets per link kept for replays: a few, so memory stays flat. */
  static final int REPLAY_RING = 8;
  /**
   * A replay arrives this long after the send that triggered it: from about one election
   * timeout (100 to 300 ms) to many, so some replays land in a later term, most in a later
   * heartbeat round or after the log moved on.
   */
  static final long REPLAY_MIN_NANOS = 200 * SimOptions.MS;
  static final long REPLAY_MAX_NANOS = 3 * SimOptions.SECOND;

  private final Simulation sim;
  private final SimOptions.NetworkOptions options;
  private final int size;
  private final SimRandom random;
  private final AbstractRealDistribution tail;
  /** cut[from][to]: packets from {@code from} to {@code to} are dropped. Ids are 1-based. */
  private final boolean[][] cut;
  /** The time until which a link holds its packets (0: not clogged). */
  private final long[][] clogUntil;
  /** Latest arrival time per link, for FIFO links. */
  private final long[][] lastArrival;
  /** past[from][to]: the link's last packets (encoded) and their count; only with replays. */
  private final byte[][][][] past;
  private final long[][] pastCount;
  private final SimConnections connections;
  private boolean clean;
  private long sent;
  private long dropped;

  SimNetwork(Simulation sim, SimOptions.NetworkOptions options, int size, SimRandom random) {
    this.sim = sim;
    this.options = options;
    this.size = size;
    this.random = random;
    this.tail = options.paretoTail()
        ? new ParetoDistribution(random.asRandomGenerator(), options.tailScale(),
            options.tailShape())
        : new LogNormalDistribution(random.asRandomGenerator(), Math.log(options.tailScale()),
            options.tailShape());
    this.cut = new boolean[size + 1][size + 1];
    this.clogUntil = new long[size + 1][size + 1];
    this.lastArrival = new long[size + 1][size + 1];
    this.past = options.replay() > 0 ? new byte[size + 1][size + 1][REPLAY_RING][] : null;
    this.pastCount = new long[size + 1][size + 1];
    this.connections = new SimConnections(sim, this, options, size, sim.options().seed());
  }

  SimConnections connections() {
    return connections;
  }

  /**
   * Sends a message from replica {@code from}; the receiver is {@code message.to()}. It goes
   * now if the link has an open connection, else it waits for one (or is dropped).
   */
  void send(int from, Message message) {
    long connection = connections.connectionFor(from, (int) message.to(), message, sim.now());
    if (connection >= 0) {
      sendFrame(from, message, connection);
    }
  }

  /** Puts {@code message} on the wire of connection {@code connection}. */
  void sendFrame(int from, Message message, long connection) {
    int to = (int) message.to();
    byte[] bytes = Frames.encode(message); // what TcpTransport writes: body and checksum
    long hash = Trace.hashBytes(bytes);
    long now = sim.now();
    sent++;
    if (message instanceof Message.TimeoutNow handover) {
      sim.nemesis().onHandover(handover);
    }
    if (cut[from][to]) {
      drop(now, from, to, hash, "partitioned");
      return;
    }
    if (!clean && random.chance(options.loss())) {
      drop(now, from, to, hash, "lost");
      return;
    }
    long arrival = arrival(now, from, to);
    sim.nemesis().onTransit(from, to, arrival - now);
    sim.trace().record(now, Trace.Kind.SEND, from, to, hash, arrival, message);
    sim.schedule(new Event(arrival, Event.Kind.DELIVER, to, from, hash, 2 * connection, bytes));
    if (!clean && random.chance(options.duplicate())) {
      long copy = arrival(now, from, to);
      sim.trace().record(now, Trace.Kind.DUPLICATE, from, to, hash, copy, null);
      sim.schedule(new Event(copy, Event.Kind.DELIVER, to, from, hash, 2 * connection, bytes));
    }
    if (past != null && !clean) {
      replay(now, from, to);
      past[from][to][(int) (pastCount[from][to]++ % REPLAY_RING)] = bytes;
    }
  }

  /**
   * With the seed's replay probability, re-sends one of the link's earlier packets, with a
   * long delay. A replay ignores FIFO order and clogs: it is a stale copy that took another
   * path (second 1 in its event tells {@link #deliver} so).
   */
  private void replay(long now, int from, int to) {
    long kept = Math.min(pastCount[from][to], REPLAY_RING);
    if (kept == 0 || !random.chance(options.replay())) {
      return;
    }
    byte[] old = past[from][to][random.nextInt((int) kept)];
    long hash = Trace.hashBytes(old);
    long arrival = now + random.between(REPLAY_MIN_NANOS, REPLAY_MAX_NANOS);
    sim.trace().record(now, Trace.Kind.REPLAY, from, to, hash, arrival, null);
    sim.schedule(new Event(arrival, Event.Kind.DELIVER, to, from, hash, 1, old));
  }

  /**
   * A packet arrives: unless a partition now separates the two, or the connection it was sent
   * on is closed, the receiver gets it.
   */
  void deliver(Event event) {
    int to = event.node;
    int from = event.peer;
    if (cut[from][to]) {
      drop(event.time, from, to, event.first, "partitioned in flight");
      return;
    }
    boolean replayed = event.second == 1;
    if (!replayed && !connections.deliverable(from, to, event.second / 2)) {
      drop(event.time, from, to, event.first, "its connection closed");
      return;
    }
    byte[] frame = (byte[]) event.payload;
    boolean flipped = !clean && random.chance(options.corrupt());
    if (flipped) {
      frame = frame.clone(); // duplicates and replays share the original bytes
      int bit = random.nextInt(frame.length * 8);
      frame[bit / 8] ^= (byte) (1 << (bit % 8));
    }
    Message message;
    try {
      message = Frames.decode(frame, from, to); // the receiving node's own checks
    } catch (Frames.MalformedFrameException e) {
      if (!flipped) {
        throw new SimulationFailure("codec", "a frame from n" + from + " to n" + to
            + " was refused: " + e.getMessage());
      }
      sim.marks().hit(SimMark.CORRUPT_FRAME_REFUSED);
      drop(event.time, from, to, event.first, "corrupted: " + e.getMessage());
      if (!replayed) {
        connections.onRefusedFrame(event.time, from, to);
      }
      return;
    }
    if (flipped) {
      throw new SimulationFailure("frame-checksum", "a frame from n" + from + " to n" + to
          + " with a flipped bit was accepted as " + message);
    }
    sim.trace().record(event.time, Trace.Kind.DELIVER, to, from, event.first, 0, message);
    if (replayed && sim.node(to).isUp()
        && sim.node(to).replica(message.group()).term() == message.term()) {
      sim.marks().hit(SimMark.OLD_MESSAGE_REPLAYED_IN_TERM);
    }
    if (message instanceof Message.VoteResponse vote) {
      sim.oracles(message.group()).onVoteDelivered(to, vote);
    }
    sim.node(to).receive(message);
  }

  private long arrival(long now, int from, int to) {
    long delay;
    if (clean) {
      delay = options.delayMinNanos() + random.nextLong(options.delayMinNanos());
    } else {
      double extra = Math.min(tail.sample(), (double) options.delayMaxNanos());
      delay = options.delayMinNanos() + (long) extra;
    }
    long arrival = now + delay;
    if (clogUntil[from][to] > now) {
      arrival = Math.max(arrival, clogUntil[from][to] + delay);
    }
    if (!options.reorder() || clean) {
      // A FIFO link: nothing overtakes what was sent before it.
      arrival = Math.max(arrival, lastArrival[from][to]);
      lastArrival[from][to] = arrival;
    }
    return arrival;
  }

  private void drop(long time, int from, int to, long hash, String reason) {
    dropped++;
    sim.trace().record(time, Trace.Kind.DROP, from, to, hash, 0, reason);
  }

  /**
   * Cuts links in a randomly chosen shape; returns a description for the trace. {@code
   * leader} is the node {@link Shape#ISOLATE_LEADER} isolates.
   */
  String partition(Shape shape, int leader) {
    heal();
    if (size == 1) {
      return "none: a single node"; // A lone voter (swarm depth) has no link to cut.
    }
    List<Integer> ids = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      ids.add(i);
    }
    // Fisher-Yates with our generator: a random assignment of roles to nodes.
    for (int i = ids.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Integer tmp = ids.get(i);
      ids.set(i, ids.get(j));
      ids.set(j, tmp);
    }
    switch (shape) {
      case SYMMETRIC: {
        int split = 1 + random.nextInt(size - 1);
        cutBetween(ids.subList(0, split), ids.subList(split, size));
        return "symmetric " + ids.subList(0, split) + " | " + ids.subList(split, size);
      }
      case ISOLATE_ONE:
        cutBetween(ids.subList(0, 1), ids.subList(1, size));
        return "isolate " + ids.get(0);
      case ISOLATE_LEADER:
        ids.remove(Integer.valueOf(leader));
        cutBetween(List.of(leader), ids);
        return "isolate leader " + leader;
      case MAJORITY_MINORITY: {
        int minority = (size - 1) / 2;
        cutBetween(ids.subList(0, minority), ids.subList(minority, size));
        return "minority " + ids.subList(0, minority) + " | majority "
            + ids.subList(minority, size);
      }
      case BRIDGE: {
        // ids[0] is the bridge; the rest split in two halves that only it connects.
        int half = 1 + (size - 1) / 2;
        List<Integer> left = ids.subList(1, half);
        List<Integer> right = ids.subList(half, size);
        cutBetween(left, right);
        return "bridge " + ids.get(0) + " between " + left + " and " + right;
      }
      case ASYMMETRIC: {
        StringBuilder links = new StringBuilder("asymmetric");
        for (int from = 1; from <= size; from++) {
          for (int to = 1; to <= size; to++) {
            if (from != to && random.chance(0.4)) {
              cut[from][to] = true;
              links.append(' ').append(from).append("->").append(to);
            }
          }
        }
        return links.toString();
      }
      default:
        throw new IllegalStateException("unknown shape " + shape);
    }
  }

  private void cutBetween(List<Integer> left, List<Integer> right) {
    for (int a : left) {
      for (int b : right) {
        cut[a][b] = true;
        cut[b][a] = true;
      }
    }
  }

  /** Reconnects every link. */
  void heal() {
    for (boolean[] row : cut) {
      java.util.Arrays.fill(row, false);
    }
  }

  /** Holds every packet on the link {@code from -> to} until {@code until}. */
  void clog(int from, int to, long until) {
    clogUntil[from][to] = Math.max(clogUntil[from][to], until);
  }

  /** The liveness phase: everything healed, no loss, no duplication, short delays. */
  void makeClean() {
    heal();
    for (long[] row : clogUntil) {
      java.util.Arrays.fill(row, 0);
    }
    clean = true;
  }

  boolean isCut(int from, int to) {
    return cut[from][to];
  }

  long sent() {
    return sent;
  }

  long dropped() {
    return dropped;
  }
}
