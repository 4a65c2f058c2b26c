package io.detraft.sim;

import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Kv;

/**
 * Key/value clients with Jepsen semantics, recording their history for the linearizability
 * checker. Each client has one operation in flight. It asks one node; the operation completes
 * when that node applies the command (matched by request id) and the answer travels back.
 * "Not leader" and "node down" answers mean nothing was appended, so the client retries the
 * same operation elsewhere. A timeout means the outcome is unknown: the client records {@code
 * info} and continues as a new process (a crashed Jepsen process never returns), asking another
 * node next. Gets go through the log too, so every completed operation is linearizable.
 *
 * <p>Written values are unique across the run, which lets the checker tell writes apart.
 */
final class Workload {
  /** A command on its way from a client to a node. */
  record Request(int client, long process, long requestId, int node, byte[] command) {}

  /** A node's answer to a client. */
  record Reply(Outcome outcome, int client, long requestId, int node, long leaderHint,
      long index, long term, byte[] result) {
    enum Outcome { APPLIED, NOT_LEADER, UNAVAILABLE }

    static Reply notLeader(Request request, int node, long hint) {
      return new Reply(Outcome.NOT_LEADER, request.client(), request.requestId(), node, hint, 0,
          0, null);
    }

    static Reply unavailable(Request request, int node) {
      return new Reply(Outcome.UNAVAILABLE, request.client(), request.requestId(), node, 0, 0,
          0, null);
    }

    @Override
    public String toString() {
      return outcome == Outcome.APPLIED ? "applied at n" + node + " index " + index
          : outcome == Outcome.NOT_LEADER ? "n" + node + " not leader, hint n" + leaderHint
          : "n" + node + " down";
    }
  }

  private static final class Client {
    final int index;
    long process;
    boolean busy;
    byte op;
    String f;
    Object invokeValue;
    long key;
    Long first;
    Long second;
    long requestId;
    byte[] command;
    int target;
    int attempts;
    long invokedAt;
    long nominalNext;
    /** New operations still to complete in the liveness phase; -1 before it. */
    int livenessLeft = -1;
    boolean invokedInLiveness;

    Client(int index) {
      this.index = index;
    }
  }

  private final Simulation sim;
  private final SimOptions.WorkloadOptions options;
  private final SimRandom random;
  private final int size;
  private final Client[] clients;
  private final HistoryBuilder history = new HistoryBuilder();
  /** The last value each key was seen to hold (cas expectations); index = key. */
  private final Long[] lastValue;
  private final long meanIntervalNanos;
  private long nextProcess;
  private long nextRequestId = 1;
  private long nextValue = 1;
  private boolean liveness;
  long invoked;
  long completedOk;
  long completedFail;
  long completedInfo;

  Workload(Simulation sim, SimOptions.WorkloadOptions options, int size, SimRandom random) {
    this.sim = sim;
    this.options = options;
    this.random = random;
    this.size = size;
    this.clients = new Client[options.clients()];
    this.lastValue = new Long[options.keys()];
    this.meanIntervalNanos = (long) (options.clients() * 1e9 / options.opsPerSecond());
  }

  void start() {
    for (int i = 0; i < clients.length; i++) {
      Client c = new Client(i);
      c.process = nextProcess++;
      c.target = 1 + i % size;
      c.nominalNext = sim.now() + random.exponential(meanIntervalNanos);
      clients[i] = c;
      sim.schedule(new Event(c.nominalNext, Event.Kind.CLIENT_NEXT, 0, 0, i, 0, null));
    }
  }

  /** A client starts its next operation. */
  void onNext(int clientIndex) {
    Client c = clients[clientIndex];
    if (c.busy || (liveness && c.livenessLeft == 0)) {
      return;
    }
    long now = sim.now();
    c.key = random.nextLong(options.keys());
    int roll = random.nextInt(options.getWeight() + options.putWeight() + options.casWeight());
    if (roll < options.getWeight()) {
      c.op = KvStateMachine.GET;
      c.f = Kv.GET;
      c.first = null;
      c.second = null;
      c.invokeValue = Kv.pair(c.key, null);
    } else if (roll < options.getWeight() + options.putWeight()) {
      c.op = KvStateMachine.PUT;
      c.f = Kv.PUT;
      c.first = nextValue++;
      c.second = null;
      c.invokeValue = Kv.pair(c.key, c.first);
    } else {
      c.op = KvStateMachine.CAS;
      c.f = Kv.CAS;
      c.first = lastValue[(int) c.key];
      c.second = nextValue++;
      c.invokeValue = Kv.casValue(c.key, c.first, c.second);
    }
    c.requestId = nextRequestId++;
    byte[] kv = KvStateMachine.command(c.op, c.key, c.first, c.second);
    c.command = new byte[8 + kv.length];
    KvStateMachine.writeLong(c.command, 0, c.requestId);
    System.arraycopy(kv, 0, c.command, 8, kv.length);
    c.busy = true;
    c.attempts = 0;
    c.invokedAt = now;
    c.invokedInLiveness = liveness;
    invoked++;
    history.invoke(c.process, c.f, c.invokeValue, now);
    sim.trace().record(now, Trace.Kind.CLIENT_INVOKE, c.target, 0, c.process, c.requestId,
        c.invokeValue);
    sendRequest(c, now + options.clientLatencyNanos());
    sim.schedule(new Event(now + options.timeoutNanos(), Event.Kind.CLIENT_TIMEOUT, 0, 0,
        clientIndex, c.requestId, null));
  }

