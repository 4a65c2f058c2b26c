package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Message;
import io.detraft.core.Role;
import io.detraft.io.Frames;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The fault injectors take effect: partitions of every shape cut exactly the links they
 * should, duplication delivers twice, reordering lets packets overtake (and FIFO links never
 * do), a clogged link holds its packets, a paused process handles nothing until it resumes,
 * and drift gives nodes their own tick length. The network and nodes are driven by hand on a
 * simulation that never runs; what they schedule is read off its agenda.
 */
class FaultInjectorsTest {
  private static final long MS = SimOptions.MS;
  private static final int N = 5;
  /** Five voters, no spares needed: the network below spans nodes 1..5. */
  private static final SimOptions FIVE = SimOptions.derive(1).withVoters(N);

  private final Simulation sim = new Simulation(FIVE);
  private long round;

  /**
   * No loss and no replays; packets take 100 us plus a Pareto tail (scale 200 us), at most
   * 5 ms, so only a clog can hold one for longer.
   */
  private static SimOptions.NetworkOptions options(double duplicate, boolean reorder) {
    return new SimOptions.NetworkOptions(0, duplicate, 100_000, true, 200_000, 1.5, 5 * MS,
        reorder, true, SimOptions.SECOND, SimOptions.SECOND, true, SimOptions.SECOND,
        SimOptions.SECOND, 0, 0, 0);
  }

  /** A network whose every link has a connection open, by the real handshake. */
  private SimNetwork network(SimOptions.NetworkOptions options) {
    SimNetwork net = new SimNetwork(sim, options, N, new SimRandom(7));
    for (int id = 1; id <= N; id++) {
      sim.node(id).boot(); // listening, so that the dials are accepted
    }
    sendOnEveryLink(net); // each dials, and its heartbeat waits for the connection
    for (Event e = sim.agenda().poll(); e != null; e = sim.agenda().poll()) {
      if (e.kind == Event.Kind.HANDSHAKE) {
        net.connections().onHandshake(e);
      }
    }
    return net;
  }

  /** Sends a heartbeat numbered by {@link #round}, so deliveries tell which send they are. */
  private void send(SimNetwork net, int from, int to) {
    net.send(from, new Message.Heartbeat(1, from, to, 1, 0, ++round));
  }

  private void sendOnEveryLink(SimNetwork net) {
    for (int from = 1; from <= N; from++) {
      for (int to = 1; to <= N; to++) {
        if (from != to) {
          send(net, from, to);
        }
      }
    }
  }

  /** Empties the agenda; returns its deliveries in the order they would happen. */
  private List<Event> deliveries() {
    List<Event> out = new ArrayList<>();
    for (Event e = sim.agenda().poll(); e != null; e = sim.agenda().poll()) {
      if (e.kind == Event.Kind.DELIVER) {
        out.add(e);
      }
    }
    return out;
  }

  private static long roundOf(Event delivery) {
    try {
      return ((Message.Heartbeat) Frames.decode((byte[]) delivery.payload, delivery.peer,
          delivery.node)).round();
    } catch (Frames.MalformedFrameException e) {
      throw new AssertionError(e);
    }
  }

  /** "from->to" for each delivery. */
  private static Set<String> links(List<Event> deliveries) {
    Set<String> out = new TreeSet<>();
    for (Event e : deliveries) {
      out.add(e.peer + "->" + e.node);
    }
    return out;
  }

  /** "from->to" for each link that is not cut. */
  private static Set<String> openLinks(SimNetwork net) {
    Set<String> out = new TreeSet<>();
    for (int from = 1; from <= N; from++) {
      for (int to = 1; to <= N; to++) {
        if (from != to && !net.isCut(from, to)) {
          out.add(from + "->" + to);
        }
      }
    }
    return out;
  }

  private static int cutLinks(SimNetwork net) {
    return N * (N - 1) - openLinks(net).size();
  }

  /**
   * The sides of a partition whose cuts are symmetric and split the nodes into groups that
   * reach each other: each node with every node it is not cut from. Fails otherwise.
   */
  private static Set<Set<Integer>> sides(SimNetwork net, String description) {
    Set<Set<Integer>> sides = new HashSet<>();
    for (int a = 1; a <= N; a++) {
      Set<Integer> side = new TreeSet<>();
      for (int b = 1; b <= N; b++) {
        assertEquals(net.isCut(a, b), net.isCut(b, a), description);
        if (!net.isCut(a, b)) {
          side.add(b);
        }
      }
      sides.add(side);
    }
    assertEquals(N, sides.stream().mapToInt(Set::size).sum(), "sides overlap: " + description);
    return sides;
  }

  private static List<Integer> sizes(Set<Set<Integer>> sides) {
    return sides.stream().map(Set::size).sorted().toList();
  }

