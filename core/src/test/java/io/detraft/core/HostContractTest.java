package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * What a host may rely on, and what it must not do: the preconditions of RawNode, RaftHost
 * and MemoryLogStorage (each checked at its boundary: the last argument accepted and the
 * first refused), and the value semantics of the records it handles.
 */
class HostContractTest {

  private static void refused(Executable call) {
    assertThrows(Invariants.Violation.class, call);
  }

  private static MemoryLogStorage storageWith(long term, int entries) {
    MemoryLogStorage s = new MemoryLogStorage(Membership.of(1));
    for (int i = 1; i <= entries; i++) {
      s.append(List.of(Entry.normal(term, i, new byte[] {(byte) i})));
    }
    return s;
  }

  // ---------------------------------------------------------------- RawNode

  /** A lone voter that leads, with every Ready handled. */
  private static RawNode leader(MemoryLogStorage storage) {
    RawNode node = new RawNode(Config.defaults(1), storage, 7, 0);
    node.campaign();
    drain(node, storage);
    assertEquals(Role.LEADER, node.status().role());
    return node;
  }

  private static void drain(RawNode node, MemoryLogStorage storage) {
    while (node.hasReady()) {
      Ready ready = node.ready();
      if (ready.hardState() != null) {
        storage.setHardState(ready.hardState());
      }
      storage.append(ready.entries());
      node.advance(ready);
    }
  }

  @Test
  void everyRawNodeCallRefusesWhileAReadyIsOutstanding() {
    MemoryLogStorage storage = new MemoryLogStorage(Membership.of(1));
    RawNode node = leader(storage);
    node.propose(new byte[] {1});
    Ready outstanding = node.ready();
    assertFalse(node.hasReady()); // Nothing more until the host advanced.
    List<Executable> calls = List.of(node::tick, node::campaign, node::ready,
        () -> node.propose(new byte[] {2}),
        () -> node.proposeMembership(new MembershipChange(MembershipChange.Type.ADD_LEARNER, 2)),
        () -> node.transferLeadership(1), () -> node.readIndex(new byte[] {3}),
        () -> node.step(new Message.HeartbeatResponse(1, 2, 1, 1, 0)));
    for (Executable call : calls) {
      refused(call);
    }
    // Only the very Ready handed out may be advanced.
    refused(() -> node.advance(null));
    refused(() -> node.advance(new Ready(null, null, null, List.of(), List.of(), List.of(),
        List.of(), false, false)));
    storage.append(outstanding.entries());
    node.advance(outstanding);
    node.tick(); // Accepted again.
    refused(() -> node.advance(outstanding)); // Not twice.
  }

  @Test
  void snapshotIndexIsWhereTheLogStarts() {
    MemoryLogStorage storage = storageWith(1, 6);
    storage.setHardState(new HardState(1, 0, 6));
    storage.createSnapshot(4, Membership.of(1), new byte[] {9});
    storage.compact(4);
    RawNode node = new RawNode(Config.defaults(1), storage, 7, 4);
    assertEquals(4, node.snapshotIndex());
    assertEquals(Membership.of(1), node.membershipAt(5));
  }

  // ---------------------------------------------------------------- RaftHost

  @Test
  void aHostNeedsAPositiveNodeIdAndItsOwnConfigs() {
    refused(() -> new RaftHost(0));
    RaftHost host = new RaftHost(1);
    refused(() -> host.addGroup(Config.defaults(2).withGroup(1),
        new MemoryLogStorage(Membership.of(2)), 1, 0));
    RawNode first = host.addGroup(Config.defaults(1).withGroup(1),
        new MemoryLogStorage(Membership.of(1)), 1, 0);
    assertSame(first, host.group(1));
    refused(() -> host.addGroup(Config.defaults(1).withGroup(1),
        new MemoryLogStorage(Membership.of(1)), 1, 0));
    assertEquals(List.of(1L), host.groupIds());
  }

