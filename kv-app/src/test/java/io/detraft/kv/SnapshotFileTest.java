package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.io.NodeStorage;
import io.detraft.io.RealDisk;
import io.detraft.io.SnapshotReader;
import io.detraft.io.SnapshotStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export file format 2: written from a node's snapshot file in pieces, read back block by
 * block; damage, truncation, an older version and foreign files refused with the file named
 * and, where it can be told, the offset.
 */
class SnapshotFileTest {
  private static final Membership MEMBERS = Membership.of(1, 2, 3);

  @TempDir Path dir;
  private byte[] image;
  private Path export;

  /** An export of a 300 KB image (five blocks), streamed in pieces of odd sizes. */
  @BeforeEach
  void write() throws IOException {
    image = new byte[300_000];
    new SplittableRandom(7).nextBytes(image);
    SnapshotStore store = new SnapshotStore(dir.resolve("snapshots"), 2);
    Path file = store.save(2, new Snapshot(40, 5, MEMBERS, image));
    RealDisk disk = new RealDisk();
    SnapshotFile.Stream stream = SnapshotFile.stream("cluster-a", 3, 4,
        new NodeStorage.StoredSnapshotFile(Snapshot.metadata(40, 5, MEMBERS, image.length),
            file, disk.open(file)));
    export = dir.resolve("g2.snapshot");
    ByteBuffer piece = ByteBuffer.allocate(10_007);
    try (var out = Files.newOutputStream(export); HttpServer.StreamedBody body = stream.body()) {
      for (int n; (n = body.read(piece.clear())) >= 0; ) {
        out.write(piece.array(), 0, n);
      }
    }
    assertEquals(stream.length(), Files.size(export));
  }

  @Test
  void anExportReadsBackBlockByBlock() throws Exception {
    SnapshotFile f = SnapshotFile.verify(export);
    assertEquals("cluster-a", f.clusterId());
    assertEquals(3, f.node());
    assertEquals(4, f.groups());
    assertEquals(2, f.group());
    assertEquals(Snapshot.metadata(40, 5, MEMBERS, image.length), f.snapshot());
    try (SnapshotReader reader = f.openImage()) {
      assertArrayEquals(image, reader.readAll());
    }
  }

  private String refusal(byte[] bytes) throws IOException {
    Path bad = dir.resolve("bad.snapshot");
    Files.write(bad, bytes);
    String message = assertThrows(SnapshotFile.InvalidException.class,
        () -> SnapshotFile.verify(bad)).getMessage();
    assertTrue(message.startsWith(bad.toString()), message);
    return message;
  }

  @Test
  void damageIsRefusedWithItsOffset() throws Exception {
    byte[] good = Files.readAllBytes(export);
    byte[] inBlock = good.clone();
    inBlock[good.length / 2] ^= 0x10; // inside block 2 of the image
    String message = refusal(inBlock);
    assertTrue(message.contains("checksum mismatch"), message);
    assertTrue(message.contains("block 2"), message);
    assertTrue(message.contains("at offset "), message);

    byte[] inHeader = good.clone();
    inHeader[12] ^= 0x01; // the cluster id
    assertTrue(refusal(inHeader).contains("checksum mismatch in the header"));

    byte[] inChecksum = good.clone();
    inChecksum[good.length - 1] ^= 0x01;
    assertTrue(refusal(inChecksum).contains("checksum mismatch"));
  }

  @Test
  void truncatedFilesAreRefused() throws Exception {
    byte[] good = Files.readAllBytes(export);
    for (int length : new int[] {good.length - 1, good.length / 2, 30, 5}) {
      String message = refusal(Arrays.copyOf(good, length));
      assertTrue(message.contains("truncated") || message.contains("not an exported"),
          length + ": " + message);
    }
    assertTrue(refusal(Arrays.copyOf(good, good.length - 1))
        .contains("truncated at offset " + (good.length - 1)));
  }

  @Test
  void otherFilesAndVersionsAreRefused() throws Exception {
    assertTrue(refusal("hello, world".getBytes()).contains("not an exported detraft snapshot"));
    byte[] version1 = Files.readAllBytes(export);
    ByteBuffer.wrap(version1).putInt(4, 1);
    String message = refusal(version1);
    assertTrue(message.contains("version 1") && message.contains("export the group again"),
        message);
  }
}
