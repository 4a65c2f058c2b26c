package io.detraft.sim;

import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import java.util.ArrayList;
import java.util.List;

/**
 * Injects faults during the safety phase, each on its own switch and schedule (see {@link
 * SimOptions}): crashes and restarts, pauses, partitions and clogged links; and the protocol
 * nemeses, which ask nodes what an operator would: snapshots at random points, membership
 * changes of the leader (add or remove learners and voters, promote, demote, remove the leader
 * itself), and leadership transfers to random voters, lagging or cut off ones included. Packet
 * loss, duplication, delays and clock drift are continuous and live in {@link SimNetwork} and
 * the node tickers. Every fault ends by itself or at {@link #healAll}, which starts the
 * liveness phase.
 */
final class Nemesis {
  /** A nemesis action; its ordinal travels in {@link Event#first}. */
  enum Action {
    CRASH,
    /** A crash aimed at a node's fsync in flight (second: the incarnation it was aimed at). */
    CRASH_IN_SYNC,
    RESTART,
    PAUSE,
    RESUME,
    PARTITION,
    /** A partition that isolates a leader in the middle of a lull, when its group is quiet. */
    QUIET_PARTITION,
    /** second 1: the end of a {@link #QUIET_PARTITION}, which schedules no next partition. */
    END_PARTITION,
    CLOG,
    SNAPSHOT,
    CHURN,
    TRANSFER,
    /** Asks the leader again for a refused membership change (payload: the {@link Admin}). */
    RETRY,
    /** The transfer oracle's deadline for a transfer (payload: the {@link Transfer}). */
    TRANSFER_DEADLINE,
    /** Stops a group's replica on a running node, keeping its data. */
    GROUP_STOP,
    /** Starts it again (node: the node, second: the group). */
    GROUP_START
  }

  /** A transfer a leader accepted: who handed over to whom, when, and whether it completed. */
  private static final class Transfer {
    final long group;
    final int leader;
    final long target;
    final long acceptedAt;
    /** The target held everything the leader held when the leader accepted. */
    final boolean caughtUp;
    /** The leader sent the target its TimeoutNow. */
    boolean handedOver;
    /** The longest a packet between leader and target took since the transfer began. */
    long slowestTransit;
    boolean completed;

    Transfer(long group, int leader, long target, long acceptedAt, boolean caughtUp) {
      this.group = group;
      this.leader = leader;
      this.target = target;
      this.acceptedAt = acceptedAt;
      this.caughtUp = caughtUp;
    }
  }

  /** A transfer must complete (or be given up) within this many election timeouts. */
  static final int TRANSFER_BOUND_TIMEOUTS = 3;

  /**
   * An operator action for one group on one node, run between Ready rounds.
   *
   * @param target the transfer's target node
   * @param change the membership change
   * @param retriesLeft how often a refused membership change is asked again
   */
  record Admin(Kind kind, long group, long target, MembershipChange change, int retriesLeft) {
    enum Kind { SNAPSHOT, TRANSFER, MEMBERSHIP, STOP_GROUP, START_GROUP }

    @Override
    public String toString() {
      return switch (kind) {
        case SNAPSHOT -> "g" + group + " snapshot";
        case TRANSFER -> "g" + group + " transfer leadership to n" + target;
        case MEMBERSHIP -> "g" + group + " " + change.type() + " n" + change.node();
        case STOP_GROUP -> "g" + group + " stop the replica";
        case START_GROUP -> "g" + group + " start the replica";
      };
    }
  }

  private static final Action[] ACTIONS = Action.values();
  private static final SimNetwork.Shape[] SHAPES = SimNetwork.Shape.values();

  private final Simulation sim;
  private final SimOptions options;
  private final SimRandom random;
  private final int size;
  private final int groups;
  /** Per group - 1: the transfer the leader last accepted (null: none pending). */
  private final Transfer[] transfers;
  /**
   * The last moment a fault began or ended (or, for a clog, may still last until): the
   * transfer oracle judges only transfers with no fault anywhere around them.
   */
  private long lastDisturbance;
  private boolean active = true;
  /** The voter count membership churn drifts towards; redrawn now and then. */
  private int targetVoters;
  long crashes;
  long pauses;
  long partitions;
  long clogs;
  long groupStops;

