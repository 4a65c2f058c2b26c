package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Several groups on each of three hosts, one batch per host, and disaster recovery. */
class RaftHostTest {
  static final int GROUPS = 4;

  /** Hosts that deliver every message at once, in order. */
  static final class Hosts {
    final TreeMap<Long, RaftHost> hosts = new TreeMap<>();
    final TreeMap<String, MemoryLogStorage> storages = new TreeMap<>();
    final TreeMap<String, List<Entry>> applied = new TreeMap<>();
    /** Each replica's state machine, given the committed entries that carry data. */
    final TreeMap<String, SessionStateMachineTest.Appender> machines = new TreeMap<>();
    final List<Message> network = new ArrayList<>();
    int batches;

    void add(long node, long group, MemoryLogStorage storage) {
      hosts.computeIfAbsent(node, RaftHost::new)
          .addGroup(Config.defaults(node).withGroup(group), storage, node * 100 + group,
              storage.snapshot().index());
      storages.put(node + "/" + group, storage);
      applied.put(node + "/" + group, new ArrayList<>());
      SessionStateMachineTest.Appender machine = new SessionStateMachineTest.Appender();
      machine.restore(storage.snapshot().data()); // A host starts from its stored snapshot.
      machines.put(node + "/" + group, machine);
    }

    void run(int rounds) {
      for (int i = 0; i < rounds; i++) {
        for (RaftHost host : hosts.values()) {
          host.tick();
        }
        deliverUntilQuiet();
      }
    }

    void deliverUntilQuiet() {
      boolean busy = true;
      while (busy) {
        busy = false;
        for (var e : hosts.entrySet()) {
          RaftHost host = e.getValue();
          if (!host.hasReady()) {
            continue;
          }
          busy = true;
          RaftHost.Batch batch = host.ready();
          batches++;
          // One persistence pass for every group of the host (one fsync in a real host).
          for (RaftHost.GroupReady g : batch.groups()) {
            MemoryLogStorage s = storages.get(e.getKey() + "/" + g.group());
            if (g.ready().hardState() != null) {
              s.setHardState(g.ready().hardState());
            }
            if (g.ready().snapshot() != null) {
              s.installSnapshot(g.ready().snapshot());
              machines.get(e.getKey() + "/" + g.group()).restore(g.ready().snapshot().data());
            }
            s.append(g.ready().entries());
            applied.get(e.getKey() + "/" + g.group()).addAll(g.ready().committedEntries());
            for (Entry committed : g.ready().committedEntries()) {
              if (committed.type() == EntryType.NORMAL && committed.data().length > 0) {
                machines.get(e.getKey() + "/" + g.group()).apply(committed.index(),
                    committed.data());
              }
            }
          }
          network.addAll(batch.messages());
          host.advance(batch);
        }
        List<Message> inFlight = new ArrayList<>(network);
        network.clear();
        for (Message m : inFlight) {
          RaftHost target = hosts.get(m.to());
          if (target != null) {
            target.step(m);
            busy = true;
          }
        }
      }
    }

    long leaderOf(long group) {
      for (var e : hosts.entrySet()) {
        RawNode node = e.getValue().group(group);
        if (node != null && node.status().role() == Role.LEADER) {
          return e.getKey();
        }
      }
      return 0;
    }
  }

  /** Three hosts of {@link #GROUPS} groups each, run until every group has elected. */
  private static Hosts electedGroups() {
    Hosts cluster = new Hosts();
    for (long node = 1; node <= 3; node++) {
      for (long group = 1; group <= GROUPS; group++) {
        cluster.add(node, group, new MemoryLogStorage(Membership.of(1, 2, 3)));
      }
    }
    cluster.run(60);
    return cluster;
  }

