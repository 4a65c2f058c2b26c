package io.detraft.sim;

import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Kv;
import io.detraft.checker.Txn;
import io.detraft.core.SessionStateMachine;
import java.util.ArrayList;
import java.util.List;

/**
 * Key/value clients and list-append clients with Jepsen semantics, recording two histories:
 * single-key operations for the linearizability checker, transactions for the Elle-style
 * strict-serializability check. Each client has one operation in flight and sends each attempt
 * to one node.
 *
 * <p>Writes run in exactly-once sessions ({@link SessionStateMachine}): a client registers
 * with a group (the registration's result is its client id), numbers its commands, and when an
 * attempt times out it retries the <em>same</em> command (same client id and sequence) at
 * another node. The session layer applies it at most once and answers a retry with the
 * original result, so the operation completes once, as one operation in the history. Only a
 * session that expired makes the outcome unknown: the client records {@code info}, goes on as
 * a new process (a crashed Jepsen process never returns) and registers again.
 *
 * <p>Gets are linearizable reads through ReadIndex (on whichever node the client asks), or,
 * in some seeds, through the log outside any session. "Not leader", "node down", "refused"
 * (leadership transfer) and "lost" (the leader's entry was replaced) answers mean nothing was
 * applied, so the client retries elsewhere. Keys are partitioned over the groups.
 *
 * <p>A list-append client's transaction ({@link TxnGenerator}) is one command in its session,
 * exactly like a KV write: it applies once, as one log entry of one group, and its reads see the
 * state at that log position. A transaction never fails; one whose session expired ends {@code
 * info}.
 *
 * <p>Written values and appended elements are unique across the run, which lets the checkers
 * tell writes apart.
 */
final class Workload {
  /** How a request reaches the state machine. */
  enum Path {
    /** A command in the client's session, through the log; followers may forward it. */
    SESSION,
    /** A session registration; only a leader proposes it, matched by its log position. */
    REGISTER,
    /** A get through the log outside any session; only a leader proposes it. */
    LOG_GET,
    /** A get through ReadIndex, served from the asked node's state machine. */
    READ_INDEX
  }

  /**
   * One attempt of a client request on its way to a node.
   *
   * @param sentAt when the client sent it
   * @param ackedBefore the highest log index of its group acknowledged to any client before
   *     it was sent: a read it asks for must reflect at least that much (the read oracle)
   */
  record Request(int client, long attempt, int node, long group, Path path, byte[] command,
      long sentAt, long ackedBefore) {
    /** A read of the burst after a leader change: checked when served, never in a history. */
    boolean isProbe() {
      return client == PROBE;
    }
  }

  /** The client index of {@link #probeReads}' requests. */
  static final int PROBE = -1;

  /** A node's answer to an attempt. */
  record Reply(Outcome outcome, int client, long attempt, int node, long leaderHint,
      long index, long term, byte[] result) {
    enum Outcome { APPLIED, READ, NOT_LEADER, UNAVAILABLE, REJECTED, LOST }

    static Reply of(Outcome outcome, Request request, int node, long leaderHint) {
      return new Reply(outcome, request.client(), request.attempt(), node, leaderHint, 0, 0,
          null);
    }

    static Reply applied(Request request, int node, long index, long term, byte[] result) {
      return new Reply(Outcome.APPLIED, request.client(), request.attempt(), node, 0, index,
          term, result);
    }

    static Reply read(Request request, int node, byte[] result) {
      return new Reply(Outcome.READ, request.client(), request.attempt(), node, 0, 0, 0,
          result);
    }

    @Override
    public String toString() {
      return switch (outcome) {
        case APPLIED -> "applied at n" + node + " index " + index;
        case READ -> "read at n" + node;
        case NOT_LEADER -> "n" + node + " not leader, hint n" + leaderHint;
        case UNAVAILABLE -> "n" + node + " down";
        case REJECTED -> "n" + node + " refused (transfer)";
        case LOST -> "n" + node + " lost the entry";
      };
    }
  }