  Nemesis(Simulation sim, SimOptions options, SimRandom random) {
    this.sim = sim;
    this.options = options;
    this.random = random;
    this.size = options.cluster().size();
    this.groups = options.cluster().groups();
    this.transfers = new Transfer[groups];
    this.targetVoters = options.cluster().voters();
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
    if (n.partitions()) {
      long[] lulls = sim.workload().lulls();
      for (int i = 0; i < lulls.length; i += 2) {
        // The groups are quiet by then, and the workload's wake-up read follows.
        later(sim.workload().quietAt(lulls[i]) - sim.now(), Action.QUIET_PARTITION, 0, 0);
      }
    }
    SimOptions.ProtocolOptions q = options.protocol();
    if (q.snapshotEveryNanos() > 0) {
      later(random.exponential(q.snapshotEveryNanos()), Action.SNAPSHOT, 0, 0);
    }
    if (q.churnEveryNanos() > 0) {
      later(random.exponential(q.churnEveryNanos()), Action.CHURN, 0, 0);
    }
    if (q.transferEveryNanos() > 0) {
      later(random.exponential(q.transferEveryNanos()), Action.TRANSFER, 0, 0);
    }
    if (q.groupStopEveryNanos() > 0) {
      later(random.exponential(q.groupStopEveryNanos()), Action.GROUP_STOP, 0, 0);
    }
  }

