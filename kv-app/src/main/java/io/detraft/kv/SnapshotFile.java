package io.detraft.kv;

import io.detraft.core.Snapshot;
import io.detraft.io.NodeStorage;
import io.detraft.io.Disk;
import io.detraft.io.RealDisk;
import io.detraft.io.SnapshotReader;
import io.detraft.io.StorageCorruptionException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * An exported snapshot of one group, for disaster recovery ({@code detraft snapshot export},
 * {@code import}), format version 2: the node's own snapshot file (io-real's {@code
 * SnapshotFormat} version 3: group, index, term, membership, then the image in 64 KiB blocks,
 * each with its CRC32C, then a trailer), copied byte for byte behind a prefix that says which
 * cluster it belongs to, and a checksum over everything:
 *
 * <pre>
 * file   = prefix snapshotFile crc32c:u32           (big-endian; the crc covers all before it)
 * prefix = magic "DRXP":u32 version:u32 clusterIdLength:u16 clusterId:utf8 node:u64 groups:u32
 *          snapshotFileLength:u64 prefixCrc32c:u32
 * </pre>
 *
 * <p>Nothing here holds an image whole: a node streams its snapshot file out ({@link
 * #stream}), an import reads the image block by block through a {@link SnapshotReader} over
 * the embedded file ({@link #openImage}), every block verified as it is read. The prefix has
 * its own checksum so that a file of another cluster is told apart from a damaged one.
 * Version 1 files (the whole snapshot in one array) are refused: export again.
 *
 * @param path the file
 * @param clusterId the cluster the group belongs to
 * @param node the node it was exported from
 * @param groups the cluster's group count (keys are hash-partitioned over them)
 * @param group the group
 * @param snapshot its index, term, membership and image size (the image stays in the file)
 * @param snapshotFileOffset where the embedded snapshot file starts
 * @param snapshotFileLength its length
 */
record SnapshotFile(Path path, String clusterId, long node, int groups, long group,
    Snapshot snapshot, long snapshotFileOffset, long snapshotFileLength) {
  private static final int MAGIC = 0x44525850; // "DRXP"
  private static final int VERSION = 2;
  /** magic, version, cluster id length; then the cluster id. */
  private static final int FIXED_PREFIX_BYTES = 4 + 4 + 2;
  /** node, groups, snapshot file length, prefix crc: after the cluster id. */
  private static final int PREFIX_TAIL_BYTES = 8 + 4 + 8 + 4;
  private static final int VERIFY_BUFFER_BYTES = 1 << 20;
  static final String SUFFIX = ".snapshot";

  /** The file is damaged, or is not an exported snapshot. */
  static final class InvalidException extends Exception {
    InvalidException(String message) {
      super(message);
    }
  }

  /** The name an export of all groups gives group {@code group}'s file in its directory. */
  static String fileName(long group) {
    return "group-" + group + SUFFIX;
  }

  private static ByteBuffer prefix(String clusterId, long node, int groups,
      long snapshotFileLength) {
    byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(FIXED_PREFIX_BYTES + cluster.length
        + PREFIX_TAIL_BYTES);
    out.putInt(MAGIC).putInt(VERSION).putShort((short) cluster.length).put(cluster)
        .putLong(node).putInt(groups).putLong(snapshotFileLength);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    return out.putInt((int) crc.getValue()).flip();
  }

  // ------------------------------------------------------------------ writing

  /** An export being streamed: its length and its bytes, read in pieces. */
  record Stream(long length, HttpServer.StreamedBody body) {}

  /**
   * The export of {@code stored} (a node's snapshot file, open), read in pieces: the prefix,
   * the snapshot file as it lies, the checksum. Closing the body closes {@code stored}. The
   * snapshot file was written and fsynced whole before it was opened, so its size is final.
   */
  static Stream stream(String clusterId, long node, int groups,
      NodeStorage.StoredSnapshotFile stored) throws IOException {
    long fileLength = stored.file().size();
    ByteBuffer prefix = prefix(clusterId, node, groups, fileLength);
    long length = prefix.remaining() + fileLength + 4;
    HttpServer.StreamedBody body = new HttpServer.StreamedBody() {
      private final CRC32C crc = new CRC32C();
      private long filePosition;
      private ByteBuffer trailer;

      @Override
      public int read(ByteBuffer target) throws IOException {
        int start = target.position();
        if (prefix.hasRemaining()) {
          int n = Math.min(prefix.remaining(), target.remaining());
          target.put(prefix.slice().limit(n));
          prefix.position(prefix.position() + n);
        }
        while (target.hasRemaining() && filePosition < fileLength) {
          int n = stored.file().read(target, filePosition);
          if (n < 0) {
            throw new IOException(stored.name() + " ended at " + filePosition + " of "
                + fileLength + " bytes while it was exported");
          }
          filePosition += n;
        }
        crc.update(target.duplicate().flip().position(start));
        if (filePosition == fileLength && !prefix.hasRemaining()) {
          if (trailer == null) {
            trailer = ByteBuffer.allocate(4).putInt(0, (int) crc.getValue());
          }
          int n = Math.min(trailer.remaining(), target.remaining());
          target.put(trailer.slice().limit(n));
          trailer.position(trailer.position() + n);
        }
        int n = target.position() - start;
        return n == 0 && trailer != null && !trailer.hasRemaining() ? -1 : n;
      }

      @Override
      public void close() throws IOException {
        stored.close();
      }
    };
    return new Stream(length, body);
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads the prefix and the embedded snapshot's header and trailer of {@code path}, and
   * verifies the checksum over the whole file (a pass over it, nothing kept). Damage is
   * reported with its offset when the block it lies in can be found.
   *
   * @throws InvalidException if a checksum fails, the file is truncated or it is not an
   *     exported snapshot of this format
   */
  static SnapshotFile verify(Path path) throws InvalidException, IOException {
    SnapshotFile file = readPrefix(path);
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      CRC32C crc = new CRC32C();
      ByteBuffer buf = ByteBuffer.allocateDirect(VERIFY_BUFFER_BYTES);
      long end = file.snapshotFileOffset + file.snapshotFileLength;
      long position = 0;
      while (position < end) {
        buf.clear().limit((int) Math.min(buf.capacity(), end - position));
        int n = channel.read(buf, position);
        if (n < 0) {
          throw new InvalidException(path + ": truncated at offset " + position);
        }
        position += n;
        crc.update(buf.flip());
      }
      ByteBuffer stored = ByteBuffer.allocate(4);
      while (stored.hasRemaining() && channel.read(stored, end + stored.position()) > 0) {
        // reads the 4 bytes
      }
      if (stored.hasRemaining() || stored.getInt(0) != (int) crc.getValue()) {
        // Which block? The embedded file's own checksums say where, if the damage is there.
        try (SnapshotReader image = file.openImage()) {
          image.verifyAll();
        } catch (StorageCorruptionException e) {
          throw file.invalid(e);
        }
        throw new InvalidException(path + ": checksum mismatch: the file is damaged (export"
            + " it again, or use another copy)");
      }
    }
    return file;
  }

  /** The prefix, checked against the file's size, and the embedded snapshot's metadata. */
  private static SnapshotFile readPrefix(Path path) throws InvalidException, IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = channel.size();
      ByteBuffer fixed = readAt(channel, 0, (int) Math.min(size, FIXED_PREFIX_BYTES));
      if (fixed.limit() < FIXED_PREFIX_BYTES || fixed.getInt(0) != MAGIC) {
        throw new InvalidException(path + " is not an exported detraft snapshot");
      }
      int version = fixed.getInt(4);
      if (version != VERSION) {
        throw new InvalidException(path + ": export format version " + version + "; this"
            + " detraft reads version " + VERSION + (version == 1 ? " (version 1 files held"
            + " the whole snapshot in memory: export the group again with this detraft)" : ""));
      }
      int prefixBytes = FIXED_PREFIX_BYTES + (fixed.getShort(8) & 0xFFFF) + PREFIX_TAIL_BYTES;
      if (size < prefixBytes + 4) {
        throw new InvalidException(path + ": truncated at offset " + size + " (in the header)");
      }
      ByteBuffer prefix = readAt(channel, 0, prefixBytes);
      CRC32C crc = new CRC32C();
      crc.update(prefix.array(), 0, prefixBytes - 4);
      if (prefix.getInt(prefixBytes - 4) != (int) crc.getValue()) {
        throw new InvalidException(path + ": checksum mismatch in the header (offset 0 to "
            + prefixBytes + "): the file is damaged (export it again, or use another copy)");
      }
      byte[] cluster = new byte[fixed.getShort(8) & 0xFFFF];
      prefix.position(FIXED_PREFIX_BYTES).get(cluster);
      long node = prefix.getLong();
      int groups = prefix.getInt();
      long snapshotFileLength = prefix.getLong();
      long expected = prefixBytes + snapshotFileLength + 4;
      if (snapshotFileLength < 0 || size < expected) {
        throw new InvalidException(path + ": truncated at offset " + size + ": the header says"
            + " the file has " + expected + " bytes");
      }
      if (size > expected) {
        throw new InvalidException(path + ": " + (size - expected) + " bytes too many after"
            + " offset " + expected + ": not an export as written");
      }
      if (groups < 1) {
        throw new InvalidException(path + ": invalid group count " + groups);
      }
      SnapshotFile file = new SnapshotFile(path, new String(cluster, StandardCharsets.UTF_8),
          node, groups, 0, null, prefixBytes, snapshotFileLength);
      try (SnapshotReader image = file.openImage()) {
        Snapshot s = image.snapshot();
        long group = image.group();
        if (group < 1 || group > groups) {
          throw new InvalidException(path + ": group " + group + " of " + groups);
        }
        return new SnapshotFile(path, file.clusterId, node, groups, group, s, prefixBytes,
            snapshotFileLength);
      }
    }
  }

  /**
   * The image of the embedded snapshot, read block by block, each verified as it is read
   * (damage then throws an unchecked exception that names the file and offset).
   *
   * @throws InvalidException if the embedded snapshot's header or trailer is damaged
   */
  SnapshotReader openImage() throws InvalidException, IOException {
    Disk.File file = RealDisk.openReadOnly(path);
    try {
      return SnapshotReader.openEmbedded(file, path, snapshotFileOffset, snapshotFileLength);
    } catch (StorageCorruptionException e) {
      throw invalid(e);
    }
  }

  /** Damage in the embedded snapshot, its offset counted from the start of the export. */
  InvalidException invalid(StorageCorruptionException e) {
    String reason = e.getMessage().substring(e.getMessage().indexOf(": ") + 2);
    return new InvalidException(path + ": checksum mismatch or damage at offset "
        + (snapshotFileOffset + e.offset()) + " (" + reason + "): the file is damaged (export"
        + " it again, or use another copy)");
  }

  private static ByteBuffer readAt(FileChannel channel, long position, int length)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      if (channel.read(buf, position + buf.position()) < 0) {
        break;
      }
    }
    return buf.flip();
  }
}
