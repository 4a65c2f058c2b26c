package io.detraft.kv;

import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.Role;
import io.detraft.io.NodeRunner;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes the cluster what the address book says, a step at a time, from a timer:
 *
 * <ul>
 *   <li>publishes this node's own Raft and HTTP addresses (and, for a bootstrap voter, its
 *       role) into the book, through group 1's leader;
 *   <li>on every group this node leads, applies one membership change at a time towards the
 *       book: add a node as a learner, promote it once it has caught up (the core refuses
 *       before), add a witness as one at once, remove a node marked removed;
 *   <li>spreads leadership: a node leading more than its share of the groups (rounded up)
 *       hands one to the voter leading the fewest, every couple of seconds. Otherwise the
 *       node that started first tends to lead every group and does all the work alone.
 * </ul>
 *
 * <p>Leaders act and followers wait, so exactly one node drives each group; when leadership
 * moves, the new leader picks up where the book says. Only explicit records cause changes: a
 * member with no records is left alone.
 */
final class Reconciler {
  private static final System.Logger LOG = System.getLogger(Reconciler.class.getName());

  private final long nodeId;
  private final String raftAddress;
  private final String httpAddress;
  private final boolean bootstrapVoter;
  private final NodeRunner runner;
  private final Router router;
  private final AddressBook book;
  private final List<Long> groups;
  /** The change in flight per group; at most one, as the core allows. */
  private final Map<Long, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
  private CompletableFuture<byte[]> publishing;
  private int publishAttempts;
  private CompletableFuture<Void> transferring;
  private long lastBalanceNanos = System.nanoTime();
  private static final long BALANCE_EVERY_NANOS = 2_000_000_000L;

  Reconciler(long nodeId, String raftAddress, String httpAddress, boolean bootstrapVoter,
      NodeRunner runner, Router router, AddressBook book, List<Long> groups) {
    this.nodeId = nodeId;
    this.raftAddress = raftAddress;
    this.httpAddress = httpAddress;
    this.bootstrapVoter = bootstrapVoter;
    this.runner = runner;
    this.router = router;
    this.book = book;
    this.groups = groups;
  }

  /** One round; called every few hundred milliseconds. Never throws. */
  void run() {
    try {
      publishSelf();
      for (long g : groups) {
        if (runner.status(g).role() == Role.LEADER) {
          converge(g);
        }
      }
      balanceLeaders();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "reconciling failed: " + e, e);
    }
  }

  private void publishSelf() {
    if (publishing != null && !publishing.isDone()) {
      return;
    }
    AddressBook.Node me = book.node(nodeId);
    String key;
    String value;
    if (me == null || !raftAddress.equals(me.raft())) {
      key = AddressBook.raftKey(nodeId);
      value = raftAddress;
    } else if (!httpAddress.equals(me.http())) {
      key = AddressBook.httpKey(nodeId);
      value = httpAddress;
    } else if (bootstrapVoter && me.role() == null) {
      key = AddressBook.roleKey(nodeId);
      value = "voter";
    } else {
      return;
    }
    long leader = runner.status(1).leader();
    if (leader != 0) {
      publishing = router.propose(1, systemPut(key, value));
      return;
    }
    // No leader heard of: perhaps none was elected yet, or this node moved and the leader
    // still sends to its old address. Any other node reaches the leader; try each in turn.
    List<Long> others = book.nodes().keySet().stream()
        .filter(id -> id != nodeId && book.http(id) != null).toList();
    if (!others.isEmpty()) {
      long via = others.get(Math.floorMod(publishAttempts++, others.size()));
      publishing = router.proposeThrough(via, 1, systemPut(key, value));
    }
  }

  private void balanceLeaders() {
    long now = System.nanoTime();
    if (now - lastBalanceNanos < BALANCE_EVERY_NANOS
        || (transferring != null && !transferring.isDone())) {
      return;
    }
    lastBalanceNanos = now;
    // Witnesses never lead: the share is over the data voters, and none is a target.
    Membership directory = runner.membership(1);
    long[] voters = java.util.Arrays.stream(directory.voters())
        .filter(v -> !directory.isWitness(v)).toArray();
    if (voters.length < 2 || !directory.isVoter(nodeId) || directory.isWitness(nodeId)) {
      return;
    }
    java.util.TreeMap<Long, Integer> led = new java.util.TreeMap<>();
    for (long v : voters) {
      led.put(v, 0);
    }
    long mine = 0;
    for (long g : groups) {
      long leader = runner.status(g).leader();
      if (leader == 0 || !led.containsKey(leader)) {
        return; // an election or a membership change is under way: wait for calm
      }
      led.merge(leader, 1, Integer::sum);
      if (leader == nodeId && runner.status(g).role() == Role.LEADER && mine == 0) {
        mine = g;
      }
    }
    int share = (groups.size() + voters.length - 1) / voters.length;
    if (mine == 0 || led.get(nodeId) <= share) {
      return;
    }
    long target = led.entrySet().stream().min(java.util.Map.Entry.comparingByValue())
        .orElseThrow().getKey();
    if (target == nodeId || !runner.membership(mine).isVoter(target)
        || runner.membership(mine).isWitness(target)) {
      return;
    }
    LOG.log(System.Logger.Level.INFO, "leading " + led.get(nodeId) + " of " + groups.size()
        + " groups: handing group " + mine + " to node " + target);
    transferring = runner.transferLeadership(mine, target).exceptionally(e -> null);
  }

  static byte[] systemPut(String key, String value) {
    return io.detraft.core.SessionStateMachine.unsessioned(new KvCommand.SystemPut(
        key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)).encode());
  }

  private void converge(long group) {
    CompletableFuture<Void> pending = inFlight.get(group);
    if (pending != null && !pending.isDone()) {
      return;
    }
    MembershipChange change = nextChange(runner.membership(group));
    if (change == null) {
      return;
    }
    LOG.log(System.Logger.Level.INFO, "group " + group + ": " + change);
    inFlight.put(group, runner.changeMembership(group, change).exceptionally(e -> {
      // Refused (a learner still catching up, another change in flight) or leadership lost:
      // the next round tries again from what is then true.
      return null;
    }));
  }

  /** The next step from {@code membership} towards the book, or null if there is none. */
  MembershipChange nextChange(Membership membership) {
    for (long removed : book.removed().keySet()) {
      if (membership.isMember(removed)) {
        return new MembershipChange(MembershipChange.Type.REMOVE, removed);
      }
    }
    for (AddressBook.Node n : book.nodes().values()) {
      if (n.role() == null || n.raft() == null || book.isRemoved(n.id())) {
        continue;
      }
      if (!membership.isMember(n.id())) {
        // A witness joins as one at once: it has no data to catch up on as a learner.
        return new MembershipChange(n.role().equals("witness") ? MembershipChange.Type.ADD_WITNESS
            : MembershipChange.Type.ADD_LEARNER, n.id());
      }
      if (n.role().equals("voter") && membership.isLearner(n.id())) {
        return new MembershipChange(MembershipChange.Type.PROMOTE_LEARNER, n.id());
      }
    }
    return null;
  }
}