  void act(Event event) {
    Action action = ACTIONS[(int) event.first];
    if (!active && action != Action.RESTART && action != Action.TRANSFER_DEADLINE) {
      return; // The liveness phase started: healAll undid every fault.
    }
    SimOptions.ProcessOptions p = options.process();
    SimOptions.NetworkOptions n = options.network();
    SimOptions.ProtocolOptions q = options.protocol();
    long now = sim.now();
    if (action == Action.CLOG) {
      lastDisturbance = Math.max(lastDisturbance, now + n.clogMaxNanos());
    } else if (action != Action.SNAPSHOT && action != Action.TRANSFER
        && action != Action.TRANSFER_DEADLINE) {
      lastDisturbance = Math.max(lastDisturbance, now);
    }
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
      case CRASH_IN_SYNC:
        if (sim.node(event.node).isUp() && sim.node(event.node).incarnation() == event.second) {
          crashes++;
          sim.node(event.node).crash("nemesis, during an fsync");
          restartLater(event.node);
        }
        break;
      case RESUME:
        if (sim.node(event.node).incarnation() == event.second) {
          sim.node(event.node).resume();
        }
        break;
      case PARTITION: {
        partitions++;
        // With lease reads on, half the partitions cut off a leader: the one fault a lease
        // must survive.
        SimNetwork.Shape shape = options.cluster().leaseReads() && random.chance(0.5)
            ? SimNetwork.Shape.ISOLATE_LEADER : SHAPES[random.nextInt(SHAPES.length)];
        int leader = sim.leaderOf(1 + random.nextInt(groups));
        if (shape == SimNetwork.Shape.ISOLATE_LEADER && leader == 0) {
          shape = SimNetwork.Shape.ISOLATE_ONE;
        }
        String description = sim.network().partition(shape, leader);
        if (shape == SimNetwork.Shape.ISOLATE_LEADER) {
          description += skewClocks(leader);
        }
        sim.trace().record(now, Trace.Kind.PARTITION, 0, 0, shape.ordinal(), 0, description);
        later(random.between(10_000_000, n.partitionMaxNanos()), Action.END_PARTITION, 0, 0);
        break;
      }
      case QUIET_PARTITION: {
        int leader = sim.leaderOf(1 + random.nextInt(groups));
        if (leader != 0) {
          partitions++;
          String description = sim.network().partition(SimNetwork.Shape.ISOLATE_LEADER, leader)
              + " of a quiet group";
          sim.trace().record(now, Trace.Kind.PARTITION, 0, 0,
              SimNetwork.Shape.ISOLATE_LEADER.ordinal(), 0, description);
          later(random.between(500_000_000, 2 * n.partitionMaxNanos() + 500_000_000),
              Action.END_PARTITION, 0, 1);
        }
        break;
      }
      case END_PARTITION:
        sim.network().heal();
        for (int id = 1; id <= size; id++) {
          sim.node(id).skewClock(0);
        }
        sim.trace().record(now, Trace.Kind.HEAL, 0, 0, 0, 0, "partition ends");
        if (event.second == 0) {
          later(random.exponential(n.partitionEveryNanos()), Action.PARTITION, 0, 0);
        }
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
      case SNAPSHOT: {
        int node = pickNode(true);
        if (node != 0) {
          sim.node(node).onAdmin(new Admin(Admin.Kind.SNAPSHOT, 1 + random.nextInt(groups), 0,
              null, 0));
        }
        later(random.exponential(q.snapshotEveryNanos()), Action.SNAPSHOT, 0, 0);
        break;
      }
      case CHURN:
        churn(event.node != 0 ? event.node : 1 + random.nextInt(groups));
        if (event.second == 0) {
          later(random.exponential(q.churnEveryNanos()), Action.CHURN, 0, 0);
        }
        break;
      case TRANSFER:
        transfer(1 + random.nextInt(groups));
        later(random.exponential(q.transferEveryNanos()), Action.TRANSFER, 0, 0);
        break;
      case TRANSFER_DEADLINE:
        checkTransfer((Transfer) event.payload);
        break;
      case GROUP_STOP: {
        int node = pickNode(true);
        if (node != 0) {
          groupStops++;
          long group = 1 + random.nextInt(groups);
          sim.node(node).onAdmin(new Admin(Admin.Kind.STOP_GROUP, group, 0, null, 0));
          // Back within about what a process restart takes (the data is all there).
          later(random.between(1_000_000, p.restartMaxNanos()), Action.GROUP_START, node,
              group);
        }
        later(random.exponential(q.groupStopEveryNanos()), Action.GROUP_STOP, 0, 0);
        break;
      }
      case GROUP_START:
        sim.node(event.node).startGroup(event.second);
        break;
      case RETRY: {
        Admin admin = (Admin) event.payload;
        int leader = sim.leaderOf(admin.group());
        if (leader != 0 && keepsMinVoters(leader, admin)) {
          sim.node(leader).onAdmin(admin);
        }
        break;
      }
      default:
        throw new IllegalStateException("unknown action " + action);
    }
  }

  /**
   * The fewest voters churn leaves a configuration with. Where one node's disk may be damaged
   * for good (its node then refuses to start and stays down), 3: with one member lost, n - 1
   * of n voters are a majority only for n >= 3, and without a majority no change can remove
   * the lost member (Raft's limit; only unsafe recovery gets past it).
   */
  private int minVoters() {
    return options.corruptsStorage() ? 3 : 1;
  }

  /**
   * Whether a retried membership change still leaves {@link #minVoters}: the configuration may
   * have shrunk since it was first asked.
   */
  private boolean keepsMinVoters(int leader, Admin admin) {
    MembershipChange change = admin.change();
    if (change == null || minVoters() == 1) {
      return true; // the core refuses to remove the last voter itself
    }
    Membership m = sim.node(leader).replica(admin.group()).membership();
    boolean removesVoter = m.isVoter(change.node())
        && (change.type() == MembershipChange.Type.REMOVE
            || change.type() == MembershipChange.Type.DEMOTE_VOTER);
    return !removesVoter || m.voters().length > minVoters();
  }

  /** Asks the leader of {@code group} for a random single-server membership change. */
  private void churn(long group) {
    int leader = sim.leaderOf(group);
    if (leader == 0) {
      return;
    }
    Membership m = sim.node(leader).replica(group).membership();
    double draw = random.nextDouble();
    int largest = Math.min(7, size);
    if (draw < 0.05) {
      // Now and then any size, from a lone voter to seven.
      targetVoters = 1 + random.nextInt(largest);
    } else if (draw < 0.25) {
      // Mostly an even size next to the initial one: where two different single-server
      // changes from the same configuration can have disjoint majorities.
      int initial = options.cluster().voters();
      int even = initial % 2 == 0 ? initial : initial + (random.chance(0.5) ? 1 : -1);
      targetVoters = Math.max(1, Math.min(largest, even));
    }
    int minVoters = minVoters();
    targetVoters = Math.max(targetVoters, minVoters);
    // Candidate changes with weights; groups drift towards the target voter count.
    List<MembershipChange> changes = new ArrayList<>();
    List<Integer> weights = new ArrayList<>();
    boolean shrink = m.voters().length > targetVoters;
    boolean grow = m.voters().length < targetVoters;
    for (long id = 1; id <= size; id++) {
      if (sim.node((int) id).replica(group).isWitness()) {
        continue; // a witness stays one (its log holds no payloads); never re-added as data
      }
      if (sim.node((int) id).refused()) {
        // The operator removes a node whose disk is damaged for good, and adds it back never.
        if (m.isMember(id) && (m.isLearner(id) || m.voters().length > minVoters)) {
          add(changes, weights, MembershipChange.Type.REMOVE, id, 20);
        }
      } else if (!m.isMember(id)) {
        add(changes, weights, MembershipChange.Type.ADD_LEARNER, id, shrink ? 1 : 3);
        add(changes, weights, MembershipChange.Type.ADD_VOTER, id, grow ? 2 : 1);
      } else if (m.isLearner(id)) {
        add(changes, weights, MembershipChange.Type.PROMOTE_LEARNER, id, shrink ? 1 : 4);
        add(changes, weights, MembershipChange.Type.REMOVE, id, 1);
      } else if (m.voters().length > minVoters) {
        add(changes, weights, MembershipChange.Type.DEMOTE_VOTER, id, grow ? 1 : 2);
        add(changes, weights, MembershipChange.Type.REMOVE, id, grow ? 1 : 3);
      }
    }
    if (changes.isEmpty()) {
      return;
    }
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int roll = random.nextInt(total);
    int i = 0;
    while (roll >= weights.get(i)) {
      roll -= weights.get(i++);
    }
    sim.node(leader).onAdmin(new Admin(Admin.Kind.MEMBERSHIP, group, 0, changes.get(i), 8));
  }

  private static void add(List<MembershipChange> changes, List<Integer> weights,
      MembershipChange.Type type, long node, int weight) {
    changes.add(new MembershipChange(type, node));
    weights.add(weight);
  }

  /** Asks the leader of {@code group} to hand over to a random other voter. */
  private void transfer(long group) {
    int leader = sim.leaderOf(group);
    if (leader == 0) {
      return;
    }
    List<Long> others = new ArrayList<>();
    Membership m = sim.node(leader).replica(group).membership();
    for (long voter : m.voters()) {
      if (voter != leader && !m.isWitness(voter)) {
        others.add(voter);
      }
    }
    if (!others.isEmpty()) {
      long target = others.get(random.nextInt(others.size()));
      sim.node(leader).onAdmin(new Admin(Admin.Kind.TRANSFER, group, target, null, 0));
    }
  }

  /** What a node answered to an operator action. */
  void onAdminResult(int node, Admin admin, ProposeResult result) {
    sim.trace().record(sim.now(), Trace.Kind.ADMIN, node, (int) admin.group(),
        admin.kind().ordinal(), admin.change() != null ? admin.change().node() : admin.target(),
        admin + ": " + result);
    if (!active) {
      return;
    }
    if (admin.kind() == Admin.Kind.TRANSFER) {
      if (result instanceof ProposeResult.Accepted) {
        Replica target = sim.node((int) admin.target()).replica(admin.group());
        boolean caughtUp = sim.node((int) admin.target()).isUp()
            && target.lastIndex() >= sim.node(node).replica(admin.group()).lastIndex();
        Transfer transfer = new Transfer(admin.group(), node, admin.target(), sim.now(),
            caughtUp);
        transfers[(int) admin.group() - 1] = transfer;
        SimOptions.ClusterOptions c = options.cluster();
        long bound = (long) (TRANSFER_BOUND_TIMEOUTS * c.electionTicks() * c.tickNanos()
            * (1 + c.driftMax()));
        sim.schedule(new Event(sim.now() + bound, Event.Kind.NEMESIS, 0, 0,
            Action.TRANSFER_DEADLINE.ordinal(), 0, transfer));
      }
      return;
    }
    if (result instanceof ProposeResult.Rejected && admin.retriesLeft() > 0) {
      // Not caught up, another change in flight, no commit in this term yet: ask again.
      Admin retry = new Admin(admin.kind(), admin.group(), admin.target(), admin.change(),
          admin.retriesLeft() - 1);
      sim.schedule(new Event(sim.now() + random.between(20 * SimOptions.MS,
          200 * SimOptions.MS), Event.Kind.NEMESIS, 0, 0, Action.RETRY.ordinal(), 0, retry));
    } else if (result instanceof ProposeResult.Accepted && random.chance(0.3)) {
      // Another change at once: it must wait for this one to commit.
      sim.schedule(new Event(sim.now() + SimOptions.MS, Event.Kind.NEMESIS, (int) admin.group(),
          0, Action.CHURN.ordinal(), 1, null));
    }
  }

  /**
   * Runs {@code slow}'s clock at the slowest rate the drift bound allows and every other
   * node's at the fastest, until the partition ends: the isolated leader believes in its lease
   * longest while the others time out soonest, which a lease margin must cover.
   */
  private String skewClocks(int slow) {
    SimOptions.ClusterOptions c = options.cluster();
    if (c.driftMax() == 0) {
      return "";
    }
    for (int id = 1; id <= size; id++) {
      double rate = id == slow ? 1 + c.driftMax() : 1 - c.driftMax();
      sim.node(id).skewClock(Math.max(1, Math.round(c.tickNanos() * rate)));
    }
    return ", its clock slow and the others fast by " + c.driftMax() * 100 + " %";
  }

  /** Whether faults are still being injected (the safety phase). */
  boolean isActive() {
    return active;
  }

  /** A packet from {@code from} to {@code to} will take {@code nanos} to arrive. */
  void onTransit(int from, int to, long nanos) {
    for (Transfer t : transfers) {
      if (t != null && ((t.leader == from && t.target == to)
          || (t.leader == to && t.target == from))) {
        t.slowestTransit = Math.max(t.slowestTransit, nanos);
      }
    }
  }

  /** A leader sent a TimeoutNow: the handover of its transfer. */
  void onHandover(Message.TimeoutNow handover) {
    Transfer transfer = transfers[(int) handover.group() - 1];
    if (transfer != null && transfer.target == handover.to()) {
      transfer.handedOver = true;
    }
  }

  /** A node became leader of {@code group}. */
  void onLeader(int node, long group) {
    Transfer transfer = transfers[(int) group - 1];
    if (transfer != null && transfer.target == node) {
      sim.marks().hit(SimMark.TRANSFER_COMPLETED);
      transfer.completed = true;
    }
    transfers[(int) group - 1] = null;
    if (active && options.protocol().churnEveryNanos() > 0 && random.chance(0.3)) {
      // A change asked of a brand-new leader, before it committed an entry of its term: the
      // rule that fixes the 2015 single-server change bug must refuse it.
      sim.schedule(new Event(sim.now(), Event.Kind.NEMESIS, (int) group, 0,
          Action.CHURN.ordinal(), 1, null));
    }
  }

  /**
   * The transfer oracle, at a transfer's deadline: for a transfer to a target that held all
   * the leader held, on a network that loses nothing, with no fault from an election timeout
   * before it until now, the leader must have handed over (sent the target its TimeoutNow)
   * within {@link #TRANSFER_BOUND_TIMEOUTS} election timeouts and a round trip; whether the
   * target then wins depends on messages the network may delay for seconds. (Under faults a
   * transfer may be given up; the core gives up after one timeout and serves again. So does
   * it when a round trip to the target takes longer than that timeout: the news that the
   * target caught up may come too late, and the oracle does not judge such a transfer.)
   */
  private void checkTransfer(Transfer transfer) {
    SimOptions.ClusterOptions c = options.cluster();
    SimOptions.NetworkOptions n = options.network();
    long timeout = c.electionTicks() * c.tickNanos();
    boolean calm = lastDisturbance < transfer.acceptedAt - timeout && n.loss() == 0
        && n.corrupt() == 0 && noFaultInForce();
    // Superseded by another transfer, or leadership moved: not this transfer's to judge.
    if (transfers[(int) transfer.group - 1] != transfer || transfer.completed
        || transfer.handedOver || !transfer.caughtUp || !calm
        || 2 * transfer.slowestTransit >= timeout
        || sim.leaderOf(transfer.group) != transfer.leader) {
      return;
    }
    // Before it hands over, the leader may wait for a round trip that tells it the target
    // caught up: allow it at the slowest transit seen between the two (and look again then).
    long bound = (long) (TRANSFER_BOUND_TIMEOUTS * c.electionTicks() * c.tickNanos()
        * (1 + c.driftMax()));
    long due = transfer.acceptedAt + bound + 2 * transfer.slowestTransit;
    if (due > sim.now()) {
      sim.schedule(new Event(due, Event.Kind.NEMESIS, 0, 0,
          Action.TRANSFER_DEADLINE.ordinal(), 0, transfer));
      return;
    }
    throw new SimulationFailure("transfer", "g" + transfer.group + ": n" + transfer.leader
        + " accepted a"
        + " leadership transfer to n" + transfer.target + " at " + at(transfer.acceptedAt)
        + ", which held all the leader held, on a network losing nothing and with no fault"
        + " since; " + TRANSFER_BOUND_TIMEOUTS + " election timeouts and a round trip ("
        + at(2 * transfer.slowestTransit) + ") later n" + transfer.leader + " still leads and"
        + " never sent it a TimeoutNow");
  }

  /** Every node up and running, every link connected (faults that began earlier may last). */
  private boolean noFaultInForce() {
    for (int a = 1; a <= size; a++) {
      if (!sim.node(a).isUp() || sim.node(a).isPaused() || sim.node(a).stoppedGroups() > 0) {
        return false;
      }
      for (int b = 1; b <= size; b++) {
        if (a != b && sim.network().isCut(a, b)) {
          return false;
        }
      }
    }
    return true;
  }

  private static String at(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.6fs", nanos / 1e9);
  }

  /**
   * Aims a crash at a node's fsync in flight, {@code delay} from now (before it completes):
   * the moment that leaves unsynced and torn writes for recovery to handle.
   */
  void crashDuringSync(int node, int incarnation, long delay) {
    if (active) {
      later(delay, Action.CRASH_IN_SYNC, node, incarnation);
    }
  }

  /** A node stopped by itself (a failed fsync or write): it restarts after a while. */
  void restartLater(int node) {
    lastDisturbance = Math.max(lastDisturbance, sim.now());
    later(random.between(1_000_000, options.process().restartMaxNanos()), Action.RESTART, node, 0);
  }

  /** Ends the safety phase: reconnect, unclog, heal the disks, restart and resume every node. */
  void healAll() {
    active = false;
    lastDisturbance = sim.now();
    sim.network().makeClean();
    for (int id = 1; id <= size; id++) {
      SimNode node = sim.node(id);
      node.skewClock(0);
      node.healDisk();
      node.startStoppedGroups(); // while up: queued behind whatever waits in its inbox
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
