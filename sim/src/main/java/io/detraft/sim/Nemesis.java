package io.detraft.sim;

/**
 * Injects faults during the safety phase, each on its own switch and schedule (see {@link
 * SimOptions}): crashes and restarts, pauses, partitions and clogged links. Packet loss,
 * duplication, delays and clock drift are continuous and live in {@link SimNetwork} and the
 * node tickers. Every fault ends by itself or at {@link #healAll}, which starts the liveness
 * phase.
 */
final class Nemesis {
  /** A nemesis action; its ordinal travels in {@link Event#first}. */
  enum Action {
    CRASH,
    RESTART,
    PAUSE,
    RESUME,
    PARTITION,
    END_PARTITION,
    CLOG
  }

  private static final Action[] ACTIONS = Action.values();
  private static final SimNetwork.Shape[] SHAPES = SimNetwork.Shape.values();

  private final Simulation sim;
  private final SimOptions options;
  private final SimRandom random;
  private final int size;
  private boolean active = true;
  long crashes;
  long pauses;
  long partitions;
  long clogs;

  Nemesis(Simulation sim, SimOptions options, SimRandom random) {
    this.sim = sim;
    this.options = options;
    this.random = random;
    this.size = options.cluster().size();
  }

  void start() {
    SimOptions.ProcessOptions p = options.process();
    SimOptions.NetworkOptions n = options.network();
    if (p.crashes()) {
      later(random.exponential(p.crashEveryNanos()), Action.CRASH, 0, 0);
    }
    if (p.pauses()) {
      later(random.exponential(p.pauseEveryNanos()), Action.PAUSE, 0, 0);
    }
    if (n.partitions()) {
      later(random.exponential(n.partitionEveryNanos()), Action.PARTITION, 0, 0);
    }
    if (n.clogging()) {
      later(random.exponential(n.clogEveryNanos()), Action.CLOG, 0, 0);
    }
  }

  void act(Event event) {
    if (!active) {
      return; // The liveness phase started: healAll undid every fault.
    }
    Action action = ACTIONS[(int) event.first];
    SimOptions.ProcessOptions p = options.process();
    SimOptions.NetworkOptions n = options.network();
    long now = sim.now();
    switch (action) {
      case CRASH: {
        int node = pickNode(true);
        if (node != 0) {
          crashes++;
          sim.node(node).crash("nemesis");
          later(random.between(1_000_000, p.restartMaxNanos()), Action.RESTART, node, 0);
        }
        later(random.exponential(p.crashEveryNanos()), Action.CRASH, 0, 0);
        break;
      }
      case RESTART:
        if (!sim.node(event.node).isUp()) {
          sim.node(event.node).boot();
        }
        break;
      case PAUSE: {
        int node = pickNode(false);
        if (node != 0) {
          pauses++;
          long until = now + random.between(1_000_000, p.pauseMaxNanos());
          sim.node(node).pause(until);
          later(until - now, Action.RESUME, node, sim.node(node).incarnation());
        }
        later(random.exponential(p.pauseEveryNanos()), Action.PAUSE, 0, 0);
        break;
      }
      case RESUME:
        if (sim.node(event.node).incarnation() == event.second) {
          sim.node(event.node).resume();
        }
        break;
      case PARTITION: {
        partitions++;
        SimNetwork.Shape shape = SHAPES[random.nextInt(SHAPES.length)];
        String description = sim.network().partition(shape);
        sim.trace().record(now, Trace.Kind.PARTITION, 0, 0, shape.ordinal(), 0, description);
        later(random.between(10_000_000, n.partitionMaxNanos()), Action.END_PARTITION, 0, 0);
        break;
      }
      case END_PARTITION:
        sim.network().heal();
        sim.trace().record(now, Trace.Kind.HEAL, 0, 0, 0, 0, "partition ends");
        later(random.exponential(n.partitionEveryNanos()), Action.PARTITION, 0, 0);
        break;
      case CLOG: {
        clogs++;
        int from = 1 + random.nextInt(size);
        int to = 1 + random.nextInt(size);
        if (from != to) {
          long until = now + random.between(1_000_000, n.clogMaxNanos());
          sim.network().clog(from, to, until);
          sim.trace().record(now, Trace.Kind.CLOG, from, to, 0, until, null);
        }
        later(random.exponential(n.clogEveryNanos()), Action.CLOG, 0, 0);
        break;
      }
      default:
        throw new IllegalStateException("unknown action " + action);
    }
  }

  /** Ends the safety phase: reconnect, unclog, restart and resume every node. */
  void healAll() {
    active = false;
    sim.network().makeClean();
    for (int id = 1; id <= size; id++) {
      SimNode node = sim.node(id);
      if (!node.isUp()) {
        node.boot();
      } else if (node.isPaused()) {
        node.resume();
      }
    }
  }

  /** A random node that is up (and, for {@code anyPaused} false, not paused), or 0. */
  private int pickNode(boolean anyPaused) {
    int start = random.nextInt(size);
    for (int i = 0; i < size; i++) {
      int id = 1 + (start + i) % size;
      SimNode node = sim.node(id);
      if (node.isUp() && (anyPaused || !node.isPaused())) {
        return id;
      }
    }
    return 0;
  }

  private void later(long delay, Action action, int node, long second) {
    sim.schedule(new Event(sim.now() + delay, Event.Kind.NEMESIS, node, 0, action.ordinal(),
        second, null));
  }
}