  @Test
  void everyRaftHostCallRefusesWhileABatchIsOutstanding() {
    RaftHost host = new RaftHost(1);
    host.addGroup(Config.defaults(1).withGroup(1), new MemoryLogStorage(Membership.of(1)), 1, 0);
    host.group(1).campaign();
    assertTrue(host.hasReady());
    RaftHost.Batch batch = host.ready();
    assertFalse(host.hasReady());
    List<Executable> calls = List.of(host::tick, host::ready, () -> host.removeGroup(1),
        () -> host.addGroup(Config.defaults(1).withGroup(2),
            new MemoryLogStorage(Membership.of(1)), 2, 0),
        () -> host.step(new Message.HeartbeatResponse(1, 2, 1, 1, 0)));
    for (Executable call : calls) {
      refused(call);
    }
    refused(() -> host.advance(null));
    refused(() -> host.advance(new RaftHost.Batch(List.of())));
    host.advance(batch);
    host.tick();
  }

  /** The batch holds every group, also those with nothing to do in it. */
  @Test
  void aGroupOutsideTheOutstandingBatchIsRefusedToo() {
    RaftHost host = new RaftHost(1);
    for (long g = 1; g <= 2; g++) {
      host.addGroup(Config.defaults(1).withGroup(g), new MemoryLogStorage(Membership.of(1)),
          g, 0);
    }
    host.group(1).campaign();
    RaftHost.Batch batch = host.ready();
    assertEquals(1, batch.groups().size()); // Group 2 had no Ready.
    refused(host::tick);
    refused(() -> host.step(new Message.HeartbeatResponse(2, 2, 1, 1, 0)));
    host.advance(batch);
    // Even a batch with no group in it is outstanding until advanced.
    RaftHost.Batch empty = host.ready();
    assertEquals(List.of(), empty.groups());
    refused(host::tick);
    refused(() -> host.step(new Message.HeartbeatResponse(2, 2, 1, 1, 0)));
    host.advance(empty);
    host.tick();
  }

  @Test
  void aRemovedGroupIsNoLongerTickedNorStepped() {
    RaftHost host = new RaftHost(1);
    for (long g = 1; g <= 2; g++) {
      host.addGroup(Config.defaults(1).withGroup(g), new MemoryLogStorage(Membership.of(1)),
          g, 0);
    }
    RawNode removed = host.group(2);
    host.removeGroup(2);
    assertEquals(List.of(1L), host.groupIds());
    assertEquals(null, host.group(2));
    for (int i = 0; i < 3 * Config.defaults(1).electionTimeoutTicks(); i++) {
      host.tick();
      while (host.hasReady()) {
        host.advance(host.ready());
      }
    }
    // Group 1 elected itself; the removed replica never saw a tick.
    assertEquals(Role.LEADER, host.group(1).status().role());
    assertEquals(0, removed.status().term());
    host.step(new Message.HeartbeatResponse(2, 2, 1, 1, 0));
    assertEquals(1, host.unroutableMessages());
  }

  @Test
  void aBatchSplitsMessagesIntoEarlyAndAfterTheFsync() {
    // A leader of three in a steady term: its appends may leave before its fsync, the
    // vote requests of a candidate may not.
    Ready leaderReady = new Ready(null, null, null, List.of(), List.of(),
        List.of(new Message.Heartbeat(1, 1, 2, 3, 0, 1),
            new Message.VoteResponse(1, 1, 3, 3, true, false)),
        List.of(), true, true);
    Ready candidateReady = new Ready(null, null, null, List.of(), List.of(),
        List.of(new Message.VoteRequest(2, 1, 2, 4, 0, 0, false, false)), List.of(), true,
        false);
    RaftHost.Batch batch = new RaftHost.Batch(List.of(new RaftHost.GroupReady(1, leaderReady),
        new RaftHost.GroupReady(2, candidateReady)));
    assertEquals(List.of(leaderReady.messages().get(0)), batch.messages(true));
    assertEquals(List.of(leaderReady.messages().get(1), candidateReady.messages().get(0)),
        batch.messages(false));
  }

