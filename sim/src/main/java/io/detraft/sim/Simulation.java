package io.detraft.sim;

import io.detraft.checker.LinearizabilityChecker;
import io.detraft.checker.Verdict;
import io.detraft.core.Config;
import io.detraft.core.Membership;
import io.detraft.core.Role;
import java.io.PrintWriter;
import java.io.StringWriter;

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
 * catch up with every acknowledged write. Finally the client history must be linearizable.
 */
public final class Simulation {
  /** How often the liveness goal is checked once faults are healed. */
  private static final long LIVENESS_CHECK_NANOS = 50_000_000L;
  /** A runaway guard: no sane run needs this many events. */
  private static final long MAX_EVENTS = 200_000_000L;
  private static final int TRACE_CAPACITY = 64;
  private static final int TRACE_SHOWN = 50;

  private final SimOptions options;
  private final SimHooks hooks;
  private final boolean earlySend;
  private final Trace trace = new Trace(TRACE_CAPACITY);
  private final EventQueue queue = new EventQueue();
  private final SimNode[] nodes;
  private final SimNetwork network;
  private final Oracles oracles;
  private final Workload workload;
  private final Nemesis nemesis;
  private long now;
  private long events;
  private long livenessDeadline = Long.MAX_VALUE;
  private boolean finished;

  public Simulation(SimOptions options) {
    this(options, SimHooks.defaults());
  }

  public Simulation(SimOptions options, SimHooks hooks) {
    this.options = options;
    this.hooks = hooks;
    this.earlySend = hooks.earlySend() != SimHooks.NEVER;
    // The run's generators are forked from the seed on streams apart from SimOptions.derive's.
    SimRandom root = new SimRandom(options.seed()).fork(1000);
    SimOptions.ClusterOptions c = options.cluster();
    int size = c.size();
    long[] ids = new long[size];
    for (int i = 0; i < size; i++) {
      ids[i] = i + 1;
    }
    Membership membership = Membership.of(ids);
    this.nodes = new SimNode[size + 1];
    for (int id = 1; id <= size; id++) {
      SimRandom nodeRandom = root.fork(100 + id);
      double drift = nodeRandom.uniform(-c.driftMax(), c.driftMax());
      long tickNanos = Math.max(1, Math.round(c.tickNanos() * (1 + drift)));
      Config config = Config.defaults(id)
          .withTimeouts(c.electionTicks(), c.heartbeatTicks())
          .withPreVote(c.preVote())
          .withCheckQuorum(c.checkQuorum())
          .withForwardProposals(c.forwardProposals())
          .withFlowControl(c.maxAppendBytes(), c.maxInflightAppends());
      Disk disk = hooks.diskFactory().create(id, options.disk(), root.fork(200 + id));
      nodes[id] = new SimNode(id, this, config, membership, disk, nodeRandom, tickNanos);
    }
    this.network = new SimNetwork(this, options.network(), size, root.fork(10));
    this.oracles = new Oracles(size, hooks.durabilityOracles());
    this.workload = new Workload(this, options.workload(), size, root.fork(11));
    this.nemesis = new Nemesis(this, options, root.fork(12));
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
      for (int id = 1; id < nodes.length; id++) {
        oracles.checkHoldsAcknowledged(id, nodes[id]);
      }
      LinearizabilityChecker.Result result =
          LinearizabilityChecker.check(workload.history(), LinearizabilityChecker.Options.defaults());
      checker = result.verdict() + " (" + result.steps() + " steps)";
      if (result.verdict() == Verdict.INVALID) {
        throw new SimulationFailure("linearizability", result.explanation());
      }
      if (result.verdict() == Verdict.UNKNOWN) {
        verdict = SimResult.Verdict.UNKNOWN;
        failure = "linearizability check gave up: " + result.explanation();
      }
    } catch (SimulationFailure e) {
      verdict = SimResult.Verdict.FAIL;
      oracle = e.oracle();
      failure = e.getMessage();
    } catch (RuntimeException | AssertionError | StackOverflowError e) {
      // An invariant inside core, or a bug in the simulator: a failure either way.
      verdict = SimResult.Verdict.FAIL;
      oracle = "exception";
      failure = e + "\n" + stackTop(e);
    }
    String tail = verdict == SimResult.Verdict.FAIL ? trace.tail(TRACE_SHOWN) : "";
    long crashes = nemesis.crashes;
    long duplicates = 0;
    for (int id = 1; id < nodes.length; id++) {
      duplicates += nodes[id].duplicateCommands;
    }
    SimResult.Stats stats = new SimResult.Stats(events, network.sent(), network.dropped(),
        workload.invoked, workload.completedOk, workload.completedFail, workload.completedInfo,
        crashes, nemesis.pauses, nemesis.partitions, oracles.maxCommittedIndex(), duplicates,
        checker);
    return new SimResult(options, verdict, oracle, failure, trace.fingerprint(), now, tail,
        stats);
  }

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
        throw new SimulationFailure("runaway", "more than " + MAX_EVENTS + " events");
      }
      dispatch(event);
    }
  }

  private void dispatch(Event event) {
    switch (event.kind) {
      case TICK -> nodes[event.node].onTick(event.first);
      case DELIVER -> network.deliver(event);
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
    livenessDeadline = now + options.phases().livenessBoundNanos();
    nemesis.healAll();
    workload.startLiveness(options.phases().livenessOpsPerClient());
    schedule(new Event(now + LIVENESS_CHECK_NANOS, Event.Kind.LIVENESS_CHECK, 0, 0, 0, 0, null));
  }

  private void checkLiveness() {
    if (leader() != 0 && workload.livenessDone() && allCaughtUp()) {
      finished = true;
      return;
    }
    schedule(new Event(now + LIVENESS_CHECK_NANOS, Event.Kind.LIVENESS_CHECK, 0, 0, 0, 0, null));
  }

  /** The leader of the highest term among live nodes, or 0. */
  private int leader() {
    int leader = 0;
    long term = -1;
    for (int id = 1; id < nodes.length; id++) {
      SimNode node = nodes[id];
      if (node.isUp() && node.term() > term) {
        term = node.term();
        leader = node.role() == Role.LEADER ? id : 0;
      } else if (node.isUp() && node.term() == term && node.role() == Role.LEADER) {
        leader = id;
      }
    }
    return leader;
  }

  private boolean allCaughtUp() {
    long required = oracles.maxAcknowledgedIndex();
    for (int id = 1; id < nodes.length; id++) {
      if (nodes[id].appliedIndex() < required) {
        return false;
      }
    }
    return true;
  }

  private String livenessReport() {
    StringBuilder out = new StringBuilder("not done within ")
        .append(SimOptions.ms(options.phases().livenessBoundNanos()))
        .append(" of healing: leader=").append(leader() == 0 ? "none" : "n" + leader())
        .append(", acknowledged up to ").append(oracles.maxAcknowledgedIndex())
        .append(", nodes:");
    for (int id = 1; id < nodes.length; id++) {
      SimNode n = nodes[id];
      out.append(" n").append(id).append('{').append(n.isUp() ? n.role() : "DOWN")
          .append(" term=").append(n.term()).append(" applied=").append(n.appliedIndex())
          .append(" last=").append(n.lastIndex()).append('}');
    }
    String pending = workload.pendingDescription();
    if (!pending.isEmpty()) {
      out.append(", clients:").append(pending);
    }
    return out.toString();
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

  Oracles oracles() {
    return oracles;
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

  public SimOptions options() {
    return options;
  }
}
