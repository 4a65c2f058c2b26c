package io.detraft.kv;

import io.detraft.core.Snapshot;
import io.detraft.io.SnapshotStore;
import io.detraft.io.StorageCorruptionException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * An exported snapshot of one group, for disaster recovery ({@code detraft snapshot export},
 * {@code import}): the snapshot exactly as a node's snapshot store keeps it ({@link
 * SnapshotStore#encode}: group, index, term, voters, learners, data and its own CRC32C),
 * wrapped with what says which cluster it belongs to, so that an import into another
 * cluster's node is refused:
 *
 * <pre>
 * file = magic "DRXP":u32 version:u32 clusterIdLength:u16 clusterId:utf8 node:u64 groups:u32
 *        snapshotLength:u64 snapshotFile crc32c:u32     (big-endian; the crc covers all before it)
 * </pre>
 *
 * @param clusterId the cluster the group belongs to
 * @param node the node it was exported from
 * @param groups the cluster's group count (keys are hash-partitioned over them)
 * @param group the group
 * @param snapshot its index, term, membership and state-machine image
 */
record SnapshotFile(String clusterId, long node, int groups, long group, Snapshot snapshot) {
  private static final int MAGIC = 0x44525850; // "DRXP"
  private static final int VERSION = 1;
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

  byte[] encode() {
    byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
    byte[] stored = SnapshotStore.encode(group, snapshot);
    ByteBuffer out = ByteBuffer.allocate(4 + 4 + 2 + cluster.length + 8 + 4 + 8 + stored.length
        + 4);
    out.putInt(MAGIC).putInt(VERSION).putShort((short) cluster.length).put(cluster)
        .putLong(node).putInt(groups).putLong(stored.length).put(stored);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    return out.putInt((int) crc.getValue()).array();
  }

  /**
   * Verifies and reads an exported snapshot.
   *
   * @param source named in the message of an error
   * @throws InvalidException if a checksum fails or the bytes are not an exported snapshot
   */
  static SnapshotFile decode(byte[] bytes, Path source) throws InvalidException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    if (bytes.length < 4 + 4 + 2 + 8 + 4 + 8 + 4 || buf.getInt(0) != MAGIC) {
      throw new InvalidException(source + " is not an exported detraft snapshot");
    }
    int end = bytes.length - 4;
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, end);
    if (buf.getInt(end) != (int) crc.getValue()) {
      throw new InvalidException(source + ": checksum mismatch: the file is damaged (export"
          + " it again, or use another copy)");
    }
    if (buf.getInt(4) != VERSION) {
      throw new InvalidException(source + ": export format version " + buf.getInt(4)
          + "; this detraft reads version " + VERSION);
    }
    try {
      buf.position(8).limit(end);
      byte[] cluster = new byte[buf.getShort() & 0xFFFF];
      buf.get(cluster);
      long node = buf.getLong();
      int groups = buf.getInt();
      long length = buf.getLong();
      if (length != buf.remaining()) {
        throw new InvalidException(source + ": snapshot length " + length
            + " disagrees with the file size");
      }
      byte[] stored = new byte[(int) length];
      buf.get(stored);
      SnapshotStore.Stored s = SnapshotStore.decode(stored, source);
      if (s.group() < 1 || s.group() > groups) {
        throw new InvalidException(source + ": group " + s.group() + " of " + groups);
      }
      return new SnapshotFile(new String(cluster, StandardCharsets.UTF_8), node, groups,
          s.group(), s.snapshot());
    } catch (StorageCorruptionException e) {
      throw new InvalidException(source + ": " + e.getMessage());
    } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException e) {
      // A good checksum over bad content: written by something else than detraft.
      throw new InvalidException(source + ": invalid content: " + e);
    }
  }
}
