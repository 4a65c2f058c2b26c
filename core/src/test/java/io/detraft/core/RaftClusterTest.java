package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Whole-cluster checks with a tiny in-test network: random delivery order and message loss,
 * always-on core invariants, and a check that every replica applies the same entries. The
 * simulator module does this at scale, with crashes and disks; this catches regressions in
 * core alone.
 */
class RaftClusterTest {

  static final class Cluster {
    final Map<Long, RawNode> nodes = new HashMap<>();
    final Map<Long, MemoryLogStorage> storages = new HashMap<>();
    final Map<Long, List<Entry>> applied = new HashMap<>();
    final List<Message> inFlight = new ArrayList<>();
    final Map<Long, Long> leaderOfTerm = new HashMap<>();
    final Prng network;
    final double lossProbability;

    Cluster(int size, long seed, double lossProbability) {
      this.network = new Prng(seed);
      this.lossProbability = lossProbability;
      long[] ids = new long[size];
      for (int i = 0; i < size; i++) {
        ids[i] = i + 1;
      }
      for (long id : ids) {
        MemoryLogStorage storage = new MemoryLogStorage(Membership.of(ids));
        storages.put(id, storage);
        nodes.put(id, new RawNode(Config.defaults(id), storage, seed * 31 + id));
        applied.put(id, new ArrayList<>());
      }
    }

    /** Runs every node's Ready loop once, honouring persist-send-apply-advance. */
    void processReady() {
      for (long id = 1; id <= nodes.size(); id++) {
        RawNode node = nodes.get(id);
        while (node.hasReady()) {
          Ready rd = node.ready();
          MemoryLogStorage storage = storages.get(id);
          if (rd.hardState() != null) {
            storage.setHardState(rd.hardState());
          }
          storage.append(rd.entries());
          inFlight.addAll(rd.messages());
          applied.get(id).addAll(rd.committedEntries());
          node.advance(rd);
          Status s = node.status();
          if (s.role() == Role.LEADER) {
            Long previous = leaderOfTerm.putIfAbsent(s.term(), id);
            assertTrue(previous == null || previous == id, "two leaders in term " + s.term());
          }
        }
      }
    }

    /** Delivers one random in-flight message (or loses it). */
    void deliverOne() {
      Message m = inFlight.remove((int) network.nextLong(inFlight.size()));
      if (!network.chance(lossProbability)) {
        nodes.get(m.to()).step(m);
      }
    }

    void run(int steps) {
      for (int i = 0; i < steps; i++) {
        processReady();
        if (!inFlight.isEmpty() && network.chance(0.9)) {
          deliverOne();
        } else {
          nodes.get(1 + network.nextLong(nodes.size())).tick();
        }
      }
      processReady();
    }

    long leader() {
      for (long id = 1; id <= nodes.size(); id++) {
        if (nodes.get(id).status().role() == Role.LEADER) {
          return id;
        }
      }
      return 0;
    }

    void assertAppliedPrefixesAgree() {
      List<Entry> longest = List.of();
      for (List<Entry> a : applied.values()) {
        if (a.size() > longest.size()) {
          longest = a;
        }
      }
      for (var e : applied.entrySet()) {
        assertEquals(longest.subList(0, e.getValue().size()), e.getValue(),
            "node " + e.getKey() + " applied a different sequence");
      }
    }
  }

  @Test
  void electsALeaderAndReplicatesUnderLossAndReordering() {
    for (long seed = 1; seed <= 30; seed++) {
      Cluster c = new Cluster(seed % 2 == 0 ? 3 : 5, seed, 0.1);
      int proposed = 0;
      for (int round = 0; round < 40; round++) {
        c.run(200);
        long leader = c.leader();
        if (leader != 0) {
          RawNode node = c.nodes.get(leader);
          if (node.propose(("v" + seed + "-" + round).getBytes()) instanceof
              ProposeResult.Accepted) {
            proposed++;
          }
        }
      }
      c.run(3000);
      c.assertAppliedPrefixesAgree();
      assertTrue(proposed > 0, "seed " + seed + ": no leader ever accepted a proposal");
      int maxApplied = c.applied.values().stream().mapToInt(List::size).max().orElse(0);
      assertTrue(maxApplied > proposed / 2, "seed " + seed + ": little was committed");
    }
  }

  @Test
  void followerForwardsOrAnswersNotLeader() {
    Cluster c = new Cluster(3, 5, 0);
    c.nodes.get(1L).campaign();
    c.run(2000);
    long leader = c.leader();
    assertNotEquals(0, leader);
    long follower = leader == 1 ? 2 : 1;
    ProposeResult forwarded = c.nodes.get(follower).propose("x".getBytes());
    assertEquals(new ProposeResult.Forwarded(leader), forwarded);

    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1, 2, 3));
    RawNode lonely = new RawNode(Config.defaults(1).withForwardProposals(false), storage, 1);
    assertEquals(new ProposeResult.NotLeader(0), lonely.propose("y".getBytes()));
  }

  @Test
  void singleVoterElectsItselfAndCommits() {
    Cluster c = new Cluster(1, 9, 0);
    c.nodes.get(1L).campaign();
    c.processReady();
    assertEquals(Role.LEADER, c.nodes.get(1L).status().role());
    assertInstanceOf(ProposeResult.Accepted.class, c.nodes.get(1L).propose(new byte[] {1}));
    c.processReady();
    c.processReady();
    assertEquals(2, c.nodes.get(1L).status().commit());
    assertEquals(2, c.applied.get(1L).size());
  }
}
