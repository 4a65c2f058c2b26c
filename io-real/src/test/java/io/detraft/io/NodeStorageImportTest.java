package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Disaster recovery's storage step: a group's log replaced by an older exported snapshot. */
class NodeStorageImportTest {
  private static final Membership OLD = Membership.of(1, 2, 3);

  @TempDir Path dir;

  /**
   * The node's log went past the export (entries to 30 in term 3, compacted behind its own
   * snapshot at 25): the import moves it back to the export at 10, relabels the membership,
   * and starts a term above every term the log saw. A restart recovers exactly that, and the
   * state machine is restored from the export.
   */
  @Test
  void anImportMovesTheLogBackBehindItsCompactionPointAndRaisesTheTerm() throws IOException {
    try (RealDisk disk = new RealDisk()) {
      try (WriteAheadLog wal = WriteAheadLog.open(disk, dir, WriteAheadLog.Options.defaults())) {
        List<Entry> entries = new ArrayList<>();
        for (long i = 1; i <= 30; i++) {
          entries.add(Entry.normal(i <= 20 ? 2 : 3, i, ("e" + i).getBytes()));
        }
        wal.append(1, entries);
        wal.append(2, List.of(Entry.normal(1, 1, "other".getBytes())));
        wal.saveHardState(1, new HardState(5, 2, 30));
        wal.saveHardState(2, new HardState(1, 1, 1));
        new SnapshotStore(disk, dir.resolve("snapshots"), 2)
            .save(1, new Snapshot(25, 3, OLD, "own@25".getBytes()));
        wal.compact(1, 25, 3);
      }
      Snapshot exported = new Snapshot(10, 2, OLD, "export@10".getBytes());
      try (NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(),
          2)) {
        Snapshot imported = storage.importSnapshot(1, exported.withoutData(),
            SnapshotSource.of(exported.data()), Membership.of(1));
        assertEquals(Snapshot.metadata(10, 2, Membership.of(1), 9), imported);
      }
      try (NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(),
          2)) {
        NodeStorage.RecoveredGroup g = storage.recover(1, OLD, 0);
        assertEquals(10, g.snapshot().index());
        assertEquals(Membership.of(1), g.snapshot().membership());
        try (SnapshotReader image = storage.openSnapshot(1, g.snapshot())) {
          assertArrayEquals("export@10".getBytes(), image.readAll());
        }
        assertTrue(g.restore());
        assertEquals(10, g.appliedIndex());
        assertEquals(10, g.log().lastIndex());
        assertEquals(11, g.log().firstIndex());
        // Above term 5 (the hard state), the highest this node's log saw.
        assertEquals(new HardState(6, 0, 10), g.log().hardState());
        // The other group is untouched.
        NodeStorage.RecoveredGroup other = storage.recover(2, OLD, 0);
        assertEquals(1, other.log().lastIndex());
        assertEquals(new HardState(1, 1, 1), other.log().hardState());
      }
    }
  }

  @Test
  void aGroupRunningOnTheStorageCannotBeImported() throws IOException {
    try (RealDisk disk = new RealDisk();
        NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(), 2)) {
      storage.recover(1, OLD, 0);
      assertThrows(IllegalStateException.class, () -> storage.importSnapshot(1,
          Snapshot.metadata(10, 2, OLD, 0), SnapshotSource.of(new byte[0]), Membership.of(1)));
    }
  }

  /**
   * The image streams into the store in pieces of whatever size the source gives (here 1,000
   * bytes, over four blocks); a source that ends before the size it claims fails the import.
   */
  @Test
  void anImportStreamsItsImageAndRefusesOneThatEndsEarly() throws IOException {
    byte[] image = new byte[200_000];
    new java.util.SplittableRandom(3).nextBytes(image);
    try (RealDisk disk = new RealDisk()) {
      try (NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(),
          2)) {
        SnapshotSource dribble = new SnapshotSource() {
          private int at;

          @Override
          public long sizeBytes() {
            return image.length;
          }

          @Override
          public int read(byte[] target, int offset, int length) {
            int n = Math.min(Math.min(length, 1000), image.length - at);
            if (n <= 0) {
              return -1;
            }
            System.arraycopy(image, at, target, offset, n);
            at += n;
            return n;
          }
        };
        storage.importSnapshot(1, Snapshot.metadata(10, 2, OLD, image.length), dribble,
            Membership.of(1));
        SnapshotSource shortOne = new SnapshotSource() {
          @Override
          public long sizeBytes() {
            return 5000;
          }

          @Override
          public int read(byte[] target, int offset, int length) {
            return -1;
          }
        };
        IOException e = assertThrows(IOException.class, () -> storage.importSnapshot(2,
            Snapshot.metadata(10, 2, OLD, 5000), shortOne, Membership.of(1)));
        assertTrue(e.getMessage().contains("ended after 0 of 5000 bytes"), e.getMessage());
      }
      try (NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(),
          2)) {
        NodeStorage.RecoveredGroup g = storage.recover(1, OLD, 0);
        try (SnapshotReader reader = storage.openSnapshot(1, g.snapshot())) {
          assertArrayEquals(image, reader.readAll());
        }
      }
    }
  }
}
