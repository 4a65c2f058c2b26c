package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.io.Handshake;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * The connections between simulated nodes, kept the way the real transport keeps them
 * ({@code io-real}'s PeerSender and InboundConnection): a link from one node to another
 * carries frames only on an open connection; the first message to send dials, and the
 * dialer's hello and the listener's answer are {@link Handshake}'s own bytes, judged by its own
 * code. Until the answer arrives the link queues messages; a refusal, a peer that is down, or
 * no answer within the handshake timeout drops them and backs off (doubling, with jitter,
 * within the real transport's bounds), and the next message after the backoff dials again.
 *
 * <p>A connection closes when either end crashes, and when the listener refuses a frame (a
 * flipped bit); the next message dials again. What the dialer had queued is lost. Frames in
 * flight are lost when the listener's end went away (it crashed, or refused a frame and
 * closed the socket, discarding the bytes behind it), but not when the dialer crashed: its
 * kernel still sends what the process had written, so a message sent just before a crash
 * arrives, which is what catches a node that speaks before its state is durable.
 *
 * <p><b>Stray dialers.</b> In some seeds ({@code strays} in the options), next to a node's own dial, a hello from outside
 * the cluster reaches the listener: another cluster's id, another protocol version, a dial
 * meant for another node, an impossible node id, a hello cut short or plain garbage. The
 * listener must refuse every one of them, and must accept every hello of the cluster's own
 * nodes; either mistake fails the seed as {@code handshake}.
 *
 * <p>Every draw here comes from a generator of its own, so adding connections did not change
 * what the rest of a seed draws (the timing it changes is the handshake's round trip).
 */
final class SimConnections {
  /** The real transport's handshake timeout (TcpTransport.Options.loopback). */
  static final long HANDSHAKE_TIMEOUT_NANOS = 2 * SimOptions.SECOND;
  /** The real transport's reconnect backoff bounds. */
  static final long BACKOFF_MIN_NANOS = 20 * SimOptions.MS;
  static final long BACKOFF_MAX_NANOS = SimOptions.SECOND;
  /** Messages a link queues while it dials, as the real send queue holds. */
  static final int QUEUE_CAPACITY = 4096;

  private enum State {
    CLOSED,
    DIALING,
    OPEN
  }

  private final Simulation sim;
  private final SimNetwork network;
  private final String clusterId;
  private final SimRandom random;
  /** The chance that a stray hello comes with a dial ({@link SimOptions.NetworkOptions}). */
  private final double strays;
  /** A handshake message takes one to two of the network's minimum delays. */
  private final long delayMinNanos;
  private final State[][] state;
  /** The link's current connection (or attempt), numbered from 1. */
  private final long[][] epoch;
  /** Frames on connections numbered below this are lost: the listener's end went away. */
  private final long[][] deadBelow;
  private final long[][] backoff;
  private final long[][] backoffUntil;
  private final ArrayDeque<Message>[][] queued;

  @SuppressWarnings("unchecked")
  SimConnections(Simulation sim, SimNetwork network, SimOptions.NetworkOptions options,
      int size, long seed) {
    this.sim = sim;
    this.network = network;
    this.clusterId = "sim-" + seed;
    this.random = new SimRandom(seed).fork(18);
    this.strays = options.strayDialers();
    this.delayMinNanos = options.delayMinNanos();
    this.state = new State[size + 1][size + 1];
    for (State[] row : state) {
      java.util.Arrays.fill(row, State.CLOSED);
    }
    this.epoch = new long[size + 1][size + 1];
    this.deadBelow = new long[size + 1][size + 1];
    this.backoff = new long[size + 1][size + 1];
    this.backoffUntil = new long[size + 1][size + 1];
    this.queued = new ArrayDeque[size + 1][size + 1];
  }

  /**
   * The connection a frame from {@code from} to {@code to} may go on now, or -1: then the
   * message was queued behind a dial, or dropped (the link backs off after a failed dial).
   */
  long connectionFor(int from, int to, Message message, long now) {
    switch (state[from][to]) {
      case OPEN:
        return epoch[from][to];
      case DIALING:
        queue(from, to, message, now);
        return -1;
      default:
        if (now < backoffUntil[from][to]) {
          sim.trace().record(now, Trace.Kind.DROP, from, to, 0, 0, "link backing off");
          return -1;
        }
        dial(from, to, now);
        queue(from, to, message, now);
        return -1;
    }
  }

  /** Whether a frame sent on connection {@code connection} can still be read by its listener. */
  boolean deliverable(int from, int to, long connection) {
    return connection >= deadBelow[from][to];
  }

  private void queue(int from, int to, Message message, long now) {
    ArrayDeque<Message> q = queued[from][to];
    if (q == null) {
      q = queued[from][to] = new ArrayDeque<>();
    }
    if (q.size() >= QUEUE_CAPACITY) {
      sim.trace().record(now, Trace.Kind.DROP, from, to, 0, 0, "send queue full");
      return;
    }
    q.add(message);
  }

  private void dial(int from, int to, long now) {
    state[from][to] = State.DIALING;
    long attempt = ++epoch[from][to];
    sendHandshake(now, to, from, attempt, false, Handshake.hello(clusterId, from, to));
    sim.schedule(new Event(now + HANDSHAKE_TIMEOUT_NANOS, Event.Kind.HANDSHAKE_TIMEOUT, from, to,
        attempt, 0, null));
    if (strays > 0 && random.chance(strays)) {
      sendHandshake(now, to, 0, 0, false, strayHello(to));
    }
  }

  /** One handshake message, over the link (lost if it is cut when sent or when it arrives). */
  private void sendHandshake(long now, int to, int from, long attempt, boolean answer,
      byte[] bytes) {
    if (from != 0 && network.isCut(from, to)) {
      return; // no SYN gets through: the dial times out
    }
    long delay = delayMinNanos + random.nextLong(delayMinNanos);
    sim.trace().record(now, Trace.Kind.SEND, from, to, attempt, now + delay,
        answer ? "handshake answer" : from == 0 ? "stray hello" : "handshake hello");
    sim.schedule(new Event(now + delay, Event.Kind.HANDSHAKE, to, from, attempt,
        answer ? 1 : 0, bytes));
  }

  /** A hello or an answer arrives ({@link Event.Kind#HANDSHAKE}). */
  void onHandshake(Event event) {
    int to = event.node;
    int from = event.peer;
    if (from != 0 && network.isCut(from, to)) {
      return; // lost in flight
    }
    byte[] bytes = (byte[]) event.payload;
    if (event.second == 1) {
      onAnswer(event.time, to, from, event.first, bytes);
      return;
    }
    if (!sim.node(to).isUp()) {
      // Nothing listens: the dialer's connect is refused at once.
      sendHandshake(event.time, from, to, event.first, true,
          Handshake.answer("connection refused"));
      return;
    }
    String refusal = Handshake.judge(bytes, clusterId, to);
    if (from == 0) {
      if (refusal == null) {
        throw new SimulationFailure("handshake", "n" + to + " accepted a hello from outside "
            + "the cluster");
      }
      sim.marks().hit(SimMark.STRAY_HANDSHAKE_REFUSED);
      sim.trace().record(event.time, Trace.Kind.DROP, 0, to, 0, 0, "stray hello: " + refusal);
      return;
    }
    if (refusal != null) {
      throw new SimulationFailure("handshake", "n" + to + " refused n" + from + ": " + refusal);
    }
    sendHandshake(event.time, from, to, event.first, true, Handshake.answer(null));
  }

  private void onAnswer(long now, int dialer, int listener, long attempt, byte[] bytes) {
    if (state[dialer][listener] != State.DIALING || epoch[dialer][listener] != attempt) {
      return; // the dialer crashed, or gave up on this attempt
    }
    String refusal;
    try {
      refusal = Handshake.answerRefusal(bytes);
    } catch (IOException e) {
      throw new SimulationFailure("handshake", "n" + dialer + " could not read n" + listener
          + "'s answer: " + e.getMessage());
    }
    if (refusal != null) {
      failDial(now, dialer, listener, refusal);
      return;
    }
    state[dialer][listener] = State.OPEN;
    backoff[dialer][listener] = 0;
    sim.trace().record(now, Trace.Kind.DELIVER, dialer, listener, attempt, 0, "connected");
    ArrayDeque<Message> q = queued[dialer][listener];
    while (q != null && !q.isEmpty() && state[dialer][listener] == State.OPEN) {
      network.sendFrame(dialer, q.poll(), attempt);
    }
  }

  /** The handshake timeout of an attempt ({@link Event.Kind#HANDSHAKE_TIMEOUT}). */
  void onTimeout(Event event) {
    if (state[event.node][event.peer] == State.DIALING
        && epoch[event.node][event.peer] == event.first) {
      failDial(event.time, event.node, event.peer, "no answer within the handshake timeout");
    }
  }

  private void failDial(long now, int from, int to, String why) {
    sim.marks().hit(SimMark.DIAL_FAILED);
    long wait = backoff[from][to] == 0 ? BACKOFF_MIN_NANOS
        : Math.min(BACKOFF_MAX_NANOS, 2 * backoff[from][to]);
    backoff[from][to] = wait;
    backoffUntil[from][to] = now + wait / 2 + random.nextLong(wait / 2 + 1);
    close(now, from, to, false, "dial failed: " + why);
  }

  /** The listener refused a frame: it closed the connection the frame came on. */
  void onRefusedFrame(long now, int from, int to) {
    if (state[from][to] == State.OPEN) {
      close(now, from, to, true, "listener closed the connection after a refused frame");
    }
  }

  /** A node crashed: every connection from or to it is gone. */
  void onCrash(int node, long now) {
    for (int peer = 1; peer < state.length; peer++) {
      if (state[node][peer] != State.CLOSED) {
        close(now, node, peer, false, "n" + node + " crashed");
      }
      if (state[peer][node] != State.CLOSED) {
        close(now, peer, node, true, "n" + node + " crashed");
      }
    }
  }

  /** {@code listenerGone}: the frames in flight on it are lost too. */
  private void close(long now, int from, int to, boolean listenerGone, String why) {
    ArrayDeque<Message> q = queued[from][to];
    int lost = q == null ? 0 : q.size();
    if (q != null) {
      q.clear();
    }
    state[from][to] = State.CLOSED;
    if (listenerGone) {
      deadBelow[from][to] = epoch[from][to] + 1;
    }
    sim.trace().record(now, Trace.Kind.DROP, from, to, lost, 0, "connection closed: " + why);
  }

  /** A hello no listener of this cluster may accept. */
  private byte[] strayHello(int to) {
    int from = 1 + random.nextInt(state.length - 1);
    byte[] good = Handshake.hello(clusterId, from == to ? to % (state.length - 1) + 1 : from, to);
    switch (random.nextInt(6)) {
      case 0:
        return Handshake.hello(clusterId + "-other", from, to);
      case 1: {
        byte[] b = good.clone();
        b[5] ^= 1; // the protocol version (magic:u32, then version:u16)
        return b;
      }
      case 2:
        return Handshake.hello(clusterId, from, to + state.length); // meant for another node
      case 3:
        return Handshake.hello(clusterId, random.chance(0.5) ? 0 : to, to); // impossible id
      case 4:
        return java.util.Arrays.copyOf(good, 1 + random.nextInt(good.length - 1));
      default: {
        byte[] junk = new byte[1 + random.nextInt(64)];
        for (int i = 0; i < junk.length; i++) {
          junk[i] = (byte) random.nextInt(256);
        }
        if (junk[0] == 'D') {
          junk[0] = 'd'; // never the magic's first byte
        }
        return junk;
      }
    }
  }
}
