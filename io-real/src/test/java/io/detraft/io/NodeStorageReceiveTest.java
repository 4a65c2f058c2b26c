package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Ready;
import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotChunk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower's persist step with streamed snapshots: accepted chunks go to a receive file,
 * which becomes the snapshot when the last one arrives; an install cut short leaves nothing.
 */
class NodeStorageReceiveTest {
  private static final Membership THREE = Membership.of(1, 2, 3);

  @TempDir Path dir;

  @Test
  void chunksBecomeTheSnapshotFileAndTheLogStartsAfterIt() throws IOException {
    byte[] image = new byte[200_000];
    new Random(3).nextBytes(image);
    try (NodeStorage storage = open()) {
      storage.recover(1, THREE, 0);
      storage.persist(1, ready(null, chunk(image, 0, 70_000)));
      storage.persist(1, ready(null, chunk(image, 70_000, 70_000)));
      assertEquals(1, temporaryFiles(), "the receive file, not yet a snapshot");
      Snapshot installed = Snapshot.metadata(40, 2, THREE, image.length);
      storage.persist(1, ready(installed, chunk(image, 140_000, 60_000)));
      storage.sync();
      assertEquals(0, temporaryFiles());
      assertEquals(installed, storage.log(1).snapshot());
      assertEquals(41, storage.log(1).firstIndex());
      try (SnapshotReader file = storage.openSnapshot(1, installed)) {
        assertArrayEquals(image, file.readAll());
      }
      // What a leader sends from it, at any offset.
      assertArrayEquals(Arrays.copyOfRange(image, 65_530, 65_560),
          storage.log(1).snapshotChunk(installed, 65_530, 30));
    }
    try (NodeStorage storage = open()) { // a restart recovers the snapshot from its file
      NodeStorage.RecoveredGroup g = storage.recover(1, THREE, 0);
      assertEquals(Snapshot.metadata(40, 2, THREE, image.length), g.snapshot());
      assertTrue(g.restore());
    }
  }

  @Test
  void anInstallCutShortLeavesNoFile() throws IOException {
    byte[] image = new byte[100_000];
    try (NodeStorage storage = open()) {
      storage.recover(1, THREE, 0);
      storage.persist(1, ready(null, chunk(image, 0, 50_000)));
      // A chunk that does not continue what was received is a bug of the caller.
      assertThrows(IllegalStateException.class,
          () -> storage.persist(1, ready(null, chunk(image, 60_000, 10_000))));
      // An install that starts over replaces the partial one.
      storage.persist(1, ready(null, chunk(image, 0, 10_000)));
      assertEquals(1, temporaryFiles());
      // The last chunk without a snapshot to install: the follower's log held its last entry.
      storage.persist(1, ready(null, chunk(image, 10_000, 90_000)));
      assertEquals(0, temporaryFiles());
      storage.persist(1, ready(null, chunk(image, 0, 10_000)));
    } // the node stops: its partial file goes (a crash's goes when the store next opens)
    try (NodeStorage storage = open()) {
      assertEquals(0, temporaryFiles());
      assertTrue(storage.recover(1, THREE, 0).snapshot().isEmpty());
    }
  }

  /**
   * One Ready may end an install and start the next: the last chunk of the snapshot at 40,
   * whose last entry the follower's log already held, then the first of one at 41 (seed
   * 9000000000000001206). Only the ended receive goes; the next one continues.
   */
  @Test
  void aReadyThatEndsOneInstallAndStartsTheNextKeepsTheNext() throws IOException {
    byte[] image = new byte[20_000];
    try (NodeStorage storage = open()) {
      storage.recover(1, THREE, 0);
      storage.persist(1, ready(null, chunk(image, 0, 10_000)));
      SnapshotChunk next = new SnapshotChunk(41, 2, THREE, image.length, 0, new byte[10_000],
          false);
      storage.persist(1, ready(null, chunk(image, 10_000, 10_000), next));
      assertEquals(1, temporaryFiles(), "the receive file of the snapshot at 41");
      Snapshot installed = Snapshot.metadata(41, 2, THREE, image.length);
      storage.persist(1, ready(installed, new SnapshotChunk(41, 2, THREE, image.length, 10_000,
          new byte[10_000], true)));
      assertEquals(installed, storage.log(1).snapshot());
    }
  }

  private final RealDisk disk = new RealDisk();

  @org.junit.jupiter.api.AfterEach
  void closeDisk() throws IOException {
    disk.close();
  }

  private NodeStorage open() throws IOException {
    return NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(), 2);
  }

  private static SnapshotChunk chunk(byte[] image, int offset, int length) {
    return new SnapshotChunk(40, 2, THREE, image.length, offset,
        Arrays.copyOfRange(image, offset, offset + length), offset + length == image.length);
  }

  private static Ready ready(Snapshot snapshot, SnapshotChunk... chunks) {
    return new Ready(null, snapshot == null ? null
        : new HardState(2, 0, snapshot.index()), snapshot, List.of(), List.of(), List.of(),
        List.of(), snapshot != null, false, List.of(chunks));
  }

  private long temporaryFiles() throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("snapshots"))) {
      return files.filter(f -> f.toString().endsWith(".tmp")).count();
    }
  }
}
