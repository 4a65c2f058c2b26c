package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Witnesses: voters that keep only the log's metadata and never lead. Two data voters (1, 2)
 * and a witness (3) on a tiny lossless network; the simulator runs witnesses with every fault
 * (a quarter of its seeds) and a canary checks the witness's election restriction.
 */
class WitnessTest {
  private static final Membership WITH_WITNESS =
      new Membership(new long[] {1, 2, 3}, new long[0], new long[] {3});

  @Test
  void theCodecKeepsWitnessesAndEncodesOtherMembershipsAsBefore() {
    Membership m = new Membership(new long[] {1, 2, 5}, new long[] {4}, new long[] {5});
    assertEquals(m, Codec.decodeMembership(Codec.encodeMembership(m)));
    assertArrayEquals(new long[] {1, 2, -5}, m.votersWitnessesNegated());
    assertEquals(m, Membership.fromWitnessesNegated(new long[] {1, 2, -5}, new long[] {4}));
    // Without witnesses the bytes are what they were before witnesses existed.
    assertArrayEquals(Codec.encodeMembership(Membership.of(1, 2, 3)),
        Codec.encodeMembership(new Membership(new long[] {1, 2, 3}, new long[0], new long[0])));
    assertThrows(Invariants.Violation.class,
        () -> new Membership(new long[] {1, 2}, new long[] {3}, new long[] {3}));
  }

  @Test
  void membershipChangesKeepAWitnessAWitnessUntilItIsRemoved() {
    Membership added = Membership.of(1, 2).apply(
        new MembershipChange(MembershipChange.Type.ADD_WITNESS, 3));
    assertEquals(WITH_WITNESS, added);
    Membership removed = added.apply(new MembershipChange(MembershipChange.Type.REMOVE, 3));
    assertEquals(Membership.of(1, 2), removed);
  }

  /** Nodes 1..3 of {@link #WITH_WITNESS}; every message delivered, in order. */
  private static final class Net {
    final Map<Long, RawNode> nodes = new HashMap<>();
    final Map<Long, MemoryLogStorage> storages = new HashMap<>();
    final List<Message> inFlight = new ArrayList<>();
    /** Nodes whose messages are dropped both ways. */
    final java.util.Set<Long> down = new java.util.HashSet<>();

    Net(PlantedBug bug) {
      for (long id = 1; id <= 3; id++) {
        MemoryLogStorage storage = new MemoryLogStorage(WITH_WITNESS);
        storages.put(id, storage);
        Config config = Config.defaults(id);
        nodes.put(id, new RawNode(bug == null ? config : config.withPlantedBug(bug), storage,
            7 * id));
      }
    }

    void round() {
      for (long id = 1; id <= 3; id++) {
        RawNode node = nodes.get(id);
        while (node.hasReady()) {
          Ready rd = node.ready();
          MemoryLogStorage storage = storages.get(id);
          if (rd.hardState() != null) {
            storage.setHardState(rd.hardState());
          }
          storage.append(rd.entries());
          inFlight.addAll(rd.messages());
          node.advance(rd);
          assertNotEquals(Role.LEADER, nodes.get(3L).status().role(), "a witness leads");
          assertNotEquals(Role.CANDIDATE, nodes.get(3L).status().role(), "a witness campaigns");
        }
      }
      List<Message> now = new ArrayList<>(inFlight);
      inFlight.clear();
      for (Message m : now) {
        if (!down.contains(m.from()) && !down.contains(m.to())) {
          nodes.get(m.to()).step(m);
        }
      }
    }

    void run(int ticks) {
      for (int t = 0; t < ticks; t++) {
        for (long id = 1; id <= 3; id++) {
          if (!down.contains(id)) {
            nodes.get(id).tick();
          }
        }
        for (int i = 0; i < 5; i++) {
          round();
        }
      }
    }

    long leader() {
      for (long id = 1; id <= 3; id++) {
        if (!down.contains(id) && nodes.get(id).status().role() == Role.LEADER) {
          return id;
        }
      }
      return 0;
    }

    Entry entry(long node, long index) {
      return storages.get(node).entries(index, index + 1, Long.MAX_VALUE).get(0);
    }
  }

  @Test
  void aWitnessVotesAndCommitsButNeverLeadsAndStoresNoPayloads() {
    Net net = new Net((PlantedBug) null);
    net.run(200);
    long leader = net.leader();
    assertTrue(leader == 1 || leader == 2, "leader " + leader);
    long other = 3 - leader;
    // With the other data voter down, the leader commits with the witness's acknowledgement.
    net.down.add(other);
    ProposeResult result = net.nodes.get(leader).propose("x".getBytes(StandardCharsets.UTF_8));
    long index = assertInstanceOf(ProposeResult.Accepted.class, result).index();
    net.run(5);
    assertTrue(net.nodes.get(leader).status().commit() >= index, "not committed");
    assertEquals("x", new String(net.entry(leader, index).data(), StandardCharsets.UTF_8));
    assertEquals(0, net.entry(3, index).data().length, "the witness holds a payload");
    assertEquals(index, net.entry(3, index).index());

    // The witness is never a transfer target, serves no reads, and changes only by removal.
    RawNode lead = net.nodes.get(leader);
    assertInstanceOf(ProposeResult.Rejected.class, lead.transferLeadership(3));
    assertInstanceOf(ProposeResult.Rejected.class,
        net.nodes.get(3L).readIndex(new byte[] {1}));
    assertInstanceOf(ProposeResult.Rejected.class, lead.proposeMembership(
        new MembershipChange(MembershipChange.Type.DEMOTE_VOTER, 3)));
    ProposeResult lastTwo = lead.proposeMembership(
        new MembershipChange(MembershipChange.Type.REMOVE, other));
    assertTrue(assertInstanceOf(ProposeResult.Rejected.class, lastTwo).reason()
        .contains("two"), lastTwo.toString());
    // Both rare paths are marked: the leader stripped the payload, the witness never runs.
    assertTrue(lead.coverage().hits(Mark.WITNESS_PAYLOAD_STRIPPED) > 0);
    net.nodes.get(3L).campaign();
    assertTrue(net.nodes.get(3L).coverage().hits(Mark.WITNESS_DID_NOT_CAMPAIGN) > 0);
    assertEquals(Role.FOLLOWER, net.nodes.get(3L).status().role());
  }

  /**
   * The leader commits an entry with the witness while the other data voter is down, then
   * dies; the other returns without the entry. The witness must refuse it its vote (its
   * metadata log is more up to date), so the group waits for the old leader rather than
   * losing a committed entry. The planted bug grants the vote, and the entry is lost.
   */
  @Test
  void aWitnessRefusesAStaleCandidateAndThePlantedBugElectsOne() {
    for (PlantedBug bug : new PlantedBug[] {null, PlantedBug.WITNESS_VOTES_WITHOUT_LOG_CHECK}) {
      Net net = new Net(bug);
      net.run(200);
      long leader = net.leader();
      long other = 3 - leader;
      net.down.add(other);
      long index = ((ProposeResult.Accepted) net.nodes.get(leader)
          .propose("committed".getBytes(StandardCharsets.UTF_8))).index();
      net.run(5);
      assertTrue(net.nodes.get(leader).status().commit() >= index);
      net.down.remove(other);
      net.down.add(leader);
      net.run(300);
      if (bug == null) {
        assertEquals(0, net.leader(), "the stale voter won with the witness's vote");
      } else {
        assertEquals(other, net.leader(), "the planted bug did not elect the stale voter");
        assertTrue(net.storages.get(other).lastIndex() < index
            || net.entry(other, index).data().length == 0, "the entry survived");
      }
    }
  }
}