  @Test
  void onlyALeadersReplicationMayLeaveBeforeTheFsync() {
    Membership three = Membership.of(1, 2, 3);
    List<Message> replication = List.of(new Message.Heartbeat(1, 1, 2, 3, 0, 1),
        new Message.AppendRequest(1, 1, 2, 3, 0, 0, List.of(), 0),
        new Message.InstallSnapshot(1, 1, 2, 3, 5, 2, three, 1, 0, new byte[] {1}, true));
    List<Message> promises = List.of(new Message.VoteResponse(1, 1, 2, 3, true, false),
        new Message.AppendResponse(1, 1, 2, 3, false, 4, 0, 0),
        new Message.VoteRequest(1, 1, 2, 3, 0, 0, false, false));
    Ready steady = new Ready(null, null, null, List.of(), List.of(), List.of(), List.of(), true,
        true);
    Ready newTerm = new Ready(null, null, null, List.of(), List.of(), List.of(), List.of(), true,
        false);
    for (Message m : replication) {
      assertTrue(steady.maySendBeforeSync(m), m::toString);
      assertFalse(newTerm.maySendBeforeSync(m), m::toString);
    }
    for (Message m : promises) {
      assertFalse(steady.maySendBeforeSync(m), m::toString);
    }
  }

  // ---------------------------------------------------------------- MemoryLogStorage

  @Test
  void memoryStorageChecksItsArgumentsAtTheirBoundaries() {
    refused(() -> new MemoryLogStorage(null));
    MemoryLogStorage s = storageWith(2, 5);
    refused(() -> s.setHardState(null));
    refused(() -> s.setMembership(null));
    s.setMembership(Membership.of(1, 2));
    assertEquals(Membership.of(1, 2), s.membership());
    s.setHardState(new HardState(2, 1, 5));
    assertEquals(new HardState(2, 1, 5), s.hardState());

    // term: [base, last]
    assertEquals(0, s.term(0));
    assertEquals(2, s.term(5));
    refused(() -> s.term(6));
    refused(() -> s.term(-1));

    // entries: first <= lo <= hi <= last + 1
    assertEquals(5, s.entries(1, 6, Long.MAX_VALUE).size());
    assertEquals(List.of(), s.entries(6, 6, Long.MAX_VALUE));
    refused(() -> s.entries(0, 2, Long.MAX_VALUE));
    refused(() -> s.entries(3, 2, Long.MAX_VALUE));
    refused(() -> s.entries(1, 7, Long.MAX_VALUE));

    // createSnapshot: newer than the last one, at most the last index
    refused(() -> s.createSnapshot(0, Membership.of(1), null));
    refused(() -> s.createSnapshot(6, Membership.of(1), null));
    assertEquals(5, s.createSnapshot(5, Membership.of(1), null).index());
    assertEquals(2, s.snapshot().term());
    refused(() -> s.createSnapshot(5, Membership.of(1), null));

    // compact: up to the snapshot; at or below the base it does nothing
    MemoryLogStorage c = storageWith(3, 5);
    c.createSnapshot(3, Membership.of(1), null);
    refused(() -> c.compact(4));
    c.compact(3);
    assertEquals(4, c.firstIndex());
    assertEquals(3, c.term(3));
    refused(() -> c.term(2));
    c.compact(3);
    c.compact(1);
    // A second compaction counts from the new base.
    MemoryLogStorage twice = storageWith(3, 8);
    twice.createSnapshot(6, Membership.of(1), null);
    twice.compact(2);
    twice.compact(5);
    assertEquals(6, twice.firstIndex());
    assertEquals(8, twice.lastIndex());
    assertEquals(List.of(Entry.normal(3, 6, new byte[] {6})), twice.entries(6, 7, 100));
    assertEquals(4, c.firstIndex());
    assertEquals(5, c.lastIndex());

    // truncateFrom and append: never into the compacted prefix
    refused(() -> c.truncateFrom(3));
    refused(() -> c.append(List.of(Entry.normal(3, 3, null))));
    c.append(List.of(Entry.normal(4, 4, null)));
    assertEquals(4, c.lastIndex());
    assertEquals(4, c.term(4));
    c.truncateFrom(4);
    assertEquals(3, c.lastIndex());
    refused(() -> c.append(List.of(Entry.normal(4, 4, null), Entry.normal(4, 6, null))));
  }

  @Test
  void memoryStorageEntriesStopAtTheByteBudgetButReturnAtLeastOne() {
    MemoryLogStorage s = storageWith(1, 4);
    long one = Entry.normal(1, 1, new byte[] {1}).sizeBytes();
    assertEquals(1, s.entries(1, 5, 0).size());
    assertEquals(1, s.entries(1, 5, one).size());
    assertEquals(2, s.entries(1, 5, 2 * one).size());
    assertEquals(2, s.entries(1, 5, 3 * one - 1).size());
    assertEquals(List.of(Entry.normal(1, 2, new byte[] {2}), Entry.normal(1, 3, new byte[] {3})),
        s.entries(2, 4, Long.MAX_VALUE));
  }

