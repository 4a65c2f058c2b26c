package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.io.Disk;
import io.detraft.io.StorageCorruptionException;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulated disk keeps POSIX's promises and no more, and the node's real WAL, run on it,
 * survives what it does at a crash: lost and torn unsynced writes, undone renames, failed
 * fsyncs whose data is gone although the page cache says otherwise.
 */
class SimDiskTest {
  private static final Path DIR = Path.of("/data");

  private static SimDisk disk(double torn, double fsyncFailure, double full, long seed) {
    return new SimDisk(new SimOptions.DiskOptions(0, 0, torn, false, 16 << 10, fsyncFailure,
        full, 0, false), new SimRandom(seed));
  }

  private static byte[] bytes(int length, int value) {
    byte[] b = new byte[length];
    java.util.Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void forcedWritesSurviveACrashAndUnforcedOnesMayNot() throws IOException {
    int lostSeen = 0;
    for (long seed = 1; seed <= 50; seed++) {
      SimDisk disk = disk(0, 0, 0, seed);
      disk.createDirectories(DIR);
      Path file = DIR.resolve("f");
      try (Disk.File f = disk.open(file)) {
        f.write(ByteBuffer.wrap(bytes(1000, 1)), 0);
        f.force();
        f.write(ByteBuffer.wrap(bytes(1000, 2)), 1000);
        assertEquals(2000, f.size()); // reads see the page cache
      }
      disk.syncDirectory(DIR);
      disk.crash();
      byte[] after = disk.readAll(file);
      assertTrue(after.length == 1000 || after.length == 2000, "a write is kept or lost whole");
      assertArrayEquals(bytes(1000, 1), java.util.Arrays.copyOf(after, 1000));
      lostSeen += after.length == 1000 ? 1 : 0;
    }
    assertTrue(lostSeen > 5 && lostSeen < 45, "lost in " + lostSeen + " of 50 crashes");
  }

  @Test
  void aRenameWithoutADirectorySyncMayBeUndoneByACrash() throws IOException {
    int undone = 0;
    for (long seed = 1; seed <= 50; seed++) {
      SimDisk disk = disk(0, 0, 0, seed);
      disk.createDirectories(DIR);
      disk.syncDirectory(DIR);
      try (Disk.File f = disk.open(DIR.resolve("tmp"))) {
        f.write(ByteBuffer.wrap(bytes(10, 7)), 0);
        f.force();
      }
      disk.rename(DIR.resolve("tmp"), DIR.resolve("final"));
      disk.crash();
      undone += disk.exists(DIR.resolve("final")) ? 0 : 1;
    }
    assertTrue(undone > 5 && undone < 50, "undone in " + undone + " of 50 crashes");
    SimDisk synced = disk(0, 0, 0, 1);
    synced.createDirectories(DIR);
    try (Disk.File f = synced.open(DIR.resolve("tmp"))) {
      f.force();
    }
    synced.rename(DIR.resolve("tmp"), DIR.resolve("final"));
    synced.syncDirectory(DIR);
    synced.crash();
    assertTrue(synced.exists(DIR.resolve("final")));
    assertFalse(synced.exists(DIR.resolve("tmp")));
  }

  @Test
  void aFailedFsyncLosesItsWritesAlthoughARetrySucceeds() throws IOException {
    int failures = 0;
    for (long seed = 1; seed <= 30; seed++) {
      SimDisk disk = disk(0, 0.5, 0, seed);
      disk.createDirectories(DIR);
      disk.syncDirectory(DIR);
      Path file = DIR.resolve("f");
      try (Disk.File f = disk.open(file)) {
        disk.syncDirectory(DIR);
        f.write(ByteBuffer.wrap(bytes(600, 3)), 0);
        try {
          f.force();
          continue;
        } catch (IOException e) {
          failures++;
        }
        disk.heal();
        f.force(); // "succeeds": the page cache called the data clean
        assertEquals(600, f.size()); // ... and still shows it
      }
      disk.crash();
      byte[] after = disk.readAll(file);
      assertTrue(after.length == 0 || after.length == 600, "kept by write-back, or lost");
    }
    assertTrue(failures > 0);
  }

  @Test
  void aFullDiskRefusesTheWriteAndChangesNothing() throws IOException {
    SimDisk disk = disk(0, 0, 0.99, 1);
    disk.createDirectories(DIR);
    try (Disk.File f = disk.open(DIR.resolve("f"))) {
      IOException e = assertThrows(IOException.class,
          () -> f.write(ByteBuffer.wrap(bytes(10, 1)), 0));
      assertTrue(e.getMessage().contains("ENOSPC"), e.getMessage());
      assertEquals(0, f.size());
    }
  }

  /** The real WAL on this disk: a torn unsynced tail is cut, synced records all come back. */
  @Test
  void theWalCutsATornTailAndKeepsEverythingSynced() throws IOException {
    int tornTails = 0;
    for (long seed = 1; seed <= 60; seed++) {
      SimDisk disk = disk(1.0, 0, 0, seed);
      WriteAheadLog.Options options = new WriteAheadLog.Options(16 << 10);
      List<Entry> synced = new ArrayList<>();
      // Never closed: the process dies with the crash, and a dead process writes nothing more.
      WriteAheadLog wal = WriteAheadLog.open(disk, DIR, options);
      for (int i = 1; i <= 5; i++) {
        Entry e = Entry.normal(1, i, bytes(100, i));
        wal.append(1, List.of(e));
        synced.add(e);
      }
      wal.saveHardState(1, new HardState(1, 0, 5));
      wal.sync();
      List<Entry> more = new ArrayList<>();
      for (int i = 6; i <= 20; i++) {
        more.add(Entry.normal(1, i, bytes(100, i)));
      }
      wal.append(1, more);
      wal.flush(); // handed to the disk, never forced
      disk.crash();
      try (WriteAheadLog recovered = WriteAheadLog.open(disk, DIR, options)) {
        tornTails += recovered.tornTail().isPresent() ? 1 : 0;
        WriteAheadLog.RecoveredGroup group = recovered.recovered().get(1L);
        assertTrue(group.entries().size() >= 5, "synced entries lost, seed " + seed);
        assertEquals(synced, group.entries().subList(0, 5));
        assertEquals(5, group.hardState().commit());
      }
    }
    assertTrue(tornTails > 0, "no torn tail in 60 crashes");
  }

  /**
   * The real WAL on a disk that goes bad (misdirected writes, bits flipped at rest and on
   * reads): it never hands back a damaged record. Either every synced record comes back
   * exactly, or recovery refuses, naming the file and offset, and only on a really damaged disk.
   */
  @Test
  void theWalOnACorruptingDiskRecoversEverySyncedRecordOrRefuses() throws IOException {
    int refused = 0;
    int recovered = 0;
    for (long seed = 1; seed <= 100; seed++) {
      SimDisk disk = new SimDisk(new SimOptions.DiskOptions(0, 0, 1.0, false, 16 << 10, 0, 0, 0,
          false, 0.05), new SimRandom(seed));
      disk.corrupts(new SimRandom(seed).fork(1));
      WriteAheadLog.Options options = new WriteAheadLog.Options(16 << 10);
      List<Entry> synced = new ArrayList<>();
      WriteAheadLog wal = WriteAheadLog.open(disk, DIR, options); // dies with the crash
      for (int i = 1; i <= 30; i++) {
        Entry e = Entry.normal(1, i, bytes(100, i));
        wal.append(1, List.of(e));
        wal.sync();
        synced.add(e);
      }
      disk.crash();
      for (int attempt = 1; ; attempt++) {
        try (WriteAheadLog reopened = WriteAheadLog.open(disk, DIR, options)) {
          assertEquals(synced, reopened.recovered().get(1L).entries(), "seed " + seed);
          recovered++;
          break;
        } catch (StorageCorruptionException e) {
          assertTrue(disk.damaged(), "refused an undamaged disk, seed " + seed + ": " + e);
          assertTrue(e.getMessage().contains(e.file() + " at offset " + e.offset()),
              e.getMessage());
          refused++;
          break;
        } catch (IOException e) { // reads kept disagreeing (flipped on the way): try again
          assertTrue(attempt < 5, "seed " + seed + ": " + e);
        }
      }
    }
    assertTrue(refused > 10 && recovered > 0, refused + " refused, " + recovered + " recovered");
  }
}
