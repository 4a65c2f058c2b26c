package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.io.SnapshotStore.Snapshot;
import io.detraft.io.SnapshotStore.SnapshotId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
  @TempDir Path dir;

  @Test
  void savesLoadsAndKeepsTheNewestPerGroup() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    assertTrue(store.latest(1).isEmpty());
    for (long index = 10; index <= 40; index += 10) {
      store.save(new Snapshot(1, index, 2, ("state@" + index).getBytes()));
    }
    store.save(new Snapshot(7, 5, 1, new byte[0]));
    assertEquals(List.of(new SnapshotId(1, 40, 2), new SnapshotId(1, 30, 2)), store.list(1));
    Snapshot latest = store.latest(1).orElseThrow();
    assertEquals(40, latest.index());
    assertArrayEquals("state@40".getBytes(), latest.data());
    assertEquals(0, store.latest(7).orElseThrow().data().length);
    // A fresh store over the same directory sees the same files.
    assertEquals(2, new SnapshotStore(dir, 2).list(1).size());
  }

  @Test
  void aDamagedSnapshotIsRefusedNamingTheFile() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 3);
    Path file = store.save(new Snapshot(1, 9, 3, new byte[1000]));
    WriteAheadLogTest.flip(file, 500);
    var error = assertThrows(StorageCorruptionException.class, () -> store.latest(1));
    assertEquals(file, error.file());
    assertTrue(error.getMessage().contains("checksum"), error.getMessage());
  }

  @Test
  void leftoversOfACrashedSaveAreRemoved() throws IOException {
    Path temp = dir.resolve("snap-00000000000000000001-00000000000000000005-"
        + "00000000000000000001.snap.tmp");
    Files.write(temp, new byte[] {1, 2, 3});
    SnapshotStore store = new SnapshotStore(dir, 1);
    assertFalse(Files.exists(temp));
    assertTrue(store.list(1).isEmpty());
  }
}
