package io.detraft.io;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Layout of a snapshot file, version 3: the image is framed in blocks, each with its own
 * checksum, so that it can be written as it is produced (length and checksum come last, in a
 * trailer) and read back in pieces, each verified, without ever holding the whole image.
 *
 * <pre>
 * file    = header headerCrc:u32 block* trailer                       (big-endian)
 * header  = magic:u32 version:u32 group:u64 index:u64 term:u64
 *           voterCount:u32 voter:u64* learnerCount:u32 learner:u64*
 * block   = data:(BLOCK_BYTES, the last one shorter) crc32c(blockNumber:u64 data):u32
 * trailer = trailerMagic:u32 dataLength:u64 crc32c(headerCrc:u32 dataLength:u64):u32
 * </pre>
 *
 * <p>The block number in each block's checksum catches a block written in the wrong place.
 * The file size must be exactly what the header and {@code dataLength} say.
 */
final class SnapshotFormat {
  static final int MAGIC = 0x4452534E; // "DRSN"
  static final int VERSION = 3;
  static final int TRAILER_MAGIC = 0x44525452; // "DRTR"
  static final int BLOCK_BYTES = 64 * 1024;
  static final int FIXED_HEADER_BYTES = 32;
  static final int TRAILER_BYTES = 16;
  /** The most members a snapshot may name: a bound on what a damaged count can make us read. */
  static final int MAX_MEMBERS = 1 << 16;

  private SnapshotFormat() {}

  /** Where a file's parts lie, from its verified header and trailer. */
  record Layout(long group, long index, long term, Membership membership, long dataStart,
      long dataLength) {
    long blocks() {
      return (dataLength + BLOCK_BYTES - 1) / BLOCK_BYTES;
    }

    long fileSize() {
      return dataStart + dataLength + 4 * blocks() + TRAILER_BYTES;
    }

    /** The file position of block {@code block}. */
    long blockStart(long block) {
      return dataStart + block * (BLOCK_BYTES + 4L);
    }

    int blockLength(long block) {
      return (int) Math.min(BLOCK_BYTES, dataLength - block * BLOCK_BYTES);
    }

    Snapshot snapshot() {
      return Snapshot.metadata(index, term, membership, dataLength);
    }
  }