  @Test
  void anInstalledSnapshotReplacesTheLogOnlyIfNewer() {
    MemoryLogStorage s = storageWith(1, 3);
    Snapshot received = new Snapshot(7, 2, Membership.of(1, 2), new byte[] {5});
    s.installSnapshot(received); // Over an empty snapshot: always.
    assertEquals(8, s.firstIndex());
    assertEquals(7, s.lastIndex());
    assertEquals(2, s.term(7));
    assertEquals(Membership.of(1, 2), s.membership());
    assertSame(received, s.snapshot());
    refused(() -> s.installSnapshot(new Snapshot(7, 2, Membership.of(1, 2), null)));
    refused(() -> s.installSnapshot(new Snapshot(6, 2, Membership.of(1, 2), null)));
    s.installSnapshot(new Snapshot(8, 3, Membership.of(1), null));
    assertEquals(8, s.lastIndex());
  }

  // ---------------------------------------------------------------- records

  /** Equal values are equal with equal hashes; each field tells values apart. */
  private static <T> void valueSemantics(T value, T same, List<T> different) {
    assertEquals(value, same);
    assertEquals(value.hashCode(), same.hashCode());
    assertEquals(value.toString(), same.toString());
    assertNotEquals(value, "not a " + value.getClass().getSimpleName());
    assertNotEquals(value, null);
    for (T other : different) {
      assertNotEquals(value, other, other::toString);
    }
  }

  /** Hashes spread: a hundred values that differ in one field get many distinct hashes. */
  private static void spreads(java.util.function.IntFunction<Object> value) {
    Set<Integer> hashes = new HashSet<>();
    for (int i = 1; i <= 100; i++) {
      hashes.add(value.apply(i).hashCode());
    }
    assertTrue(hashes.size() > 90, () -> hashes.size() + " distinct hashes of 100");
  }

  @Test
  void entriesAreValues() {
    Entry e = Entry.normal(2, 5, new byte[] {1, 2});
    valueSemantics(e, Entry.normal(2, 5, new byte[] {1, 2}), List.of(
        Entry.normal(3, 5, new byte[] {1, 2}), Entry.normal(2, 6, new byte[] {1, 2}),
        new Entry(2, 5, EntryType.CONFIG_CHANGE, new byte[] {1, 2}),
        Entry.normal(2, 5, new byte[] {1, 3})));
    assertEquals("Entry{5@2 2B}", e.toString());
    assertEquals("Entry{5@2 CONFIG_CHANGE 0B}",
        new Entry(2, 5, EntryType.CONFIG_CHANGE, null).toString());
    assertEquals(24 + 2, e.sizeBytes());
    spreads(i -> Entry.normal(i, 1, null));
    spreads(i -> Entry.normal(1, i, null));
    spreads(i -> Entry.normal(1, 1, new byte[] {(byte) i}));
    refused(() -> Entry.normal(0, 1, null));
    refused(() -> Entry.normal(1, 0, null));
    refused(() -> new Entry(1, 1, null, null));
  }

  @Test
  void snapshotsAreValues() {
    Snapshot s = new Snapshot(5, 2, Membership.of(1, 2), new byte[] {7});
    valueSemantics(s, new Snapshot(5, 2, Membership.of(1, 2), new byte[] {7}), List.of(
        new Snapshot(6, 2, Membership.of(1, 2), new byte[] {7}),
        new Snapshot(5, 3, Membership.of(1, 2), new byte[] {7}),
        new Snapshot(5, 2, Membership.of(1), new byte[] {7}),
        new Snapshot(5, 2, Membership.of(1, 2), new byte[] {8})));
    assertEquals("Snapshot{5@2 " + Membership.of(1, 2) + " 1B}", s.toString());
    spreads(i -> new Snapshot(i, 1, Membership.of(1), null));
    spreads(i -> new Snapshot(1, 1, Membership.of(1), new byte[] {(byte) i}));
    assertTrue(Snapshot.empty(Membership.of(1)).isEmpty());
    assertFalse(s.isEmpty());
  }