  @Test
  void groupsElectIndependentlyAndShareBatches() {
    Hosts cluster = electedGroups();
    for (long group = 1; group <= GROUPS; group++) {
      long leader = cluster.leaderOf(group);
      assertNotEquals(0, leader, "group " + group + " has no leader");
      assertInstanceOf(ProposeResult.Accepted.class,
          cluster.hosts.get(leader).group(group).propose(("g" + group).getBytes()));
    }
    cluster.run(5);
    for (long group = 1; group <= GROUPS; group++) {
      for (long node = 1; node <= 3; node++) {
        List<Entry> a = cluster.applied.get(node + "/" + group);
        assertEquals("g" + group, new String(a.get(a.size() - 1).data()),
            "node " + node + " group " + group);
      }
    }
    // Messages for a group the host does not run are dropped and counted, not fatal.
    cluster.hosts.get(1L).step(new Message.HeartbeatResponse(99, 2, 1, 1, 0));
    assertEquals(1, cluster.hosts.get(1L).unroutableMessages());
    RaftHost host = cluster.hosts.get(1L);
    assertThrows(Invariants.Violation.class,
        () -> host.addGroup(Config.defaults(2).withGroup(7), new MemoryLogStorage(
            Membership.of(1)), 1, 0));
  }

  /**
   * A host asks only the groups that had an input since they last had nothing to do; an input
   * through any door (here a proposal made on the replica itself, between rounds) makes its
   * group ready again, and the others stay out of the batch.
   */
  @Test
  void onlyGroupsWithAnInputSinceTheirLastIdleCheckAreAsked() {
    Hosts cluster = electedGroups();
    long leader = cluster.leaderOf(3);
    RaftHost host = cluster.hosts.get(leader);
    assertTrue(!host.hasReady(), "quiet between ticks");
    for (long group = 1; group <= GROUPS; group++) {
      assertTrue(!host.group(group).touched, "group " + group + " was found idle");
    }
    assertInstanceOf(ProposeResult.Accepted.class, host.group(3).propose("x".getBytes()));
    assertTrue(host.group(3).touched);
    assertTrue(host.hasReady());
    RaftHost.Batch batch = host.ready();
    assertEquals(List.of(3L), batch.groups().stream().map(RaftHost.GroupReady::group).toList());
    host.advance(batch);
  }

  @Test
  void aGroupThatLostItsQuorumIsRebuiltFromAnExportedSnapshot() {
    Hosts old = new Hosts();
    for (long node = 1; node <= 3; node++) {
      old.add(node, 1, new MemoryLogStorage(Membership.of(1, 2, 3)));
    }
    old.run(60);
    long leader = old.leaderOf(1);
    for (int i = 0; i < 5; i++) {
      old.hosts.get(leader).group(1).propose(("v" + i).getBytes());
    }
    old.run(5);
    // Node 1 survives; nodes 2 and 3 are lost for good. Export node 1's snapshot.
    MemoryLogStorage survivor = old.storages.get("1/1");
    long appliedIndex = old.applied.get("1/1").size();
    assertEquals(List.of("v0", "v1", "v2", "v3", "v4"), old.machines.get("1/1").applied);
    Snapshot exported = survivor.createSnapshot(appliedIndex, Membership.of(1, 2, 3),
        old.machines.get("1/1").snapshot());
    long term = survivor.hardState().term() + 1;

    Hosts rebuilt = new Hosts();
    Membership fresh = Membership.of(1, 4, 5);
    for (long node : fresh.voters()) {
      rebuilt.add(node, 1, UnsafeRecovery.rebuild(exported, fresh, term));
    }
    rebuilt.run(60);
    long newLeader = rebuilt.leaderOf(1);
    assertNotEquals(0, newLeader);
    RawNode node = rebuilt.hosts.get(newLeader).group(1);
    assertTrue(node.status().term() > term - 1);
    assertInstanceOf(ProposeResult.Accepted.class, node.propose("after".getBytes()));
    rebuilt.run(5);
    for (long n : fresh.voters()) {
      List<Entry> a = rebuilt.applied.get(n + "/1");
      assertEquals("after", new String(a.get(a.size() - 1).data()), "node " + n);
      assertTrue(a.get(0).index() > exported.index(), "replayed entries behind the snapshot");
      // The rebuilt state machine is the exported one, plus what committed since.
      assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "after"),
          rebuilt.machines.get(n + "/1").applied, "node " + n);
    }
    assertThrows(Invariants.Violation.class,
        () -> UnsafeRecovery.rebuild(exported, fresh, exported.term()));
  }
}