  private static final class Client {
    final int index;
    /** A list-append client (else a KV client). */
    final boolean transactional;
    final long meanIntervalNanos;
    long process;
    boolean busy;
    byte op;
    String f;
    Object invokeValue;
    long key;
    long group;
    Long first;
    Long second;
    /** A list-append client's current transaction. */
    List<ListTxn.MicroOp> txn;
    /** What the operation asks of the state machine, before any session envelope. */
    byte[] payload;
    Path path;
    /** The current request is the registration that must precede the operation. */
    boolean registering;
    byte[] command;
    /** Per group (index group - 1): the session's client id (0: none) and last sequence. */
    final long[] clientId;
    final long[] sequence;
    long attempt;
    int target;
    int attempts;
    boolean retriedAfterTimeout;
    long invokedAt;
    long nominalNext;
    /** New operations still to complete in the liveness phase; -1 before it. */
    int livenessLeft = -1;
    boolean invokedInLiveness;

    Client(int index, boolean transactional, long meanIntervalNanos, int groups) {
      this.index = index;
      this.transactional = transactional;
      this.meanIntervalNanos = meanIntervalNanos;
      this.clientId = new long[groups];
      this.sequence = new long[groups];
    }
  }

  private final Simulation sim;
  private final SimOptions.WorkloadOptions options;
  private final SimRandom random;
  private final int size;
  private final int groups;
  private final Client[] clients;
  private final TxnGenerator txns;
  private final HistoryBuilder history = new HistoryBuilder();
  private final HistoryBuilder txnHistory = new HistoryBuilder();
  /** The last value each key was seen to hold (cas expectations); index = key. */
  private final Long[] lastValue;
  /**
   * With quiescence on: stretches of the safety phase, as {start, end} pairs, in which no
   * client starts an operation, long enough for every idle group to go quiet; the next
   * requests must wake them.
   */
  private final long[] lulls;
  /** Per group - 1: the node last elected leader (0: none yet). */
  private final int[] lastLeader;
  private long nextProcess;
  private long nextAttempt = 1;
  private long nextValue = 1;
  private boolean liveness;
  long invoked;
  long completedOk;
  long completedFail;
  long completedInfo;
  long txnsInvoked;
  long txnsOk;
  long txnsInfo;

  /** {@code txns} draws the transactions, from a generator of its own. */
  Workload(Simulation sim, SimOptions options, SimRandom random, SimRandom txns) {
    this.sim = sim;
    this.options = options.workload();
    this.random = random;
    this.size = options.cluster().size();
    this.groups = options.cluster().groups();
    SimOptions.ListAppendOptions listAppend = options.listAppend();
    this.txns = new TxnGenerator(listAppend, groups, txns);
    this.lastValue = new Long[this.options.keys() * groups];
    this.lastLeader = new int[groups];
    this.lulls = options.cluster().quiesceTicks() > 0 ? lulls(options, random.fork(11))
        : new long[0];
    if (lastValue.length > TxnGenerator.FIRST_KEY) {
      throw new IllegalArgumentException("KV keys reach into the list keys");
    }
    int kvClients = this.options.clients();
    this.clients = new Client[kvClients + listAppend.clients()];
    long kvInterval = (long) (kvClients * 1e9 / this.options.opsPerSecond());
    long txnInterval = (long) (listAppend.clients() * 1e9 / listAppend.txnsPerSecond());
    for (int i = 0; i < clients.length; i++) {
      boolean transactional = i >= kvClients;
      clients[i] = new Client(i, transactional, transactional ? txnInterval : kvInterval,
          groups);
    }
  }

  private static long[] lulls(SimOptions options, SimRandom random) {
    SimOptions.ClusterOptions c = options.cluster();
    // Room for the group to go quiet (the threshold, and an election timeout more for the
    // leader), then for a woken follower to elect a leader and for reads to follow.
    long quiet = (c.quiesceTicks() + 8L * c.electionTicks()) * c.tickNanos();
    List<Long> bounds = new ArrayList<>();
    long t = random.exponential(SimOptions.SECOND);
    while (t < options.phases().safetyNanos()) {
      long end = t + quiet + random.between(0, quiet / 4);
      bounds.add(t);
      bounds.add(end);
      t = end + random.exponential(SimOptions.SECOND);
    }
    return bounds.stream().mapToLong(Long::longValue).toArray();
  }

