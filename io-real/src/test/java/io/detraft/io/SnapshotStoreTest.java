package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.io.SnapshotStore.SnapshotId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
  private static final Membership MEMBERS = new Membership(new long[] {1, 2, 3}, new long[] {4});

  @TempDir Path dir;

  @Test
  void savesLoadsAndKeepsTheNewestPerGroup() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    assertTrue(store.latest(1).isEmpty());
    for (long index = 10; index <= 40; index += 10) {
      store.save(1, new Snapshot(index, 2, MEMBERS, ("state@" + index).getBytes()));
    }
    store.save(7, new Snapshot(5, 1, Membership.of(4), new byte[0]));
    assertEquals(List.of(new SnapshotId(1, 40, 2), new SnapshotId(1, 30, 2)), store.list(1));
    Snapshot latest = store.latest(1).orElseThrow();
    assertEquals(40, latest.index());
    assertArrayEquals("state@40".getBytes(), store.load(new SnapshotId(1, 40, 2)).data());
    assertEquals("state@40".length(), latest.sizeBytes());
    assertEquals(MEMBERS, latest.membership());
    assertEquals(2, latest.term());
    assertEquals(0, store.latest(7).orElseThrow().sizeBytes());
    assertEquals(Membership.of(4), store.latest(7).orElseThrow().membership());
    // A fresh store over the same directory sees the same files.
    assertEquals(2, new SnapshotStore(dir, 2).list(1).size());
  }

  @Test
  void aDamagedSnapshotIsRefusedNamingTheFile() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 3);
    Path file = store.save(1, new Snapshot(9, 3, MEMBERS, new byte[1000]));
    WriteAheadLogTest.flip(file, 500);
    var error = assertThrows(StorageCorruptionException.class, () -> store.latest(1));
    assertEquals(file, error.file());
    assertTrue(error.getMessage().contains("checksum"), error.getMessage());
    assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
  }

  @Test
  void aSnapshotFromAnotherFileIsRefused() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 3);
    Path file = store.save(1, new Snapshot(9, 3, MEMBERS, new byte[10]));
    // A valid file under the wrong name: the header disagrees.
    Files.move(file, store.file(new SnapshotId(1, 12, 3)));
    var error = assertThrows(StorageCorruptionException.class, () -> store.latest(1));
    assertTrue(error.getMessage().contains("disagrees"), error.getMessage());
  }

  @Test
  void imagesStreamInAndOutBlockByBlock() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    byte[] image = new byte[3 * SnapshotFormat.BLOCK_BYTES + 1234];
    new Random(7).nextBytes(image);
    Snapshot saved;
    try (SnapshotWriter writer = store.create(1, 50, 3, MEMBERS)) {
      for (int at = 0; at < image.length; at += 1000) { // pieces that straddle blocks
        writer.write(image, at, Math.min(1000, image.length - at));
      }
      saved = writer.finish();
    }
    assertEquals(Snapshot.metadata(50, 3, MEMBERS, image.length), saved);
    assertEquals(saved, store.latest(1).orElseThrow());
    try (SnapshotReader reader = store.open(new SnapshotId(1, 50, 3))) {
      assertArrayEquals(image, reader.readAll());
    }
    for (long offset : new long[] {0, 1, SnapshotFormat.BLOCK_BYTES - 3, 2 * 65536 + 5,
        image.length - 1, image.length}) {
      byte[] chunk = store.chunk(1, saved, offset, 100_000);
      int end = (int) Math.min(image.length, offset + 100_000);
      assertArrayEquals(Arrays.copyOfRange(image, (int) offset, end), chunk, "at " + offset);
    }
    assertNull(store.chunk(1, Snapshot.metadata(40, 3, MEMBERS, 10), 0, 10), "no such file");
  }

  @Test
  void aDamagedBlockInTheMiddleIsRefusedWhenRead() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    Path file = store.save(1, new Snapshot(9, 3, MEMBERS, new byte[5 * 65536]));
    WriteAheadLogTest.flip(file, 3 * 65536 + 100);
    var error = assertThrows(StorageCorruptionException.class, () -> store.latest(1));
    assertTrue(error.getMessage().contains("block 3 checksum"), error.getMessage()); // 4 B a block
  }

  @Test
  void anUnfinishedFileIsNeverTakenForASnapshot() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    Path file = store.save(1, new Snapshot(9, 3, MEMBERS, new byte[70_000]));
    try (var channel = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.WRITE)) {
      channel.truncate(Files.size(file) - 16); // the trailer is gone
    }
    var error = assertThrows(StorageCorruptionException.class, () -> store.latest(1));
    assertTrue(error.getMessage().contains("trailer"), error.getMessage());
    // An abandoned writer leaves nothing.
    try (SnapshotWriter writer = store.create(1, 20, 3, MEMBERS)) {
      writer.write(new byte[100]);
    }
    assertEquals(List.of(new SnapshotId(1, 9, 3)), store.list(1));
    assertEquals(1, Files.list(dir).count());
  }

  @Test
  void aSnapshotFileOfTheOlderFormatIsRewrittenInTheNewOne() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, 2);
    Snapshot old = new Snapshot(9, 3, MEMBERS, "state@9".getBytes());
    Path file = store.file(new SnapshotId(1, 9, 3));
    Files.write(file, SnapshotStore.encode(1, old)); // format 2, as nodes wrote it before
    assertEquals(old.withoutData(), store.latest(1).orElseThrow());
    assertArrayEquals("state@9".getBytes(), store.load(new SnapshotId(1, 9, 3)).data());
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
