package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.HardState;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk format of write-ahead-log segments. It is the WAL's own, not the wire codec's:
 * files outlive releases, so the format changes only with {@link #FORMAT_VERSION}.
 *
 * <pre>
 * segment = header record*  (zero-filled after the last record: the file is pre-allocated)
 * header  = magic:u32 version:u32 segmentSeq:u64 crc32c(previous 16 bytes):u32 zero-pad to 32
 * record  = bodyLength:u32 crc:u32 type:u8 body[bodyLength]
 *           crc = CRC32C over bodyLength, type and body (everything but the crc field)
 * BATCH      body = batchSeq:u64                 first record after every fsync
 * END        body = 0x5AA55AA55AA55AA5:u64        last record before every fsync
 * ENTRY      body = group:u64 term:u64 index:u64 entryType:u8 data[...]
 * HARD_STATE body = group:u64 term:u64 vote:u64 commit:u64
 * COMPACT    body = group:u64 index:u64 term:u64  entries up to index are discarded
 * RESET      body = group:u64 index:u64 term:u64  every entry is discarded; the log continues
 *                                                 after index (a snapshot from the leader)
 * </pre>
 *
 * <p>Big-endian throughout. A zero body length never occurs in a valid record, so zeros mark
 * the end of the written part. The BATCH record is what lets recovery tell a torn tail from
 * corruption: batch {@code n+1} is written only after batch {@code n} was fsynced, so a valid
 * later batch behind a damaged record proves that the damaged record had been made durable.
 * The END record settles the last batch, which no later batch vouches for: a write torn by a
 * crash lacks its end (writes land front to back), while a batch that reached the disk whole
 * keeps its end marker even when a flipped bit breaks a record before it. Every byte of the
 * marker has at least two bits set, so no single flipped bit turns it into zeros.
 */
final class WalFormat {
  static final int SEGMENT_MAGIC = 0x44525741; // "DRWA"
  static final int FORMAT_VERSION = 2;
  static final int SEGMENT_HEADER_BYTES = 32;
  /** bodyLength + crc + type. */
  static final int RECORD_HEADER_BYTES = 9;

  static final byte BATCH = 1;
  static final byte ENTRY = 2;
  static final byte HARD_STATE = 3;
  static final byte COMPACT = 4;
  static final byte RESET = 5;
  static final byte END = 6;

  static final int BATCH_BODY_BYTES = 8;
  static final int ENTRY_FIXED_BODY_BYTES = 25;
  static final int HARD_STATE_BODY_BYTES = 32;
  static final int COMPACT_BODY_BYTES = 24;
  static final int RESET_BODY_BYTES = 24;
  static final int END_BODY_BYTES = 8;
  static final int END_RECORD_BYTES = RECORD_HEADER_BYTES + END_BODY_BYTES;
  static final long END_MARKER = 0x5AA55AA55AA55AA5L;

  private WalFormat() {}

  static String segmentName(long seq) {
    return String.format("%020d.wal", seq);
  }

  /** The sequence number in a segment file name, or -1 if it is not one. */
  static long segmentSeq(String fileName) {
    if (fileName.length() != 24 || !fileName.endsWith(".wal")) {
      return -1;
    }
    try {
      return Long.parseLong(fileName.substring(0, 20));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static ByteBuffer segmentHeader(long seq) {
    ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
    header.putInt(SEGMENT_MAGIC).putInt(FORMAT_VERSION).putLong(seq);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, 16);
    header.putInt((int) crc.getValue());
    header.clear();
    return header;
  }

  /** Null if the header at the start of {@code segment} is valid for {@code seq}, else why not. */
  static String checkSegmentHeader(ByteBuffer segment, long seq) {
    if (segment.limit() < SEGMENT_HEADER_BYTES) {
      return "file shorter than a segment header";
    }
    CRC32C crc = new CRC32C();
    crc.update(segment.array(), segment.arrayOffset(), 16);
    if (segment.getInt(16) != (int) crc.getValue()) {
      return "segment header checksum mismatch";
    }
    if (segment.getInt(0) != SEGMENT_MAGIC) {
      return "not a WAL segment (bad magic)";
    }
    // Version 1 differs only in lacking END records, so it reads the same (its damaged last
    // batch is taken for a torn one, as version 1 did).
    if (segment.getInt(4) != FORMAT_VERSION && segment.getInt(4) != 1) {
      return "unsupported WAL format version " + segment.getInt(4);
    }
    if (segment.getLong(8) != seq) {
      return "segment header names sequence " + segment.getLong(8) + ", file name " + seq;
    }
    return null;
  }

  // ------------------------------------------------------------------ writing

  static int entryRecordBytes(Entry entry) {
    return RECORD_HEADER_BYTES + ENTRY_FIXED_BODY_BYTES + entry.data().length;
  }

  static void putBatch(ByteBuffer buf, long batchSeq, CRC32C crc) {
    int start = begin(buf, BATCH);
    buf.putLong(batchSeq);
    finish(buf, start, crc);
  }

  static void putEnd(ByteBuffer buf, CRC32C crc) {
    int start = begin(buf, END);
    buf.putLong(END_MARKER);
    finish(buf, start, crc);
  }

  static void putEntry(ByteBuffer buf, long group, Entry entry, CRC32C crc) {
    int start = begin(buf, ENTRY);
    buf.putLong(group).putLong(entry.term()).putLong(entry.index());
    buf.put((byte) entry.type().ordinal());
    buf.put(entry.data());
    finish(buf, start, crc);
  }

  static void putHardState(ByteBuffer buf, long group, HardState hardState, CRC32C crc) {
    int start = begin(buf, HARD_STATE);
    buf.putLong(group).putLong(hardState.term()).putLong(hardState.vote())
        .putLong(hardState.commit());
    finish(buf, start, crc);
  }

  static void putCompact(ByteBuffer buf, long group, long index, long term, CRC32C crc) {
    int start = begin(buf, COMPACT);
    buf.putLong(group).putLong(index).putLong(term);
    finish(buf, start, crc);
  }

  static void putReset(ByteBuffer buf, long group, long index, long term, CRC32C crc) {
    int start = begin(buf, RESET);
    buf.putLong(group).putLong(index).putLong(term);
    finish(buf, start, crc);
  }

  private static int begin(ByteBuffer buf, byte type) {
    int start = buf.position();
    buf.position(start + 8);
    buf.put(type);
    return start;
  }

  /** Fills in the length and checksum of the record that starts at {@code start}. */
  private static void finish(ByteBuffer buf, int start, CRC32C crc) {
    int end = buf.position();
    buf.putInt(start, end - start - RECORD_HEADER_BYTES);
    buf.putInt(start + 4, checksum(buf, start, end, crc));
    buf.limit(buf.capacity()).position(end);
  }

  /** CRC32C of the record in [start, end) without its crc field; leaves position/limit moved. */
  private static int checksum(ByteBuffer buf, int start, int end, CRC32C crc) {
    crc.reset();
    buf.limit(start + 4).position(start);
    crc.update(buf);
    buf.limit(end).position(start + 8);
    crc.update(buf);
    return (int) crc.getValue();
  }

  // ------------------------------------------------------------------ reading

  /**
   * The total size of the valid record at {@code pos} in {@code buf} (which holds a segment
   * up to its limit), or 0 if there is none: zeros, a length running past the end, an unknown
   * type, a body of the wrong size for its type, or a checksum mismatch.
   */
  static int validRecordAt(ByteBuffer buf, int pos, CRC32C crc) {
    int limit = buf.limit();
    if (pos + RECORD_HEADER_BYTES > limit) {
      return 0;
    }
    int bodyBytes = buf.getInt(pos);
    if (bodyBytes <= 0 || bodyBytes > limit - pos - RECORD_HEADER_BYTES) {
      return 0;
    }
    if (!bodySizeFits(buf.get(pos + 8), bodyBytes)) {
      return 0;
    }
    int end = pos + RECORD_HEADER_BYTES + bodyBytes;
    int expected = buf.getInt(pos + 4);
    int actual = checksum(buf, pos, end, crc);
    buf.limit(limit).position(0);
    return expected == actual ? end - pos : 0;
  }

  private static boolean bodySizeFits(byte type, int bodyBytes) {
    switch (type) {
      case BATCH:
        return bodyBytes == BATCH_BODY_BYTES;
      case ENTRY:
        return bodyBytes >= ENTRY_FIXED_BODY_BYTES;
      case HARD_STATE:
        return bodyBytes == HARD_STATE_BODY_BYTES;
      case COMPACT:
        return bodyBytes == COMPACT_BODY_BYTES;
      case RESET:
        return bodyBytes == RESET_BODY_BYTES;
      case END:
        return bodyBytes == END_BODY_BYTES;
      default:
        return false;
    }
  }

  static byte type(ByteBuffer buf, int pos) {
    return buf.get(pos + 8);
  }

  /** Body field {@code n} (0-based, u64) of the record at {@code pos}. */
  static long longField(ByteBuffer buf, int pos, int n) {
    return buf.getLong(pos + RECORD_HEADER_BYTES + 8 * n);
  }

  static Entry entry(ByteBuffer buf, int pos, int recordBytes) {
    int typeOrdinal = buf.get(pos + RECORD_HEADER_BYTES + 24);
    EntryType[] types = EntryType.values();
    if (typeOrdinal < 0 || typeOrdinal >= types.length) {
      return null;
    }
    byte[] data = new byte[recordBytes - RECORD_HEADER_BYTES - ENTRY_FIXED_BODY_BYTES];
    buf.get(pos + RECORD_HEADER_BYTES + ENTRY_FIXED_BODY_BYTES, data);
    return new Entry(longField(buf, pos, 1), longField(buf, pos, 2), types[typeOrdinal], data);
  }

  /**
   * The offset of a valid BATCH record in [from, limit) whose sequence is above {@code
   * afterSeq}, or -1. Used after a damaged record to ask "was anything written after it in a
   * later fsync batch?" A batch starts only once the one before it was synced, and recovery
   * zeroes whatever follows the tail it keeps, so such a record proves the damaged batch was
   * synced: by the very next batch, or by a later one when a misdirected write destroyed those
   * in between (found by the simulator, kv seed 299: a write landed on two synced batches).
   */
  static int findBatch(ByteBuffer buf, int from, long afterSeq, CRC32C crc) {
    int last = buf.limit() - RECORD_HEADER_BYTES - BATCH_BODY_BYTES;
    for (int p = from; p <= last; p++) {
      // Cheap filters first: almost every offset fails on the length or the type byte.
      if (buf.getInt(p) == BATCH_BODY_BYTES && buf.get(p + 8) == BATCH
          && buf.getLong(p + RECORD_HEADER_BYTES) > afterSeq && validRecordAt(buf, p, crc) > 0) {
        return p;
      }
    }
    return -1;
  }

  /**
   * Whether the record at {@code pos} is an END record with at most two bits flipped (in its
   * length, type or marker; its checksum is not consulted).
   */
  static boolean looksLikeEnd(ByteBuffer buf, int pos) {
    return pos + END_RECORD_BYTES <= buf.limit()
        && Integer.bitCount(buf.getInt(pos) ^ END_BODY_BYTES)
            + Integer.bitCount((buf.get(pos + 8) ^ END) & 0xff)
            + Long.bitCount(buf.getLong(pos + RECORD_HEADER_BYTES) ^ END_MARKER) <= 2;
  }

  /**
   * Whether the bytes just before {@code end} are a batch's end marker, allowing for two
   * flipped bits: the batch they close reached the disk whole.
   */
  static boolean endMarkerBefore(ByteBuffer buf, int from, int end) {
    return end - END_BODY_BYTES >= from
        && Long.bitCount(buf.getLong(end - END_BODY_BYTES) ^ END_MARKER) <= 2;
  }

  /** Disk sectors are written atomically, each whole or not at all. */
  static final int SECTOR_BYTES = 512;

  /**
   * Where the record at {@code pos} would end, from its length field when that is plausible
   * (within {@code limit}), else one sector on (the length itself may be what is missing).
   */
  static int recordEnd(ByteBuffer buf, int pos, int limit) {
    int bodyBytes = pos + 4 <= limit ? buf.getInt(pos) : 0;
    long end = (long) pos + RECORD_HEADER_BYTES + bodyBytes;
    return bodyBytes > 0 && end <= limit ? (int) end : Math.min(limit, pos + SECTOR_BYTES);
  }

  /**
   * Whether a sector (at a multiple of {@link #SECTOR_BYTES} in the file) overlapping [from,
   * to) holds only zeros from {@code from} on: part of a write that never reached it (what
   * lies before {@code from} verified, so was written before). A flipped bit leaves no such
   * sector; a record body that holds a whole sector of zeros itself is the one ambiguity.
   */
  static boolean staleSectorIn(ByteBuffer buf, int from, int to) {
    for (int sector = from / SECTOR_BYTES * SECTOR_BYTES; sector < to; sector += SECTOR_BYTES) {
      boolean zeros = true;
      int end = Math.min(sector + SECTOR_BYTES, buf.limit());
      for (int i = Math.max(sector, from); zeros && i < end; i++) {
        zeros = buf.get(i) == 0;
      }
      if (zeros) {
        return true;
      }
    }
    return false;
  }

  /** The offset just past the last non-zero byte in [from, limit), or {@code from} if none. */
  static int endOfNonZero(ByteBuffer buf, int from) {
    int p = buf.limit();
    while (p - Long.BYTES >= from && buf.getLong(p - Long.BYTES) == 0) {
      p -= Long.BYTES; // a pre-allocated segment is mostly zeros: skip them a word at a time
    }
    while (p > from && buf.get(p - 1) == 0) {
      p--;
    }
    return p;
  }
}