  @Test
  void readStatesAreValues() {
    ReadState r = new ReadState(4, new byte[] {1, 2, 3});
    valueSemantics(r, new ReadState(4, new byte[] {1, 2, 3}), List.of(
        new ReadState(5, new byte[] {1, 2, 3}), new ReadState(4, new byte[] {1, 2})));
    assertEquals("ReadState{4 3B}", r.toString());
    spreads(i -> new ReadState(i, new byte[0]));
    spreads(i -> new ReadState(1, new byte[] {(byte) i}));
  }

  @Test
  void coverageAddsUpAndReportsEveryMark() {
    Coverage a = new Coverage();
    Coverage b = new Coverage();
    a.hit(Mark.values()[0]);
    b.hit(Mark.values()[0]);
    b.hit(Mark.values()[0]);
    Mark last = Mark.values()[Mark.values().length - 1];
    b.hit(last);
    a.addAll(b);
    assertEquals(3, a.hits(Mark.values()[0]));
    assertEquals(1, a.hits(last));
    assertEquals(2, b.hits(Mark.values()[0])); // The other is left as it was.
    assertEquals(Mark.values().length, a.asMap().size());
    assertEquals(1L, a.asMap().get(last));
  }

  // ---------------------------------------------------------------- leaf checks

  @Test
  void anInflightWindowChecksItsCapacityAndOrderAcrossTheWrap() {
    refused(() -> new Inflights(0));
    Inflights one = new Inflights(1);
    one.add(3);
    assertTrue(one.full());
    one.freeFirst();
    one.freeFirst(); // Nothing left to free: still empty, not negative.
    assertEquals(0, one.count());
    one.add(2); // Empty again: any index goes.
    Inflights window = new Inflights(3);
    window.add(1);
    window.add(2);
    window.add(3);
    window.freeFirst();
    window.freeFirst();
    window.add(4); // Wraps to slot 0; the newest before it sits in slot 2.
    refused(() -> window.add(4));
    window.add(5);
    assertTrue(window.full());
    window.freeUpTo(4);
    assertEquals(1, window.count()); // 5 is left, the oldest being at slot 1.
    refused(() -> window.add(5));
    window.add(6);
    window.freeFirst();
    window.freeUpTo(5);
    assertEquals(1, window.count());
    window.freeUpTo(6);
    assertEquals(0, window.count());
  }

  @Test
  void prngDrawsStayInTheirRange() {
    Prng prng = new Prng(42);
    refused(() -> prng.nextLong(0));
    assertEquals(0, prng.nextLong(1));
    double sum = 0;
    for (int i = 0; i < 10_000; i++) {
      double d = prng.nextDouble();
      assertTrue(d >= 0 && d < 1, () -> Double.toString(d));
      sum += d;
      long bounded = prng.nextLong(7);
      assertTrue(bounded >= 0 && bounded < 7);
    }
    assertEquals(0.5, sum / 10_000, 0.02);
    assertFalse(prng.chance(0));
    assertTrue(prng.chance(1));
  }

  @Test
  void anIncomingSnapshotTakesChunksUpToItsTotal() {
    IncomingSnapshot incoming = new IncomingSnapshot(5, 2, 6);
    incoming.append(new byte[] {1, 2});
    incoming.append(new byte[] {3, 4, 5, 6}); // Exactly the total.
    refused(() -> incoming.append(new byte[] {7}));
    assertEquals(6, incoming.size());
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, incoming.bytes());
  }

  @Test
  void unsafeRecoveryNeedsASnapshotAVoterAndAHigherTerm() {
    Snapshot exported = new Snapshot(9, 3, Membership.of(1, 2, 3), new byte[] {1});
    refused(() -> UnsafeRecovery.rebuild(Snapshot.empty(Membership.of(1)), Membership.of(1), 4));
    refused(() -> UnsafeRecovery.rebuild(exported, new Membership(new long[0], new long[] {1}),
        4));
    refused(() -> UnsafeRecovery.rebuild(exported, Membership.of(1), 3));
    MemoryLogStorage rebuilt = UnsafeRecovery.rebuild(exported, Membership.of(1), 4);
    assertEquals(Membership.of(1), rebuilt.snapshot().membership());
    assertEquals(new HardState(4, 0, 9), rebuilt.hardState());
    assertEquals(9, rebuilt.lastIndex());
  }
}