  @Test
  void symmetricShapesSplitTheNodesIntoTwoSidesCutBothWays() {
    SimNetwork net = network(options(0, false));
    for (int i = 0; i < 10; i++) {
      String d = net.partition(SimNetwork.Shape.SYMMETRIC, 0);
      assertEquals(2, sides(net, d).size(), d);
      d = net.partition(SimNetwork.Shape.ISOLATE_ONE, 0);
      assertEquals(List.of(1, N - 1), sizes(sides(net, d)), d);
      d = net.partition(SimNetwork.Shape.MAJORITY_MINORITY, 0);
      assertEquals(List.of(2, 3), sizes(sides(net, d)), d);
      int leader = 1 + i % N;
      d = net.partition(SimNetwork.Shape.ISOLATE_LEADER, leader);
      assertEquals(List.of(1, N - 1), sizes(sides(net, d)), d);
      assertTrue(sides(net, d).contains(Set.of(leader)), d);
    }
    net.heal();
    assertEquals(0, cutLinks(net));
  }

  @Test
  void aPartitionDropsPacketsAcrossTheCutAndInFlightButNotWithinASide() {
    SimNetwork net = network(options(0, false));
    net.partition(SimNetwork.Shape.SYMMETRIC, 0);
    sendOnEveryLink(net);
    assertEquals(openLinks(net), links(deliveries()));
    assertEquals(cutLinks(net), net.dropped());
    // Sent while healed, arriving once a partition is up: the ones across it die in flight.
    net.heal();
    sendOnEveryLink(net);
    List<Event> inFlight = deliveries();
    assertEquals(N * (N - 1), inFlight.size());
    net.partition(SimNetwork.Shape.SYMMETRIC, 0);
    long before = net.dropped();
    for (Event e : inFlight) {
      net.deliver(e); // Nodes are down: what gets through is dropped as "receiver down".
    }
    assertEquals(cutLinks(net), net.dropped() - before);
  }

  @Test
  void anAsymmetricPartitionCanCutOneDirectionOnly() {
    SimNetwork net = network(options(0, false));
    for (int attempt = 0; attempt < 20; attempt++) {
      String d = net.partition(SimNetwork.Shape.ASYMMETRIC, 0);
      for (int a = 1; a <= N; a++) {
        for (int b = 1; b <= N; b++) {
          if (net.isCut(a, b) && !net.isCut(b, a)) {
            deliveries();
            send(net, a, b);
            send(net, b, a);
            assertEquals(Set.of(b + "->" + a), links(deliveries()), d);
            return;
          }
        }
      }
    }
    throw new AssertionError("20 asymmetric partitions and not one one-way cut");
  }

  @Test
  void aBridgeNodeReachesBothSidesThatCannotReachEachOther() {
    SimNetwork net = network(options(0, false));
    for (int i = 0; i < 10; i++) {
      String d = net.partition(SimNetwork.Shape.BRIDGE, 0);
      List<Integer> bridges = new ArrayList<>();
      for (int a = 1; a <= N; a++) {
        boolean open = true;
        for (int b = 1; b <= N; b++) {
          open &= !net.isCut(a, b) && !net.isCut(b, a);
        }
        if (open) {
          bridges.add(a);
        }
      }
      assertEquals(1, bridges.size(), d);
      int bridge = bridges.get(0);
      // Without the bridge, the others form two sides of two, cut from each other both ways.
      Set<Set<Integer>> sides = new HashSet<>();
      for (int a = 1; a <= N; a++) {
        Set<Integer> side = new TreeSet<>();
        for (int b = 1; b <= N; b++) {
          if (a != bridge && b != bridge && !net.isCut(a, b)) {
            assertFalse(net.isCut(b, a), d);
            side.add(b);
          }
        }
        if (!side.isEmpty()) {
          sides.add(side);
        }
      }
      assertEquals(List.of(2, 2), sizes(sides), d);
      sendOnEveryLink(net);
      Set<String> delivered = links(deliveries());
      assertEquals(openLinks(net), delivered, d);
      for (int x = 1; x <= N; x++) {
        if (x != bridge) {
          assertTrue(delivered.contains(bridge + "->" + x) && delivered.contains(x + "->" + bridge),
              d);
        }
      }
    }
  }

  @Test
  void duplicationDeliversSomePacketsTwice() {
    SimNetwork net = network(options(0.3, false));
    for (int i = 0; i < 200; i++) {
      send(net, 1, 2);
    }
    Map<Long, Integer> copies = new TreeMap<>();
    for (Event e : deliveries()) {
      copies.merge(roundOf(e), 1, Integer::sum);
    }
    assertEquals(200, copies.size(), "every packet arrives");
    assertTrue(copies.containsValue(2), "some packet arrives twice");
    assertTrue(copies.values().stream().allMatch(c -> c <= 2), copies::toString);

    SimNetwork plain = network(options(0, false));
    for (int i = 0; i < 200; i++) {
      send(plain, 1, 2);
    }
    assertEquals(200, deliveries().size());
  }