  /** The lulls, as {start, end} pairs (none without quiescence). */
  long[] lulls() {
    return lulls.clone();
  }

  /** When the groups are quiet in the lull starting at {@code start}. */
  long quietAt(long start) {
    SimOptions.ClusterOptions c = sim.options().cluster();
    return start + (c.quiesceTicks() + 3L * c.electionTicks() / 2) * c.tickNanos();
  }

  /** {@code time}, or just after the lull it falls in. */
  private long afterLulls(long time) {
    for (int i = 0; i < lulls.length; i += 2) {
      if (time >= lulls[i] && time < lulls[i + 1]) {
        return lulls[i + 1] + random.between(0, 20 * SimOptions.MS);
      }
    }
    return time;
  }

  void start() {
    SimOptions.ClusterOptions cluster = sim.options().cluster();
    for (int i = 0; i < lulls.length; i += 2) {
      // One read in each lull once the groups are quiet, to a random node: it wakes a quiet
      // group from a follower as often as from its leader (and, should the leader be cut off,
      // starts an election).
      long at = quietAt(lulls[i]) + 50 * SimOptions.MS;
      long group = 1 + random.nextInt(groups);
      byte[] get = KvStateMachine.command(KvStateMachine.GET, group - 1, null, null);
      int node = 1 + random.nextInt(cluster.size());
      sim.schedule(new Event(at, Event.Kind.CLIENT_REQUEST, node, 0, 0, 0,
          new Request(PROBE, nextAttempt++, node, group, Path.READ_INDEX, get, at, 0)));
    }
    for (Client c : clients) {
      c.process = nextProcess++;
      c.target = 1 + c.index % size;
      c.nominalNext = afterLulls(sim.now() + random.exponential(c.meanIntervalNanos));
      sim.schedule(new Event(c.nominalNext, Event.Kind.CLIENT_NEXT, 0, 0, c.index, 0, null));
    }
  }

  /** A client starts its next operation. */
  void onNext(int clientIndex) {
    Client c = clients[clientIndex];
    if (c.busy || (liveness && c.livenessLeft == 0)) {
      return;
    }
    long now = sim.now();
    if (c.transactional) {
      drawTxn(c);
    } else {
      drawKv(c);
    }
    c.busy = true;
    c.attempts = 0;
    c.retriedAfterTimeout = false;
    c.invokedAt = now;
    c.invokedInLiveness = liveness;
    if (c.transactional) {
      txnsInvoked++;
    } else {
      invoked++;
    }
    history(c).invoke(c.process, c.f, c.invokeValue, now);
    sim.trace().record(now, Trace.Kind.CLIENT_INVOKE, c.target, 0, c.process, c.key,
        c.invokeValue);
    begin(c);
  }

  private void drawTxn(Client c) {
    TxnGenerator.Drawn drawn = txns.next();
    c.op = KvStateMachine.TXN;
    c.f = Txn.F;
    c.txn = drawn.ops();
    c.key = drawn.ops().get(0).key();
    c.group = drawn.group();
    c.invokeValue = TxnGenerator.invokeValue(drawn.ops());
    c.payload = ListTxn.encode(drawn.ops());
    c.path = Path.SESSION;
  }

  private void drawKv(Client c) {
    c.key = random.nextLong(lastValue.length);
    c.group = 1 + c.key % groups;
    int roll = random.nextInt(options.getWeight() + options.putWeight() + options.casWeight());
    if (roll < options.getWeight()) {
      c.op = KvStateMachine.GET;
      c.f = Kv.GET;
      c.first = null;
      c.second = null;
      c.invokeValue = Kv.pair(c.key, null);
      c.path = random.chance(options.logGetFraction()) ? Path.LOG_GET : Path.READ_INDEX;
    } else if (roll < options.getWeight() + options.putWeight()) {
      c.op = KvStateMachine.PUT;
      c.f = Kv.PUT;
      c.first = nextValue++;
      c.second = null;
      c.invokeValue = Kv.pair(c.key, c.first);
      c.path = Path.SESSION;
    } else {
      c.op = KvStateMachine.CAS;
      c.f = Kv.CAS;
      c.first = lastValue[(int) c.key];
      c.second = nextValue++;
      c.invokeValue = Kv.casValue(c.key, c.first, c.second);
      c.path = Path.SESSION;
    }
    c.payload = KvStateMachine.command(c.op, c.key, c.first, c.second);
  }

