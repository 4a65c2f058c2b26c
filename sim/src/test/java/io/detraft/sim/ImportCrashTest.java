package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotSource;
import io.detraft.io.Disk;
import io.detraft.io.NodeStorage;
import io.detraft.io.SnapshotStore;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Disaster recovery's storage step ({@link NodeStorage#importSnapshot}, behind {@code detraft
 * snapshot import}) on the simulated disk, with the process dying at every one of its disk
 * operations in turn: whatever the crash kept (lost unsynced writes, undone renames), running
 * the same import again leaves exactly the imported group, and the other group as it was.
 * (Between the two runs the node must not start; kv-app's import leaves a marker file that
 * makes it refuse.)
 */
class ImportCrashTest {
  private static final Path DIR = Path.of("/data/raft");
  private static final WriteAheadLog.Options WAL = new WriteAheadLog.Options(4096);
  private static final Membership OLD = Membership.of(1, 2, 3);
  private static final Snapshot EXPORT = new Snapshot(10, 2, OLD, bytes(300, 7));

  private static byte[] bytes(int length, int value) {
    byte[] b = new byte[length];
    java.util.Arrays.fill(b, (byte) value);
    return b;
  }

  /** The survivor's storage: group 1 went on past the export (and compacted), group 2 too. */
  private static SimDisk survivor(long seed) throws IOException {
    SimDisk disk = new SimDisk(new SimOptions.DiskOptions(0, 0, 0.5, false, 4096, 0, 0, 0,
        false), new SimRandom(seed));
    try (WriteAheadLog wal = WriteAheadLog.open(disk, DIR, WAL)) {
      for (long i = 1; i <= 30; i++) {
        wal.append(1, List.of(Entry.normal(i <= 20 ? 2 : 3, i, bytes(200, (int) i))));
        wal.sync();
      }
      wal.append(2, List.of(Entry.normal(1, 1, bytes(10, 1)), Entry.normal(1, 2, bytes(10, 2))));
      wal.saveHardState(1, new HardState(5, 2, 30));
      wal.saveHardState(2, new HardState(1, 1, 2));
      wal.sync();
      new SnapshotStore(disk, DIR.resolve("snapshots"), 2)
          .save(1, new Snapshot(25, 3, OLD, bytes(300, 25)));
      wal.compact(1, 25, 3);
    }
    return disk;
  }

  /** Imports {@code EXPORT} into group 1; false if the disk "crashed" on the way. */
  private static boolean importOnce(Disk disk) {
    try (NodeStorage storage = NodeStorage.open(disk, DIR, WAL, 2)) {
      storage.importSnapshot(1, EXPORT.withoutData(), SnapshotSource.of(EXPORT.data()),
          Membership.of(1));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void aCrashAtAnyDiskOperationOfAnImportIsRepairedByRunningItAgain() throws IOException {
    CrashingDisk counter = new CrashingDisk(survivor(1), Integer.MAX_VALUE);
    assertTrue(importOnce(counter));
    int operations = counter.operations;
    assertTrue(operations > 10, "operations: " + operations);
    int crashes = 0;
    for (long seed = 1; seed <= 4; seed++) {
      for (int crashAt = 1; crashAt <= operations; crashAt++) {
        SimDisk disk = survivor(seed * 1000 + crashAt);
        if (!importOnce(new CrashingDisk(disk, crashAt))) {
          crashes++;
        }
        disk.crash(); // whatever was not durable may be lost (or torn)
        assertTrue(importOnce(disk), "the second import failed, crash at " + crashAt);
        disk.crash();
        try (NodeStorage storage = NodeStorage.open(disk, DIR, WAL, 2)) {
          String at = "crash at operation " + crashAt + " of " + operations + ", seed " + seed;
          NodeStorage.RecoveredGroup g = storage.recover(1, OLD, 0);
          assertEquals(10, g.snapshot().index(), at);
          assertEquals(Membership.of(1), g.snapshot().membership(), at);
          try (io.detraft.io.SnapshotReader image = storage.openSnapshot(1, g.snapshot())) {
            assertArrayEquals(EXPORT.data(), image.readAll(), at);
          }
          assertTrue(g.restore(), at);
          assertEquals(10, g.log().lastIndex(), at);
          assertEquals(10, g.log().hardState().commit(), at);
          assertTrue(g.log().hardState().term() >= 6, at);
          NodeStorage.RecoveredGroup other = storage.recover(2, OLD, 0);
          assertEquals(2, other.log().lastIndex(), at);
          assertEquals(new HardState(1, 1, 2), other.log().hardState(), at);
        }
      }
    }
    assertEquals(4 * operations, crashes, "every planted crash hit the import");
  }

  /** A disk whose process dies at its {@code crashAt}-th mutating operation (and after). */
  private static final class CrashingDisk implements Disk {
    private final Disk disk;
    private final int crashAt;
    int operations;

    CrashingDisk(Disk disk, int crashAt) {
      this.disk = disk;
      this.crashAt = crashAt;
    }

    private void operation() throws IOException {
      if (++operations >= crashAt) {
        throw new IOException("the process died (planted at operation " + crashAt + ")");
      }
    }

    @Override
    public File open(Path file) throws IOException {
      File inner = disk.open(file);
      return new File() {
        @Override
        public void write(ByteBuffer source, long position) throws IOException {
          operation();
          inner.write(source, position);
        }

        @Override
        public int read(ByteBuffer target, long position) throws IOException {
          return inner.read(target, position);
        }

        @Override
        public long size() throws IOException {
          return inner.size();
        }

        @Override
        public void force() throws IOException {
          operation();
          inner.force();
        }

        @Override
        public void close() throws IOException {
          inner.close();
        }
      };
    }

    @Override
    public byte[] readAll(Path file) throws IOException {
      return disk.readAll(file);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
      return new ArrayList<>(disk.list(dir));
    }

    @Override
    public boolean exists(Path file) {
      return disk.exists(file);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
      operation();
      disk.createDirectories(dir);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
      operation();
      disk.rename(source, target);
    }

    @Override
    public void delete(Path file) throws IOException {
      operation();
      disk.delete(file);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
      operation();
      disk.syncDirectory(dir);
    }

    @Override
    public Path allocate(Path dir, long bytes) throws IOException {
      operation();
      return disk.allocate(dir, bytes);
    }

    @Override
    public AutoCloseable lock(Path dir) throws IOException {
      return disk.lock(dir);
    }
  }
}