  /** The rounds of 200 packets sent at once on link 1->2, in the order they arrive. */
  private List<Long> arrivalOrder(SimNetwork net) {
    for (int i = 0; i < 200; i++) {
      send(net, 1, 2);
    }
    return deliveries().stream().map(FaultInjectorsTest::roundOf).toList();
  }

  private static boolean ascending(List<Long> rounds) {
    for (int i = 1; i < rounds.size(); i++) {
      if (rounds.get(i) < rounds.get(i - 1)) {
        return false;
      }
    }
    return true;
  }

  @Test
  void reorderingLetsALaterPacketOvertakeWhileFifoLinksKeepOrder() {
    assertFalse(ascending(arrivalOrder(network(options(0, true)))), "no packet overtook");
    assertTrue(ascending(arrivalOrder(network(options(0, false)))));
    // The liveness phase's clean network is FIFO even where the seed reorders.
    SimNetwork clean = network(options(0, true));
    clean.makeClean();
    assertTrue(ascending(arrivalOrder(clean)));
  }

  @Test
  void aCloggedLinkHoldsItsPacketsUntilTheClogEnds() {
    SimNetwork net = network(options(0, true));
    long until = 500 * MS;
    net.clog(1, 2, until);
    send(net, 1, 2);
    send(net, 2, 1);
    send(net, 1, 3);
    List<Event> delivered = deliveries();
    assertEquals(3, delivered.size());
    for (Event e : delivered) {
      boolean clogged = e.peer == 1 && e.node == 2;
      assertEquals(clogged, e.time >= until, e.peer + "->" + e.node + " at " + e.time);
    }
    net.makeClean(); // Healing unclogs.
    send(net, 1, 2);
    assertTrue(deliveries().get(0).time < until);
  }

  @Test
  void aPausedNodeHandlesNothingUntilItResumes() {
    SimNode running = sim.node(1);
    SimNode paused = sim.node(2);
    running.boot();
    paused.boot();
    paused.pause(Long.MAX_VALUE);
    // A leader of term 7 (n3) reaches both: the running node adopts its term at once.
    running.receive(new Message.Heartbeat(1, 3, 1, 7, 0, 1));
    paused.receive(new Message.Heartbeat(1, 3, 2, 7, 0, 1));
    assertEquals(7, running.replica(1).term());
    assertEquals(0, paused.replica(1).term());
    // Many election timeouts of ticks: a paused node does not even campaign.
    for (int i = 0; i < 5 * FIVE.cluster().electionTicks(); i++) {
      paused.onTick(paused.incarnation());
    }
    assertEquals(0, paused.replica(1).term());
    assertEquals(Role.FOLLOWER, paused.replica(1).role());
    paused.resume();
    assertEquals(7, paused.replica(1).term(), "the held heartbeat is handled on resume");
  }

  private static SimOptions withDrift(SimOptions options, double drift) {
    SimOptions.ClusterOptions c = options.cluster();
    return options.withCluster(new SimOptions.ClusterOptions(c.size(), c.voters(), c.groups(),
        c.tickNanos(), c.electionTicks(), c.heartbeatTicks(), c.preVote(), c.checkQuorum(),
        c.forwardProposals(), c.maxInflightAppends(), c.maxAppendBytes(),
        c.snapshotChunkBytes(), false, c.leaseMarginTicks(), drift, c.quiesceTicks()));
  }

  @Test
  void driftGivesEachNodeItsOwnTickRate() {
    long nominal = FIVE.cluster().tickNanos();
    Simulation steady = new Simulation(withDrift(FIVE, 0));
    Simulation drifting = new Simulation(withDrift(FIVE, 0.1));
    Set<Long> lengths = new TreeSet<>();
    for (int id = 1; id <= N; id++) {
      assertEquals(nominal, steady.node(id).ownTickNanos);
      long tick = drifting.node(id).ownTickNanos;
      assertTrue(tick >= nominal * 0.9 && tick <= nominal * 1.1, tick + " vs " + nominal);
      lengths.add(tick);
    }
    assertTrue(lengths.size() > 1, "every node ticks at the same rate: " + lengths);
    // A node's ticker schedules its next tick one (drifted) tick length later.
    SimNode node = drifting.node(1);
    node.boot();
    while (drifting.agenda().poll() != null) {
      // Forget the first tick (at a random phase) and whatever booting scheduled.
    }
    node.onTick(node.incarnation());
    List<Long> ticks = new ArrayList<>();
    for (Event e = drifting.agenda().poll(); e != null; e = drifting.agenda().poll()) {
      if (e.kind == Event.Kind.TICK && e.node == 1) {
        ticks.add(e.time);
      }
    }
    assertEquals(List.of(node.ownTickNanos), ticks);
  }
}