  private HistoryBuilder history(Client c) {
    return c.transactional ? txnHistory : history;
  }

  /** Prepares the operation's command (registering first if it needs a session) and sends it. */
  private void begin(Client c) {
    int g = (int) c.group - 1;
    c.registering = c.path == Path.SESSION && c.clientId[g] == 0;
    if (c.registering) {
      c.command = SessionStateMachine.register();
    } else if (c.path == Path.SESSION) {
      c.command = SessionStateMachine.command(c.clientId[g], ++c.sequence[g], c.payload);
    } else if (c.path == Path.LOG_GET) {
      c.command = SessionStateMachine.unsessioned(c.payload);
    } else {
      c.command = c.payload; // ReadIndex: the node runs the get against its own state machine.
    }
    send(c, 0);
  }

  /** Sends a new attempt of the client's current request, with a timeout of its own. */
  private void send(Client c, long delay) {
    c.attempt = nextAttempt++;
    Path path = c.registering ? Path.REGISTER : c.path;
    long now = sim.now();
    Request request = new Request(c.index, c.attempt, c.target, c.group, path, c.command,
        now + delay, sim.acknowledgedIndex(c.group));
    sim.schedule(new Event(now + delay + options.clientLatencyNanos(), Event.Kind.CLIENT_REQUEST,
        c.target, 0, 0, 0, request));
    sim.schedule(new Event(now + delay + options.timeoutNanos(), Event.Kind.CLIENT_TIMEOUT, 0,
        0, c.index, c.attempt, null));
  }

  /** A node answers an attempt; the answer reaches the client later. */
  void reply(Request request, Reply reply) {
    sim.schedule(new Event(sim.now() + options.clientLatencyNanos(), Event.Kind.CLIENT_REPLY, 0,
        0, request.client(), 0, reply));
  }

  /**
   * Node {@code node} applied the session command ({@code clientId}, {@code sequence}) of
   * {@code group}; the client waiting for it there gets the result.
   */
  void onSessionApplied(int node, long group, long clientId, long sequence, long index,
      long term, byte[] result) {
    for (Client c : clients) {
      int g = (int) group - 1;
      if (c.busy && !c.registering && c.path == Path.SESSION && c.group == group
          && c.clientId[g] == clientId && c.sequence[g] == sequence && c.target == node) {
        sim.schedule(new Event(sim.now() + options.clientLatencyNanos(),
            Event.Kind.CLIENT_REPLY, 0, 0, c.index, 0, new Reply(Reply.Outcome.APPLIED,
                c.index, c.attempt, node, 0, index, term, result)));
      }
    }
  }

  /**
   * Right after a leader change, a burst of ReadIndex gets of one key to every node of the
   * group, the deposed leader included: the moment a read path that skips its quorum round, or
   * trusts an expired lease, answers from an old state. They bypass the clients (no history,
   * no retries); the read oracle checks each one as it is served.
   */
  void onLeaderChange(long group, int leader) {
    int previous = lastLeader[(int) group - 1];
    lastLeader[(int) group - 1] = leader;
    if (sim.nemesis().isActive()) {
      probeReads(group, previous, PROBES_PER_LEADER_CHANGE);
    }
  }

  /** Reads in a burst after a leader change, spread over about two election timeouts. */
  static final int PROBES_PER_LEADER_CHANGE = 8;