  /** The header, its checksum included. */
  static ByteBuffer header(long group, long index, long term, Membership members) {
    long[] voters = members.votersWitnessesNegated(); // witnesses negated, as the codec does
    long[] learners = members.learners();
    ByteBuffer header = ByteBuffer.allocate(FIXED_HEADER_BYTES + 4 + 8 * voters.length + 4
        + 8 * learners.length + 4);
    header.putInt(MAGIC).putInt(VERSION).putLong(group).putLong(index).putLong(term);
    putIds(header, voters);
    putIds(header, learners);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, header.position());
    return header.putInt((int) crc.getValue()).flip();
  }

  static int blockCrc(long block, byte[] data, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(8).putLong(0, block));
    crc.update(data, offset, length);
    return (int) crc.getValue();
  }

  static ByteBuffer trailer(int headerCrc, long dataLength) {
    ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).putInt(TRAILER_MAGIC)
        .putLong(dataLength);
    trailer.putInt(trailerCrc(headerCrc, dataLength));
    return trailer.flip();
  }

  private static int trailerCrc(int headerCrc, long dataLength) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(12).putInt(0, headerCrc).putLong(4, dataLength));
    return (int) crc.getValue();
  }

  /**
   * Reads and verifies the header and trailer of {@code file} (blocks are verified as they
   * are read).
   *
   * @throws StorageCorruptionException if they fail verification
   */
  static Layout layout(Disk.File file, Path name) throws IOException {
    long size = file.size();
    if (size < FIXED_HEADER_BYTES + 12 + TRAILER_BYTES) {
      throw new StorageCorruptionException(name, size, "snapshot file too short");
    }
    ByteBuffer fixed = read(file, name, 0, FIXED_HEADER_BYTES + 4);
    if (fixed.getInt(0) != MAGIC || fixed.getInt(4) != VERSION) {
      throw new StorageCorruptionException(name, 0, "not a version " + VERSION + " snapshot");
    }
    int voterCount = count(fixed.getInt(FIXED_HEADER_BYTES), name, FIXED_HEADER_BYTES);
    long learnerCountAt = FIXED_HEADER_BYTES + 4 + 8L * voterCount;
    if (learnerCountAt + 8 + TRAILER_BYTES > size) {
      throw new StorageCorruptionException(name, FIXED_HEADER_BYTES, "voter count too large");
    }
    int learnerCount = count(read(file, name, learnerCountAt, 4).getInt(0), name,
        learnerCountAt);
    long headerBytes = learnerCountAt + 4 + 8L * learnerCount;
    if (headerBytes + 4 + TRAILER_BYTES > size) {
      throw new StorageCorruptionException(name, learnerCountAt, "learner count too large");
    }
    ByteBuffer header = read(file, name, 0, (int) headerBytes + 4);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, (int) headerBytes);
    int headerCrc = header.getInt((int) headerBytes);
    if (headerCrc != (int) crc.getValue()) {
      throw new StorageCorruptionException(name, headerBytes, "snapshot header checksum mismatch");
    }
    ByteBuffer trailer = read(file, name, size - TRAILER_BYTES, TRAILER_BYTES);
    long dataLength = trailer.getLong(4);
    if (trailer.getInt(0) != TRAILER_MAGIC
        || trailer.getInt(12) != trailerCrc(headerCrc, dataLength)) {
      throw new StorageCorruptionException(name, size - TRAILER_BYTES,
          "snapshot trailer damaged or missing");
    }
    header.position(FIXED_HEADER_BYTES);
    long[] voters = getIds(header);
    long[] learners = getIds(header);
    Membership membership;
    try {
      membership = Membership.fromWitnessesNegated(voters, learners);
    } catch (IllegalArgumentException | IllegalStateException e) {
      // A valid checksum over an invalid header: written by a buggy or foreign program.
      throw new StorageCorruptionException(name, FIXED_HEADER_BYTES,
          "invalid snapshot metadata: " + e);
    }
    Layout layout = new Layout(header.getLong(8), header.getLong(16), header.getLong(24),
        membership, headerBytes + 4, dataLength);
    if (dataLength < 0 || layout.fileSize() != size) {
      throw new StorageCorruptionException(name, size - TRAILER_BYTES, "snapshot data length "
          + dataLength + " disagrees with the file size " + size);
    }
    return layout;
  }

  /** Exactly {@code length} bytes at {@code position}. */
  static ByteBuffer read(Disk.File file, Path name, long position, int length)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    readFully(file, name, buf, position);
    return buf;
  }

  static void readFully(Disk.File file, Path name, ByteBuffer target, long position)
      throws IOException {
    while (target.hasRemaining()) {
      int n = file.read(target, position);
      if (n < 0) {
        throw new StorageCorruptionException(name, position, "snapshot file ends early");
      }
      position += n;
    }
  }

  private static int count(int count, Path name, long offset) throws StorageCorruptionException {
    if (count < 0 || count > MAX_MEMBERS) {
      throw new StorageCorruptionException(name, offset, "member count " + count);
    }
    return count;
  }

  static void putIds(ByteBuffer buf, long[] ids) {
    buf.putInt(ids.length);
    for (long id : ids) {
      buf.putLong(id);
    }
  }

  static long[] getIds(ByteBuffer buf) {
    int count = buf.getInt();
    if (count < 0 || count > MAX_MEMBERS) {
      throw new IllegalArgumentException("member count " + count);
    }
    long[] ids = new long[count];
    for (int i = 0; i < count; i++) {
      ids[i] = buf.getLong();
    }
    return ids;
  }
}
