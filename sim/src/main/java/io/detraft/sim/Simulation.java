package io.detraft.sim;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.LinearizabilityChecker;
import io.detraft.checker.Verdict;
import io.detraft.core.Config;
import io.detraft.core.PlantedBug;
import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.Snapshot;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * One deterministic run: a single thread, a virtual clock, one seeded generator tree and an
 * agenda of events ordered by (time, sequence). Nothing reads the wall clock, starts a thread
 * or iterates a hash map where the order could reach the trace, so a seed always replays the
 * same run and ends with the same {@link Trace#fingerprint()}.
 *
 * <p>A run has two phases. In the <b>safety phase</b> the nemesis injects faults while the
 * oracles check Raft's safety properties at every step. Then every fault is healed and the
 * <b>liveness phase</b> begins: within a bound, a leader must emerge, every client operation
 * in flight must resolve, each client must complete a few new operations, and every node must
 * catch up with every acknowledged write. Finally the KV clients' history must be
 * linearizable and the list-append clients' transactions strictly serializable.
 *
 * <p>Every node runs a replica of every Raft group (through one {@code RaftHost}); each group
 * starts with its own voters, and the other nodes are spares the membership nemesis may add.
 * Oracles watch each group on its own; keys are partitioned over the groups, so the KV history
 * decomposes into independent per-key (hence per-group) histories; a transaction's keys all
 * belong to one group.
 */
public final class Simulation {
  /** How often the liveness goal is checked once faults are healed. */
  private static final long LIVENESS_CHECK_NANOS = 50_000_000L;
  /**
   * A runaway guard: the busiest of 1,600 seeds (with and without every nemesis) took 234,000
   * events, so twenty times that is a message storm, failed with its trace in seconds instead
   * of a sweep that hangs (as one did when duplicated snapshot answers multiplied chunks).
   */
  private static final long MAX_EVENTS = 5_000_000L;
  /** How many of the last events a failing run shows by default. */
  static final int TRACE_SHOWN = 50;

  private final SimOptions options;
  private final SimHooks hooks;
  private final boolean earlySend;
  private final Trace trace;
  private final int traceShown;
  private final EventQueue queue = new EventQueue();
  private final SimNode[] nodes;
  private final SimNetwork network;
  /** Oracles by group - 1. */
  private final Oracles[] oracles;
  private final Marks marks = new Marks();
  private final Workload workload;
  private final Nemesis nemesis;
  private long now;
  private long events;
  private long livenessDeadline = Long.MAX_VALUE;
  /** By group - 1: the highest term of its replicas when the faults were healed. */
  private long[] healedTerms;
  /** By group - 1: the terms it went through since the heal, at each liveness check. */
  private long[][] termsAtChecks;
  private int checks;
  /** The most terms any group went through since the heal, as the liveness checks saw it. */
  private long termsSinceHeal;
  private boolean finished;
  /** Whether the disaster ({@link SimOptions#disasterRecovery}) struck and the group was rebuilt. */
  private boolean disasterDone;

  public Simulation(SimOptions options) {
    this(options, SimHooks.defaults());
  }

  public Simulation(SimOptions options, SimHooks hooks) {
    this(options, hooks, TRACE_SHOWN);
  }

  /** A run whose failure report shows the last {@code traceShown} events. */
  public Simulation(SimOptions options, SimHooks hooks, int traceShown) {
    this.options = options;
    this.hooks = hooks;
    this.traceShown = traceShown;
    this.trace = new Trace(traceShown + 14);
    this.earlySend = hooks.earlySend() != SimHooks.NEVER;
    // The run's generators are forked from the seed on streams apart from SimOptions.derive's.
    SimRandom root = new SimRandom(options.seed()).fork(1000);
    SimOptions.ClusterOptions c = options.cluster();
    int size = c.size();
    int groups = c.groups();
    this.oracles = new Oracles[groups];
    Membership[] initial = new Membership[groups];
    for (int g = 1; g <= groups; g++) {
      // Group g starts with voters g, g+1, ... (wrapping): the groups' leaders spread out.
      long[] voters = new long[c.voters()];
      for (int i = 0; i < voters.length; i++) {
        voters[i] = 1 + (g - 1 + i) % size;
      }
      // With a witness, the group's last voter keeps only metadata and never leads.
      long[] witnesses = options.protocol().witness() && voters.length >= 3
          ? new long[] {voters[voters.length - 1]} : new long[0];
      initial[g - 1] = new Membership(voters, new long[0], witnesses);
      oracles[g - 1] = new Oracles(groups > 1 ? "group " + g + ": " : "", size, initial[g - 1],
          hooks.promiseOracles(),
          hooks.stateMachineFactory().apply(0), options.workload().sessionTimeoutEntries(),
          hooks.sessionsInStateMachine(), marks);
    }
    this.nodes = new SimNode[size + 1];
    // Drawn from a generator of its own, so that every other draw of the seed stays as it was.
    int corruptedNode = options.corruptsStorage()
        ? 1 + new SimRandom(options.seed()).fork(15).nextInt(size) : 0;
    for (int id = 1; id <= size; id++) {
      SimRandom nodeRandom = root.fork(100 + id);
      double drift = nodeRandom.uniform(-c.driftMax(), c.driftMax());
      long tickNanos = Math.max(1, Math.round(c.tickNanos() * (1 + drift)));
      Config config = Config.defaults(id)
          .withTimeouts(c.electionTicks(), c.heartbeatTicks())
          .withPreVote(c.preVote())
          .withCheckQuorum(c.checkQuorum())
          .withForwardProposals(c.forwardProposals())
          .withFlowControl(c.maxAppendBytes(), c.maxInflightAppends())
          .withSnapshotChunkBytes(c.snapshotChunkBytes())
          .withLeaseReads(c.leaseReads(), c.leaseMarginTicks())
          .withQuiesce(c.quiesceTicks());
      for (PlantedBug bug : hooks.coreBugs()) {
        config = config.withPlantedBug(bug);
      }
      Replica[] replicas = new Replica[groups];
      for (int g = 1; g <= groups; g++) {
        replicas[g - 1] = new Replica(id, g, this, config.withGroup(g), initial[g - 1],
            oracles[g - 1]);
      }
      SimDisk disk = hooks.diskFactory().create(id, options.disk(), root.fork(200 + id));
      disk.directorySyncLies = hooks.has(SimHooks.NodeBug.SKIP_DIRECTORY_SYNC);
      disk.syncBeforeRenameLies = hooks.has(SimHooks.NodeBug.SKIP_FSYNC_BEFORE_RENAME);
      if (id == corruptedNode) {
        disk.corrupts(new SimRandom(options.seed()).fork(16));
      }
      nodes[id] = new SimNode(id, this, replicas, disk, nodeRandom, tickNanos);
    }
    this.network = new SimNetwork(this, options.network(), size, root.fork(10));
    this.workload = new Workload(this, options, root.fork(11), root.fork(13));
    this.nemesis = new Nemesis(this, options, root.fork(12));
  }

  /**
   * Hands every trace event of the run to {@code sink} too (the HTML report); call before
   * {@link #run()}. Only observes: the run and its fingerprint are the same with or without.
   */
  public Simulation recordTo(TraceSink sink) {
    trace.sink(sink);
    return this;
  }

  /**
   * The clients' histories as recorded (key/value operations, then list-append
   * transactions), for the HTML report; complete once {@link #run()} returned.
   */
  public java.util.List<io.detraft.checker.History> clientHistories() {
    return java.util.List.of(workload.history(), workload.txnHistory());
  }

  /** Runs the simulation to its end and reports; never throws for a failing run. */
  public SimResult run() {
    String failure = null;
    String oracle = null;
    String checker = "";
    SimResult.Verdict verdict = SimResult.Verdict.PASS;
    try {
      for (int id = 1; id < nodes.length; id++) {
        nodes[id].boot();
      }
      workload.start();
      nemesis.start();
      schedule(new Event(options.phases().safetyNanos(), Event.Kind.HEAL_ALL, 0, 0, 0, 0, null));
      loop();
      checkFinalState();
      LinearizabilityChecker.Result result = LinearizabilityChecker.check(workload.history(),
          LinearizabilityChecker.Options.defaults());
      checker = result.verdict() + " (" + result.steps() + " steps)";
      if (result.verdict() == Verdict.INVALID) {
        throw new SimulationFailure("linearizability", result.explanation());
      }
      // Each transaction applies as one log entry, in log order, so the transactions must look
      // as if run one at a time in an order that respects real time: strict serializability.
      ElleResult txns = ElleChecker.checkListAppend(workload.txnHistory(),
          ConsistencyModel.STRICT_SERIALIZABLE);
      checker += ", list-append " + txns.verdict() + " (" + txns.transactions() + " txns)";
      if (txns.verdict() == Verdict.INVALID) {
        throw new SimulationFailure("strict-serializability", txns.explanation());
      }
      if (result.verdict() == Verdict.UNKNOWN) {
        verdict = SimResult.Verdict.UNKNOWN;
        failure = "linearizability check gave up: " + result.explanation();
      } else if (txns.verdict() == Verdict.UNKNOWN) {
        verdict = SimResult.Verdict.UNKNOWN;
        failure = "list-append check gave up: " + txns.explanation();
      }
    } catch (SimulationFailure e) {
      verdict = SimResult.Verdict.FAIL;
      oracle = e.oracle();
      failure = e.getMessage();
    } catch (RuntimeException | AssertionError | StackOverflowError e) {
      // A failure either way, named by where it was thrown: the core's own invariant checks,
      // the deployed code (node layer, state machine), or the simulator itself, whose crash
      // is a bug of the harness and never a verdict on the code under test.
      verdict = SimResult.Verdict.FAIL;
      oracle = exceptionOrigin(e);
      failure = e + "\n" + stackTop(e);
    }
    String tail = verdict == SimResult.Verdict.FAIL ? trace.tail(traceShown) : "";
    long maxCommitted = 0;
    for (Oracles o : oracles) {
      maxCommitted = Math.max(maxCommitted, o.maxCommittedIndex());
    }
    for (int id = 1; id < nodes.length; id++) {
      if (nodes[id].isUp()) {
        nodes[id].retireReplicas();
      }
    }
    SimResult.Stats stats = new SimResult.Stats(events, network.sent(), network.dropped(),
        workload.invoked, workload.completedOk, workload.completedFail, workload.completedInfo,
        workload.txnsInvoked, workload.txnsOk, workload.txnsInfo, nemesis.crashes, nemesis.pauses,
        nemesis.partitions, maxCommitted, checker);
    return new SimResult(options, verdict, oracle, failure, trace.fingerprint(), now, tail,
        stats, marks);
  }

  /**
   * After the liveness phase: every member of each group holds every acknowledged write, and
   * every node's state machine equals the reference state at its applied index.
   */
  private void checkFinalState() {
    for (int g = 1; g <= oracles.length; g++) {
      int leader = leaderOf(g);
      for (long member : nodes[leader].replica(g).membership().members()) {
        // Not a node down for good on a damaged disk, nor a witness (no payloads to compare).
        if (!nodes[(int) member].refused() && !nodes[(int) member].replica(g).isWitness()) {
          oracles[g - 1].checkHoldsAcknowledged((int) member, nodes[(int) member].replica(g));
        }
      }
    }
    for (int id = 1; id < nodes.length; id++) {
      for (int g = 1; g <= oracles.length; g++) {
        nodes[id].replica(g).checkFinalState();
      }
    }
  }

  /** A failure raised inside a request's completion, rethrown after the current event. */
  private RuntimeException deferred;

  private void loop() {
    while (!finished) {
      Event event = queue.poll();
      if (event == null) {
        throw new SimulationFailure("liveness", "nothing left to do at "
            + SimOptions.ms(now) + " (the agenda is empty)");
      }
      if (event.time > livenessDeadline) {
        now = livenessDeadline;
        throw new SimulationFailure("liveness", livenessReport());
      }
      now = event.time;
      if (++events > MAX_EVENTS) {
        throw new SimulationFailure("runaway", "more than " + MAX_EVENTS + " events by "
            + SimOptions.ms(now) + ": messages or timers multiply (see the last events)");
      }
      dispatch(event);
      if (deferred != null) {
        throw deferred;
      }
    }
  }

  /**
   * Runs {@code action} when {@code outcome} completes (on the node's loop, synchronously). A
   * failure it throws (an oracle's) would otherwise end up inside the future, unseen: it is
   * kept and rethrown once the current event is handled.
   */
  <T> void whenDone(CompletableFuture<T> outcome, BiConsumer<T, Throwable> action) {
    outcome.whenComplete((value, error) -> {
      try {
        action.accept(value, error);
      } catch (RuntimeException e) {
        if (deferred == null) {
          deferred = e;
        }
      }
    });
  }

  private void dispatch(Event event) {
    switch (event.kind) {
      case TICK -> nodes[event.node].onTick(event.first);
      case DELIVER -> network.deliver(event);
      case HANDSHAKE -> network.connections().onHandshake(event);
      case HANDSHAKE_TIMEOUT -> network.connections().onTimeout(event);
      case SYNC_DONE -> nodes[event.node].onSyncDone(event.first);
      case CLIENT_REQUEST -> nodes[event.node].onClientRequest((Workload.Request) event.payload);
      case CLIENT_REPLY -> workload.onReply((Workload.Reply) event.payload);
      case CLIENT_NEXT -> workload.onNext((int) event.first);
      case CLIENT_TIMEOUT -> workload.onTimeout((int) event.first, event.second);
      case NEMESIS -> nemesis.act(event);
      case HEAL_ALL -> startLiveness();
      case LIVENESS_CHECK -> checkLiveness();
    }
  }

  private void startLiveness() {
    trace.record(now, Trace.Kind.PHASE, 0, 0, 1, 0, "liveness: faults healed, all nodes up");
    nemesis.healAll();
    startLivenessRound();
  }

  /** A liveness round: within the bound, clients finish new work and the replicas catch up. */
  private void startLivenessRound() {
    livenessDeadline = now + options.phases().livenessBoundNanos();
    checks = 0;
    healedTerms = new long[oracles.length];
    termsAtChecks = new long[oracles.length]
        [(int) (options.phases().livenessBoundNanos() / LIVENESS_CHECK_NANOS) + 2];
    for (int g = 1; g <= oracles.length; g++) {
      healedTerms[g - 1] = highestTerm(g);
    }
    workload.startLiveness(options.phases().livenessOpsPerClient());
    schedule(new Event(now + LIVENESS_CHECK_NANOS, Event.Kind.LIVENESS_CHECK, 0, 0, 0, 0, null));
  }

  private void checkLiveness() {
    checkElectionStorm();
    boolean done = workload.livenessDone();
    for (int g = 1; done && g <= oracles.length; g++) {
      done = stableLeader(g) != 0 && allCaughtUp(g);
    }
    if (done && options.disasterRecovery() && !disasterDone) {
      if (disaster()) {
        disasterDone = true;
        return; // a new liveness round checks from here
      }
      done = false; // the group is not at rest yet: the next check tries again
    }
    if (done) {
      finished = true;
      return;
    }
    schedule(new Event(now + LIVENESS_CHECK_NANOS, Event.Kind.LIVENESS_CHECK, 0, 0, 0, 0, null));
  }

  /**
   * Disaster recovery, as an operator runs it (kv-app's {@code detraft snapshot export} and
   * {@code import}): once the group is at rest (no client work in flight, every replica holding
   * and having applied exactly what the leader committed), the leader's snapshot is exported
   * through the node's code; then a majority of the nodes lose their disks for good, and every
   * node, survivors and blank ones alike, imports the export and starts again. At rest, the
   * export holds every committed entry, so nothing acknowledged is lost and the oracles need no
   * new epoch; the import's term lies above every term the group used, so no term is reused. A
   * second liveness round follows: the rebuilt group must elect and serve new work.
   */
  private boolean disaster() {
    int leader = stableLeader(1);
    long at = nodes[leader].replica(1).appliedIndex();
    long highestTerm = 0;
    for (int id = 1; id < nodes.length; id++) {
      Replica r = nodes[id].replica(1);
      if (!nodes[id].isUp() || r.lastIndex() != at || r.appliedIndex() != at) {
        return false;
      }
      highestTerm = Math.max(highestTerm, r.term());
    }
    Snapshot exported = nodes[leader].exportSnapshot(1);
    if (exported == null) {
      return false;
    }
    if (exported.index() != at) {
      throw new SimulationFailure("disaster", "n" + leader + " exported a snapshot at "
          + exported.index() + ", but the group is at rest at " + at);
    }
    int n = nodes.length - 1;
    List<Integer> lost = new ArrayList<>();
    for (int id = 1; id < nodes.length; id++) {
      lost.add(id);
    }
    SimRandom pick = new SimRandom(options.seed()).fork(19);
    while (lost.size() > n / 2 + 1) {
      lost.remove(pick.nextInt(lost.size()));
    }
    trace.record(now, Trace.Kind.PHASE, 0, 0, 2, 0, "disaster: n" + leader + " exported "
        + exported + "; disks of " + lost + " lost for good; every node imports it");
    for (int id = 1; id < nodes.length; id++) {
      nodes[id].rebuildFrom(1, exported, lost.contains(id), highestTerm);
    }
    marks.hit(SimMark.DISASTER_RECOVERED);
    startLivenessRound();
    return true;
  }

  /** The live node that leads {@code group} in the highest term, or 0. */
  /** The highest index of {@code group} acknowledged to a client so far. */
  long acknowledgedIndex(long group) {
    return oracles[(int) group - 1].maxAcknowledgedIndex();
  }

  int leaderOf(long group) {
    int leader = 0;
    long term = -1;
    for (int id = 1; id < nodes.length; id++) {
      Replica r = nodes[id].replica(group);
      if (nodes[id].isUp() && r.isRunning() && r.role() == Role.LEADER && r.term() > term) {
        term = r.term();
        leader = id;
      }
    }
    return leader;
  }

  /**
   * The leader of {@code group} if no voter (of the committed membership or of the leader's)
   * is in a higher term, else 0. A removed node that campaigns alone, in terms nobody adopts,
   * does not count: it must not disrupt, and it does not.
   */
  private int stableLeader(long group) {
    int leader = leaderOf(group);
    if (leader == 0) {
      return 0;
    }
    Replica lead = nodes[leader].replica(group);
    Membership committed = oracles[(int) group - 1].committedMembership();
    for (int id = 1; id < nodes.length; id++) {
      Replica r = nodes[id].replica(group);
      if ((committed.isVoter(id) || lead.membership().isVoter(id)) && r.term() > lead.term()) {
        return 0;
      }
    }
    return leader;
  }

  /** Whether every member of {@code group}, as its leader sees it, applied every acked write. */
  private boolean allCaughtUp(long group) {
    long required = oracles[(int) group - 1].maxAcknowledgedIndex();
    int leader = leaderOf(group);
    for (long member : nodes[leader].replica(group).membership().members()) {
      if (!nodes[(int) member].refused()
          && nodes[(int) member].replica(group).appliedIndex() < required) {
        return false;
      }
    }
    return true;
  }

  /**
   * The election-storm verdict: fails the run (oracle "liveness") if a group went through
   * more terms within the last election timeout than its nodes could have started, instead of
   * letting it storm for the rest of the liveness bound. A node campaigns (and moves the
   * group to a new term) only when its randomized election timeout, at least {@code
   * electionTicks} of its clock, ran out; so a window of {@code window} liveness checks sees
   * at most {@code window length / shortest timeout + 1} campaigns per node, plus one for a
   * leadership transfer begun before the heal (a TimeoutNow campaigns at once).
   */
  private void checkElectionStorm() {
    SimOptions.ClusterOptions c = options.cluster();
    long timeoutNanos = c.electionTicks() * c.tickNanos();
    int window = (int) ((timeoutNanos + LIVENESS_CHECK_NANOS - 1) / LIVENESS_CHECK_NANOS);
    // The fastest clock runs driftMax fast: its timeout is the shortest.
    double shortestNanos = timeoutNanos * (1 - c.driftMax());
    long campaignsPerNode = (long) Math.floor(window * LIVENESS_CHECK_NANOS / shortestNanos) + 1;
    long bound = campaignsPerNode * c.size() + 1;
    int check = checks++;
    for (int g = 1; g <= oracles.length; g++) {
      long terms = termsSinceHeal(g);
      termsSinceHeal = Math.max(termsSinceHeal, terms);
      termsAtChecks[g - 1][check] = terms;
      long recent = terms - (check >= window ? termsAtChecks[g - 1][check - window] : 0);
      if (recent > bound) {
        throw new SimulationFailure("liveness", "election storm: "
            + (oracles.length == 1 ? "" : "group " + g + " ") + "went through " + recent
            + " terms within " + SimOptions.ms(Math.min(check + 1, window) * LIVENESS_CHECK_NANOS)
            + " (" + terms + " since the heal " + SimOptions.ms((check + 1) * LIVENESS_CHECK_NANOS)
            + " ago), more than its " + c.size() + " nodes can start on election timeouts of "
            + SimOptions.ms(timeoutNanos) + " (" + bound + "):" + livenessState());
      }
    }
  }

  /**
   * How many terms {@code group} went through since the heal. Its highest term rises only
   * when a replica holding it campaigns (adopting a term never passes the highest), so this
   * counts campaigns; a term a partitioned node reached alone before the heal and the others
   * adopt after it does not count.
   */
  private long termsSinceHeal(int group) {
    return highestTerm(group) - healedTerms[group - 1];
  }

  private long highestTerm(int group) {
    long highest = 0;
    for (int id = 1; id < nodes.length; id++) {
      highest = Math.max(highest, nodes[id].replica(group).term());
    }
    return highest;
  }

  /** The most terms a group went through after the heal, as the liveness checks saw it. */
  long termsSinceHeal() {
    return termsSinceHeal;
  }

  private String livenessReport() {
    return "not done within " + SimOptions.ms(options.phases().livenessBoundNanos())
        + " of healing (" + termsSinceHeal + " terms at most in a group since):"
        + livenessState();
  }

  private String livenessState() {
    StringBuilder out = new StringBuilder();
    for (int g = 1; g <= oracles.length; g++) {
      int leader = stableLeader(g);
      out.append(oracles.length == 1 ? "" : (g > 1 ? "; group " : " group ") + g + ":")
          .append(" leader=")
          .append(leader == 0 ? "none" : "n" + leader).append(", committed membership ")
          .append(oracles[g - 1].committedMembership()).append(", acknowledged up to ")
          .append(oracles[g - 1].maxAcknowledgedIndex()).append(", nodes:");
      for (int id = 1; id < nodes.length; id++) {
        Replica r = nodes[id].replica(g);
        out.append(" n").append(id).append('{')
            .append(nodes[id].isUp() ? r.role() : "DOWN").append(" term=").append(r.term())
            .append(" applied=").append(r.appliedIndex()).append(" last=")
            .append(r.lastIndex());
        if (r.isRunning() && !r.membership().equals(oracles[g - 1].committedMembership())) {
          out.append(" own ").append(r.membership());
        }
        out.append('}');
      }
    }
    String pending = workload.pendingDescription();
    if (!pending.isEmpty()) {
      out.append(", clients:").append(pending);
    }
    return out.toString();
  }

  /** "core-invariant", "harness" (thrown in the simulator's own code) or "exception". */
  static String exceptionOrigin(Throwable e) {
    if (e instanceof io.detraft.core.Invariants.Violation) {
      return "core-invariant";
    }
    StackTraceElement[] stack = e.getStackTrace();
    if (e instanceof StackOverflowError || stack.length == 0) {
      return "exception";
    }
    return stack[0].getClassName().startsWith("io.detraft.sim.") ? "harness" : "exception";
  }

  private static String stackTop(Throwable e) {
    StringWriter out = new StringWriter();
    e.printStackTrace(new PrintWriter(out));
    String[] lines = out.toString().split("\n");
    StringBuilder top = new StringBuilder();
    for (int i = 1; i < Math.min(lines.length, 12); i++) {
      top.append(lines[i]).append('\n');
    }
    return top.toString().stripTrailing();
  }

  // ---------------------------------------------------------------- for the components

  void schedule(Event event) {
    if (event.time < now) {
      throw new IllegalStateException("event scheduled in the past: " + event.kind);
    }
    queue.add(event);
  }

  long now() {
    return now;
  }

  Trace trace() {
    return trace;
  }

  SimNode node(int id) {
    return nodes[id];
  }

  SimNetwork network() {
    return network;
  }

  Oracles oracles(long group) {
    return oracles[(int) group - 1];
  }

  Marks marks() {
    return marks;
  }

  Nemesis nemesis() {
    return nemesis;
  }

  Workload workload() {
    return workload;
  }

  SimHooks hooks() {
    return hooks;
  }

  boolean hasEarlySend() {
    return earlySend;
  }

  /**
   * Test seam only (a run never calls it): the agenda, so a unit test can see what a
   * component it drives by hand (the network, a node) scheduled, without running the loop.
   */
  EventQueue agenda() {
    return queue;
  }

  public SimOptions options() {
    return options;
  }
}