  /**
   * Sends {@code count} reads of the group's first key, half of them to the {@code previous}
   * leader (0: none), which may not know yet that it was deposed: the node a stale ReadIndex
   * or an outlived lease would answer from.
   */
  private void probeReads(long group, int previous, int count) {
    long key = group - 1; // keys are spread over the groups by key % groups
    byte[] get = KvStateMachine.command(KvStateMachine.GET, key, null, null);
    long now = sim.now();
    SimOptions.ClusterOptions cluster = sim.options().cluster();
    long spreadNanos = 2L * cluster.electionTicks() * cluster.tickNanos();
    for (int i = 0; i < count; i++) {
      int node = previous != 0 && i % 2 == 0 ? previous : 1 + random.nextInt(cluster.size());
      long at = now + random.between(0, spreadNanos);
      Request request = new Request(PROBE, nextAttempt++, node, group, Path.READ_INDEX, get,
          at, sim.acknowledgedIndex(group));
      sim.schedule(new Event(at + options.clientLatencyNanos(), Event.Kind.CLIENT_REQUEST, node,
          0, 0, 0, request));
    }
  }

  void onReply(Reply reply) {
    if (reply.client() == PROBE) {
      return;
    }
    Client c = clients[reply.client()];
    if (!c.busy || c.attempt != reply.attempt()) {
      return; // An answer to an attempt that timed out, or an operation that completed.
    }
    long now = sim.now();
    switch (reply.outcome()) {
      case NOT_LEADER, UNAVAILABLE, REJECTED, LOST -> {
        // Nothing was applied: retrying the same request elsewhere is safe.
        if (reply.outcome() == Reply.Outcome.REJECTED) {
          sim.marks().hit(SimMark.CLIENT_REJECTED_RETRIED);
        } else if (reply.outcome() == Reply.Outcome.LOST) {
          sim.marks().hit(SimMark.PROPOSAL_LOST);
        }
        c.attempts++;
        int node = reply.node();
        boolean hinted = reply.leaderHint() != 0 && reply.leaderHint() != node;
        c.target = hinted ? (int) reply.leaderHint() : otherNode(node);
        long backoff = hinted ? 0 : Math.min(200_000_000L, 10_000_000L * c.attempts);
        sim.trace().record(now, Trace.Kind.CLIENT_REDIRECT, c.target, node, c.process,
            c.attempt, reply);
        send(c, backoff);
      }
      case READ -> completeRead(c, reply.result(), reply);
      case APPLIED -> onApplied(c, reply);
    }
  }

  private void onApplied(Client c, Reply reply) {
    sim.oracles(c.group).onAcknowledged(reply.node(), reply.index(), reply.term());
    SessionStateMachine.Result result = SessionStateMachine.decodeResult(reply.result());
    int g = (int) c.group - 1;
    if (result.status() == SessionStateMachine.Status.SESSION_EXPIRED && !c.registering
        && c.path == Path.SESSION) {
      // The session expired: the command may have applied before; nobody can tell now.
      sim.marks().hit(SimMark.CLIENT_SESSION_EXPIRED);
      c.clientId[g] = 0;
      complete(c, Completion.INFO, null, reply);
      return;
    }
    if (result.status() != SessionStateMachine.Status.OK) {
      throw new SimulationFailure("session", "client " + c.index + " got " + result.status()
          + " for its " + (c.registering ? "registration" : c.f) + " in group " + c.group
          + " (client id " + c.clientId[g] + ", sequence " + c.sequence[g] + "): " + reply);
    }
    if (c.registering) {
      c.clientId[g] = SessionStateMachine.clientIdOf(result);
      c.sequence[g] = 0;
      sim.trace().record(sim.now(), Trace.Kind.CLIENT_REDIRECT, c.target, reply.node(),
          c.process, c.attempt, "registered client id " + c.clientId[g]);
      begin(c);
      return;
    }
    byte[] payload = result.payload();
    if (c.op == KvStateMachine.GET || c.op == KvStateMachine.TXN) {
      completeRead(c, payload, reply);
    } else {
      boolean applied = c.op != KvStateMachine.CAS || KvStateMachine.casApplied(payload);
      if (applied) {
        lastValue[(int) c.key] = c.op == KvStateMachine.PUT ? c.first : c.second;
      }
      complete(c, applied ? Completion.OK : Completion.FAIL, c.invokeValue, reply);
    }
  }

