package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferedDiskTest {
  static final SimOptions.DiskOptions ALWAYS_TORN =
      new SimOptions.DiskOptions(1000, 2000, 1.0, false);

  private static DiskRecord append(long index) {
    return DiskRecord.of(1, List.of(Entry.normal(1, index, new byte[] {(byte) index})));
  }

  @Test
  void syncedWritesSurviveACrash() {
    BufferedDisk disk = new BufferedDisk(ALWAYS_TORN, new SimRandom(1));
    disk.write(append(1));
    disk.write(DiskRecord.of(1, new HardState(1, 1, 1)));
    long latency = disk.startSync();
    assertTrue(latency >= 1000 && latency <= 2000, "latency " + latency);
    disk.completeSync();
    disk.crash();
    List<DiskRecord> read = disk.recover();
    assertEquals(2, read.size());
    assertFalse(read.get(1).torn());
  }

  /** Replays records like a restarting node: a torn record must be the last one. */
  private static long replayedEntries(List<DiskRecord> read) {
    long last = 0;
    for (int i = 0; i < read.size(); i++) {
      DiskRecord record = read.get(i);
      if (record.torn()) {
        assertEquals(read.size() - 1, i, "only the last record may be torn");
        break;
      }
      if (!record.entries().isEmpty()) {
        assertTrue(record.entries().get(0).index() <= last + 1, "no gaps");
        last = record.entries().get(record.entries().size() - 1).index();
      }
    }
    return last;
  }

  @Test
  void aCrashKeepsAPrefixOfUnsyncedWritesAndMayTearItsLast() {
    boolean sawLoss = false;
    boolean sawTear = false;
    for (long seed = 1; seed <= 50; seed++) {
      BufferedDisk disk = new BufferedDisk(ALWAYS_TORN, new SimRandom(seed));
      disk.write(append(1));
      disk.startSync();
      disk.completeSync();
      for (long i = 2; i <= 5; i++) {
        disk.write(append(i));
      }
      disk.startSync(); // Never completes: the crash comes first.
      disk.crash();
      List<DiskRecord> read = disk.recover();
      long kept = replayedEntries(read);
      assertTrue(kept >= 1 && kept <= 5, "the synced entry survives: " + kept);
      assertFalse(read.get(0).torn(), "a synced record is never torn");
      sawLoss |= kept < 5;
      if (read.get(read.size() - 1).torn()) {
        sawTear = true;
        // The torn tail was cut off the medium once read; the rest stays.
        assertEquals(kept, replayedEntries(disk.recover()));
      }
    }
    assertTrue(sawLoss && sawTear);
  }

  @Test
  void anUncompletedSyncMakesNothingDurable() {
    BufferedDisk disk = new BufferedDisk(new SimOptions.DiskOptions(0, 0, 0, false), new SimRandom(7));
    disk.write(append(1));
    disk.startSync();
    assertEquals(1, disk.cachedCount());
    disk.completeSync();
    assertEquals(0, disk.cachedCount());
  }

  @Test
  void truncatingAppendsFoldIntoThePlatter() {
    BufferedDisk disk = new BufferedDisk(new SimOptions.DiskOptions(0, 0, 0, false), new SimRandom(3));
    disk.write(append(1));
    disk.write(append(2));
    disk.write(DiskRecord.of(1, List.of(Entry.normal(2, 2, new byte[] {9}))));
    disk.write(DiskRecord.of(1, new HardState(2, 0, 1)));
    disk.startSync();
    disk.completeSync();
    disk.crash();
    List<DiskRecord> read = disk.recover();
    assertEquals(2, read.size());
    assertEquals(List.of(Entry.normal(1, 1, new byte[] {1}), Entry.normal(2, 2, new byte[] {9})),
        read.get(0).entries());
    assertEquals(new HardState(2, 0, 1), read.get(1).hardState());
  }

  private static Snapshot snapshot(long index, long term) {
    return new Snapshot(index, term, Membership.of(1, 2, 3), new byte[] {(byte) index});
  }

  private static BufferedDisk syncedDisk(DiskRecord... records) {
    BufferedDisk disk = new BufferedDisk(new SimOptions.DiskOptions(0, 0, 0, false), new SimRandom(4));
    for (DiskRecord record : records) {
      disk.write(record);
    }
    disk.startSync();
    disk.completeSync();
    disk.crash();
    return disk;
  }

  @Test
  void aSnapshotTakenCompactsTheLogBehindItAndKeepsWhatFollows() {
    BufferedDisk disk = syncedDisk(append(1), append(2), append(3),
        DiskRecord.taken(1, snapshot(2, 1)), DiskRecord.of(1, new HardState(1, 1, 3)));
    assertEquals(List.of(DiskRecord.installed(1, snapshot(2, 1)),
        DiskRecord.of(1, List.of(Entry.normal(1, 3, new byte[] {3}))),
        DiskRecord.of(1, new HardState(1, 1, 3))), disk.recover());
  }

  @Test
  void anInstalledSnapshotReplacesTheWholeLog() {
    BufferedDisk disk = syncedDisk(append(1), append(2), append(3),
        DiskRecord.installed(1, snapshot(7, 2)),
        DiskRecord.of(1, List.of(Entry.normal(2, 8, new byte[0]))));
    assertEquals(List.of(DiskRecord.installed(1, snapshot(7, 2)),
        DiskRecord.of(1, List.of(Entry.normal(2, 8, new byte[0])))), disk.recover());
  }

  @Test
  void groupsKeepTheirOwnLogs() {
    BufferedDisk disk = syncedDisk(append(1),
        DiskRecord.of(2, List.of(Entry.normal(1, 1, new byte[] {5}))),
        DiskRecord.taken(2, snapshot(1, 1)), append(2));
    List<DiskRecord> read = disk.recover();
    assertEquals(List.of(DiskRecord.of(1, List.of(Entry.normal(1, 1, new byte[] {1}),
        Entry.normal(1, 2, new byte[] {2}))), DiskRecord.installed(2, snapshot(1, 1))), read);
  }

  @Test
  void aTornSnapshotRecordIsReturnedAsTornAndThenCutOff() {
    boolean sawTornSnapshot = false;
    for (long seed = 1; seed <= 20 && !sawTornSnapshot; seed++) {
      BufferedDisk disk = new BufferedDisk(ALWAYS_TORN, new SimRandom(seed));
      disk.write(append(1));
      disk.startSync();
      disk.completeSync();
      disk.write(DiskRecord.taken(1, snapshot(1, 1)));
      disk.crash();
      List<DiskRecord> read = disk.recover();
      DiskRecord last = read.get(read.size() - 1);
      sawTornSnapshot = last.torn() && last.isSnapshot();
      if (sawTornSnapshot) {
        assertEquals(List.of(append(1)), disk.recover());
      }
    }
    assertTrue(sawTornSnapshot);
  }
}
