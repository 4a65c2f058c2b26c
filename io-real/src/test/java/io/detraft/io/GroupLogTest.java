package io.detraft.io;

import static io.detraft.io.WriteAheadLogTest.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupLogTest {
  private static final Membership BOOT = Membership.of(1, 2, 3);
  private static final Membership LATER = Membership.of(1, 2, 3, 4);

  private static WriteAheadLog.RecoveredGroup wal(long compactedIndex, long compactedTerm,
      long from, long to, long term, long commit) {
    return new WriteAheadLog.RecoveredGroup(1, new HardState(term, 0, commit), compactedIndex,
        compactedTerm, from > to ? List.of() : entries(from, to, term, 4));
  }

  @Test
  void aFreshLogHasTheEmptySnapshotOfItsBootstrapMembership() {
    GroupLog log = GroupLog.recover(BOOT, null, Snapshot.empty(BOOT));
    assertEquals(Snapshot.empty(BOOT), log.snapshot());
    assertEquals(1, log.firstIndex());
    assertEquals(0, log.lastIndex());
    assertFalse(log.needsReset());
  }

  @Test
  void recoversTheSnapshotAndTheEntriesKeptAroundIt() {
    Snapshot snapshot = new Snapshot(20, 2, LATER, new byte[] {7});
    GroupLog log = GroupLog.recover(BOOT, wal(15, 2, 16, 30, 2, 30), snapshot);
    assertEquals(snapshot.withoutData(), log.snapshot()); // the image stays in its file
    assertEquals(16, log.firstIndex());
    assertEquals(30, log.lastIndex());
    assertEquals(2, log.term(15));
    assertFalse(log.needsReset());
  }

  @Test
  void aSnapshotTheWalNeverRecordedRestartsTheLogAfterIt() {
    // A snapshot from the leader was saved, then the node crashed before the WAL's record.
    Snapshot snapshot = new Snapshot(50, 3, LATER, new byte[] {7});
    GroupLog behind = GroupLog.recover(BOOT, wal(0, 0, 1, 10, 1, 8), snapshot);
    assertTrue(behind.needsReset());
    assertEquals(51, behind.firstIndex());
    assertEquals(50, behind.lastIndex());
    assertEquals(3, behind.term(50));
    assertEquals(new HardState(3, 0, 8), behind.hardState()); // at least the snapshot's term
    // Its log reaches the index, but in another term: conflicting entries go too.
    GroupLog conflicting = GroupLog.recover(BOOT, wal(0, 0, 1, 60, 2, 8), snapshot);
    assertTrue(conflicting.needsReset());
    assertEquals(50, conflicting.lastIndex());
  }

  @Test
  void aWalCompactedPastTheNewestSnapshotRefuses() {
    var error = assertThrows(IllegalStateException.class,
        () -> GroupLog.recover(BOOT, wal(30, 2, 31, 40, 2, 40),
            new Snapshot(20, 2, BOOT, new byte[0])));
    assertTrue(error.getMessage().contains("compacted up to 30"), error.getMessage());
    assertThrows(IllegalStateException.class,
        () -> GroupLog.recover(BOOT, wal(30, 2, 31, 40, 2, 40), Snapshot.empty(BOOT)));
  }

  @Test
  void takesSnapshotsCompactsBehindThemAndInstallsReceivedOnes() {
    GroupLog log = GroupLog.recover(BOOT, wal(0, 0, 1, 30, 1, 30), Snapshot.empty(BOOT));
    Snapshot taken = new Snapshot(25, 1, BOOT, new byte[] {1});
    log.setSnapshot(taken);
    assertThrows(IllegalArgumentException.class, () -> log.compact(26));
    log.compact(20);
    assertEquals(21, log.firstIndex());
    assertEquals(1, log.term(20));
    assertEquals(taken.withoutData(), log.snapshot());
    assertThrows(IllegalStateException.class, () -> log.append(entries(25, 25, 2, 4)));
    Snapshot received = new Snapshot(100, 4, LATER, new byte[] {2});
    log.installSnapshot(received);
    assertEquals(101, log.firstIndex());
    assertEquals(100, log.lastIndex());
    assertEquals(4, log.term(100));
    log.append(entries(101, 102, 4, 4));
    assertEquals(entries(101, 102, 4, 4), log.entries(101, 103, Long.MAX_VALUE));
  }
}