  /** A get or a transaction returned {@code result}: the history records what it read. */
  private void completeRead(Client c, byte[] result, Reply reply) {
    if (c.op == KvStateMachine.TXN) {
      complete(c, Completion.OK, TxnGenerator.okValue(c.txn, ListTxn.decodeResult(result)),
          reply);
      return;
    }
    Long value = KvStateMachine.getResult(result);
    lastValue[(int) c.key] = value;
    complete(c, Completion.OK, Kv.pair(c.key, value), reply);
  }

  /** How an operation ended, in Jepsen's terms. */
  private enum Completion { OK, FAIL, INFO }

  /** Records the end of the client's operation; {@code okValue} is what an ok records. */
  private void complete(Client c, Completion completion, Object okValue, Reply reply) {
    long now = sim.now();
    switch (completion) {
      case INFO -> {
        history(c).info(c.process, c.f, c.invokeValue, now);
        if (c.transactional) {
          txnsInfo++;
        } else {
          completedInfo++;
        }
        c.process = nextProcess++; // Its operation stays open forever: a new process goes on.
      }
      case FAIL -> {
        // Only a cas fails: a transaction always applies.
        history.fail(c.process, c.f, c.invokeValue, now);
        completedFail++;
      }
      case OK -> {
        history(c).ok(c.process, c.f, okValue, now);
        if (c.transactional) {
          txnsOk++;
        } else {
          completedOk++;
        }
        if (c.retriedAfterTimeout && c.path == Path.SESSION) {
          sim.marks().hit(SimMark.RETRIED_COMMAND_COMPLETED);
        }
      }
    }
    sim.trace().record(now, Trace.Kind.CLIENT_COMPLETE, reply.node(), 0, c.process,
        c.attempt, reply);
    c.busy = false;
    if (c.invokedInLiveness && c.livenessLeft > 0) {
      c.livenessLeft--;
    }
    scheduleNext(c);
  }

  /** An attempt timed out: its outcome is unknown, so the client sends the same request again. */
  void onTimeout(int clientIndex, long attempt) {
    Client c = clients[clientIndex];
    if (!c.busy || c.attempt != attempt) {
      return;
    }
    sim.trace().record(sim.now(), Trace.Kind.CLIENT_TIMEOUT, c.target, 0, c.process, attempt,
        c.invokeValue);
    c.retriedAfterTimeout |= !c.registering;
    c.attempts++;
    c.target = otherNode(c.target);
    send(c, 0);
  }

  private void scheduleNext(Client c) {
    if (liveness && c.livenessLeft == 0) {
      return;
    }
    c.nominalNext = Math.max(c.nominalNext + random.exponential(c.meanIntervalNanos),
        sim.now());
    if (!liveness) {
      c.nominalNext = afterLulls(c.nominalNext);
    }
    sim.schedule(new Event(c.nominalNext, Event.Kind.CLIENT_NEXT, 0, 0, c.index, 0, null));
  }

  private int otherNode(int node) {
    if (size == 1) {
      return node;
    }
    int other = 1 + random.nextInt(size - 1);
    return other >= node ? other + 1 : other;
  }

  /**
   * The faults are healed (or, in a later round, the group was rebuilt after a disaster): each
   * client must now complete a few new operations.
   */
  void startLiveness(int opsPerClient) {
    boolean again = liveness; // the clients stopped after the last round: start them
    liveness = true;
    for (Client c : clients) {
      c.livenessLeft = opsPerClient;
      if (again && !c.busy) {
        c.nominalNext = Math.max(c.nominalNext, sim.now());
        sim.schedule(new Event(c.nominalNext, Event.Kind.CLIENT_NEXT, 0, 0, c.index, 0, null));
      }
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
            .append(c.busy ? " waiting on n" + c.target + " for " + c.f + " ("
                + (c.registering ? "registering" : c.path) + ") in group " + c.group
                + " since " + SimOptions.ms(c.invokedAt) + " after " + c.attempts + " retries"
                : " idle")
            .append(", ").append(c.livenessLeft).append(" ops to go)");
      }
    }
    return out.toString();
  }

  /** The KV clients' history, for the linearizability checker. */
  History history() {
    return history.build();
  }

  /** The list-append clients' history, for the strict-serializability check. */
  History txnHistory() {
    return txnHistory.build();
  }
}