  private void sendRequest(Client c, long arrival) {
    Request request = new Request(c.index, c.process, c.requestId, c.target, c.command);
    sim.schedule(new Event(arrival, Event.Kind.CLIENT_REQUEST, c.target, 0, 0, 0, request));
  }

  /** A node answers a request (not leader / down): the answer reaches the client later. */
  void reply(Request request, Reply reply) {
    sim.schedule(new Event(sim.now() + options.clientLatencyNanos(), Event.Kind.CLIENT_REPLY, 0,
        0, request.client(), 0, reply));
  }

  /** Node {@code node} applied command {@code requestId}; tell the client if it asked there. */
  void onApplied(int node, long requestId, long index, long term, byte[] result) {
    for (Client c : clients) {
      if (c.busy && c.requestId == requestId && c.target == node) {
        Reply reply = new Reply(Reply.Outcome.APPLIED, c.index, requestId, node, 0, index, term,
            result);
        sim.schedule(new Event(sim.now() + options.clientLatencyNanos(),
            Event.Kind.CLIENT_REPLY, 0, 0, c.index, 0, reply));
      }
    }
  }

  void onReply(Reply reply) {
    Client c = clients[reply.client()];
    if (!c.busy || c.requestId != reply.requestId()) {
      return; // An answer to an operation that already timed out or completed.
    }
    long now = sim.now();
    if (reply.outcome() != Reply.Outcome.APPLIED) {
      // Nothing was appended: retrying the same operation elsewhere is safe.
      c.attempts++;
      int node = reply.node();
      boolean hinted = reply.leaderHint() != 0 && reply.leaderHint() != node;
      c.target = hinted ? (int) reply.leaderHint() : otherNode(node);
      long backoff = hinted ? 0 : Math.min(200_000_000L, 10_000_000L * c.attempts);
      sim.trace().record(now, Trace.Kind.CLIENT_REDIRECT, c.target, node, c.process,
          c.requestId, reply);
      sendRequest(c, now + backoff + options.clientLatencyNanos());
      return;
    }
    sim.oracles().onAcknowledged(reply.node(), reply.index(), reply.term());
    byte[] result = reply.result();
    int key = (int) c.key;
    switch (c.op) {
      case KvStateMachine.GET: {
        Long value = KvStateMachine.getResult(result);
        lastValue[key] = value;
        history.ok(c.process, c.f, Kv.pair(c.key, value), now);
        completedOk++;
        break;
      }
      case KvStateMachine.PUT:
        lastValue[key] = c.first;
        history.ok(c.process, c.f, c.invokeValue, now);
        completedOk++;
        break;
      case KvStateMachine.CAS:
        if (KvStateMachine.casApplied(result)) {
          lastValue[key] = c.second;
          history.ok(c.process, c.f, c.invokeValue, now);
          completedOk++;
        } else {
          history.fail(c.process, c.f, c.invokeValue, now);
          completedFail++;
        }
        break;
      default:
        throw new IllegalStateException("unknown op " + c.op);
    }
    sim.trace().record(now, Trace.Kind.CLIENT_COMPLETE, reply.node(), 0, c.process,
        c.requestId, reply);
    c.busy = false;
    if (c.invokedInLiveness && c.livenessLeft > 0) {
      c.livenessLeft--;
    }
    scheduleNext(c);
  }

  void onTimeout(int clientIndex, long requestId) {
    Client c = clients[clientIndex];
    if (!c.busy || c.requestId != requestId) {
      return;
    }
    long now = sim.now();
    history.info(c.process, c.f, c.invokeValue, now);
    completedInfo++;
    sim.trace().record(now, Trace.Kind.CLIENT_TIMEOUT, c.target, 0, c.process, requestId,
        c.invokeValue);
    // The outcome is unknown: this process is done; the client goes on as a new one.
    c.process = nextProcess++;
    c.target = otherNode(c.target);
    c.busy = false;
    scheduleNext(c);
  }

  private void scheduleNext(Client c) {
    if (liveness && c.livenessLeft == 0) {
      return;
    }
    c.nominalNext = Math.max(c.nominalNext + random.exponential(meanIntervalNanos), sim.now());
    sim.schedule(new Event(c.nominalNext, Event.Kind.CLIENT_NEXT, 0, 0, c.index, 0, null));
  }

  private int otherNode(int node) {
    if (size == 1) {
      return node;
    }
    int other = 1 + random.nextInt(size - 1);
    return other >= node ? other + 1 : other;
  }

  /** The faults are healed: each client must now complete a few new operations. */
  void startLiveness(int opsPerClient) {
    liveness = true;
    for (Client c : clients) {
      c.livenessLeft = opsPerClient;
    }
  }

  /** Whether every client finished its liveness operations and has nothing in flight. */
  boolean livenessDone() {
    for (Client c : clients) {
      if (c.busy || c.livenessLeft != 0) {
        return false;
      }
    }
    return true;
  }

  /** What the liveness phase still waits for, in words. */
  String pendingDescription() {
    StringBuilder out = new StringBuilder();
    for (Client c : clients) {
      if (c.busy || c.livenessLeft != 0) {
        out.append(" client").append(c.index).append("(p").append(c.process)
            .append(c.busy ? " waiting on n" + c.target + " for " + c.f + " since "
                + SimOptions.ms(c.invokedAt) + " after " + c.attempts + " retries" : " idle")
            .append(", ").append(c.livenessLeft).append(" ops to go)");
      }
    }
    return out.toString();
  }

  History history() {
    return history.build();
  }

  /** The request id framing a command: its first 8 bytes, big-endian. */
  static long requestIdOf(byte[] command) {
    return KvStateMachine.readLong(command, 0);
  }
}
