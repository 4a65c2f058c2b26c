package io.detraft.core;

import io.detraft.core.Message.AppendRequest;
import io.detraft.core.Message.AppendResponse;
import io.detraft.core.Message.Heartbeat;
import io.detraft.core.Message.HeartbeatResponse;
import io.detraft.core.Message.InstallSnapshot;
import io.detraft.core.Message.Propose;
import io.detraft.core.Message.ReadIndexRequest;
import io.detraft.core.Message.ReadIndexResponse;
import io.detraft.core.Message.SnapshotResponse;
import io.detraft.core.Message.TimeoutNow;
import io.detraft.core.Message.VoteRequest;
import io.detraft.core.Message.VoteResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary form of every {@link Message} and of a single {@link Entry}: pure
 * {@code byte[] <-> record}, no I/O. The simulator round-trips every message through it; real
 * transports frame and send its output.
 *
 * <p>Format, version 1. Every encoding starts with a version byte ({@value #VERSION}) and a type
 * tag byte, followed by the fields in the order listed:
 *
 * <pre>
 *   long   unsigned LEB128 varint of the 64-bit two's-complement value, 1..10 bytes, minimal
 *          (a negative value, which no replica sends, takes 10 bytes)
 *   bool   one byte, 0 or 1
 *   bytes  length (long, 0..remaining input) then that many bytes
 *   type   one byte: 0 NORMAL, 1 CONFIG_CHANGE
 *
 *   1 VoteRequest        group from to term lastLogIndex lastLogTerm preVote:bool
 *   2 VoteResponse       group from to term granted:bool preVote:bool
 *   3 AppendRequest      group from to term prevLogIndex prevLogTerm leaderCommit
 *                        count:long, then count x (term:long type data:bytes)
 *                        (entry i has index prevLogIndex + 1 + i, so it is not sent)
 *   4 AppendResponse     group from to term rejected:bool index hintIndex hintTerm
 *   5 Heartbeat          group from to term commit
 *   6 HeartbeatResponse  group from to term
 *   7 Propose            group from to term count:long, then count x data:bytes
 *  16 Entry              term index type data:bytes   (only via encodeEntry/decodeEntry)
 * </pre>
 *
 * <p>Decoding validates everything and is canonical: a length or count is checked against the
 * remaining input before anything is allocated; unknown versions, tags and entry types,
 * non-minimal varints, booleans other than 0/1, trailing bytes and entries with a term or index
 * below 1 are rejected; any input either decodes to a record whose encoding is exactly that
 * input, or throws {@link CodecException} (and nothing else).
 */
public final class Codec {
  /** The format version this codec writes and the only one it reads. */
  public static final int VERSION = 1;

  private static final int TAG_VOTE_REQUEST = 1;
  private static final int TAG_VOTE_RESPONSE = 2;
  private static final int TAG_APPEND_REQUEST = 3;
  private static final int TAG_APPEND_RESPONSE = 4;
  private static final int TAG_HEARTBEAT = 5;
  private static final int TAG_HEARTBEAT_RESPONSE = 6;
  private static final int TAG_PROPOSE = 7;
  private static final int TAG_INSTALL_SNAPSHOT = 8;
  private static final int TAG_SNAPSHOT_RESPONSE = 9;
  private static final int TAG_TIMEOUT_NOW = 10;
  private static final int TAG_READ_INDEX_REQUEST = 11;
  private static final int TAG_READ_INDEX_RESPONSE = 12;
  private static final int TAG_ENTRY = 16;

  /** Smallest encodings of list elements, to bound a count before allocating for it. */
  private static final int MIN_APPEND_ENTRY_BYTES = 3; // term, type, data length
  private static final int MIN_PROPOSAL_BYTES = 1; // data length

  private Codec() {}

  // ---------------------------------------------------------------- encoding

  /**
   * Encodes {@code message}.
   *
   * @throws IllegalArgumentException if an AppendRequest's entries do not follow its
   *     {@code prevLogIndex} contiguously (the format derives their indexes from it), or the
   *     encoding would not fit in a byte array
   */
  public static byte[] encode(Message message) {
    if (message == null) {
      throw new IllegalArgumentException("message is null");
    }
    Writer out = new Writer();
    out.writeByte(VERSION);
    // Java 17 has no pattern switch: this chain is the codec's one dispatch on the sealed type;
    // CodecTest checks that every permitted subtype round-trips.
    if (message instanceof VoteRequest m) {
      out.writeByte(TAG_VOTE_REQUEST);
      writeHeader(out, m);
      out.writeLong(m.lastLogIndex());
      out.writeLong(m.lastLogTerm());
      out.writeBoolean(m.preVote());
      out.writeBoolean(m.transfer());
    } else if (message instanceof VoteResponse m) {
      out.writeByte(TAG_VOTE_RESPONSE);
      writeHeader(out, m);
      out.writeBoolean(m.granted());
      out.writeBoolean(m.preVote());
    } else if (message instanceof AppendRequest m) {
      out.writeByte(TAG_APPEND_REQUEST);
      writeHeader(out, m);
      out.writeLong(m.prevLogIndex());
      out.writeLong(m.prevLogTerm());
      out.writeLong(m.leaderCommit());
      writeAppendEntries(out, m);
    } else if (message instanceof AppendResponse m) {
      out.writeByte(TAG_APPEND_RESPONSE);
      writeHeader(out, m);
      out.writeBoolean(m.rejected());
      out.writeLong(m.index());
      out.writeLong(m.hintIndex());
      out.writeLong(m.hintTerm());
    } else if (message instanceof Heartbeat m) {
      out.writeByte(TAG_HEARTBEAT);
      writeHeader(out, m);
      out.writeLong(m.commit());
      out.writeLong(m.round());
    } else if (message instanceof HeartbeatResponse m) {
      out.writeByte(TAG_HEARTBEAT_RESPONSE);
      writeHeader(out, m);
      out.writeLong(m.round());
    } else if (message instanceof Propose m) {
      out.writeByte(TAG_PROPOSE);
      writeHeader(out, m);
      out.writeLong(m.data().size());
      for (byte[] data : m.data()) {
        out.writeBytes(data);
      }
    } else if (message instanceof InstallSnapshot m) {
      out.writeByte(TAG_INSTALL_SNAPSHOT);
      writeHeader(out, m);
      out.writeLong(m.snapshotIndex());
      out.writeLong(m.snapshotTerm());
      writeMembership(out, m.membership());
      out.writeLong(m.totalBytes());
      out.writeLong(m.offset());
      out.writeBytes(m.chunk());
      // `done` is implied by offset + chunk length == totalBytes.
    } else if (message instanceof SnapshotResponse m) {
      out.writeByte(TAG_SNAPSHOT_RESPONSE);
      writeHeader(out, m);
      out.writeLong(m.snapshotIndex());
      out.writeLong(m.nextOffset());
    } else if (message instanceof TimeoutNow m) {
      out.writeByte(TAG_TIMEOUT_NOW);
      writeHeader(out, m);
    } else if (message instanceof ReadIndexRequest m) {
      out.writeByte(TAG_READ_INDEX_REQUEST);
      writeHeader(out, m);
      out.writeBytes(m.context());
    } else if (message instanceof ReadIndexResponse m) {
      out.writeByte(TAG_READ_INDEX_RESPONSE);
      writeHeader(out, m);
      out.writeLong(m.index());
      out.writeBytes(m.context());
    } else {
      throw new IllegalArgumentException("unknown message type " + message.getClass());
    }
    return out.toByteArray();
  }

  /** Encodes a single entry (for write-ahead logs and tests). */
  public static byte[] encodeEntry(Entry entry) {
    if (entry == null) {
      throw new IllegalArgumentException("entry is null");
    }
    Writer out = new Writer();
    out.writeByte(VERSION);
    out.writeByte(TAG_ENTRY);
    out.writeLong(entry.term());
    out.writeLong(entry.index());
    out.writeByte(typeCode(entry.type()));
    out.writeBytes(entry.data());
    return out.toByteArray();
  }

  private static void writeHeader(Writer out, Message m) {
    out.writeLong(m.group());
    out.writeLong(m.from());
    out.writeLong(m.to());
    out.writeLong(m.term());
  }

  private static void writeAppendEntries(Writer out, AppendRequest m) {
    List<Entry> entries = m.entries();
    out.writeLong(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e.index() != m.prevLogIndex() + 1 + i) {
        throw new IllegalArgumentException(String.format(
            "AppendRequest entry %d has index %d, expected %d (prevLogIndex %d + 1 + %d)",
            i, e.index(), m.prevLogIndex() + 1 + i, m.prevLogIndex(), i));
      }
      out.writeLong(e.term());
      out.writeByte(typeCode(e.type()));
      out.writeBytes(e.data());
    }
  }

  private static int typeCode(EntryType type) {
    // Explicit codes, not ordinal(): reordering the enum must not change the wire format.
    return switch (type) {
      case NORMAL -> 0;
      case CONFIG_CHANGE -> 1;
    };
  }

  // ---------------------------------------------------------------- decoding

  /** Decodes a whole array holding exactly one message. */
  public static Message decode(byte[] bytes) {
    if (bytes == null) {
      throw new CodecException(0, "input is null");
    }
    return decode(bytes, 0, bytes.length);
  }

  /**
   * Decodes exactly one message from {@code bytes[offset, offset + length)}. Offsets in errors
   * count from {@code offset}.
   */
  public static Message decode(byte[] bytes, int offset, int length) {
    Reader in = new Reader(bytes, offset, length);
    int tag = in.readHeader();
    long group = in.readLong("group");
    long from = in.readLong("from");
    long to = in.readLong("to");
    long term = in.readLong("term");
    Message message = switch (tag) {
      case TAG_VOTE_REQUEST -> new VoteRequest(group, from, to, term,
          in.readLong("lastLogIndex"), in.readLong("lastLogTerm"), in.readBoolean("preVote"),
          in.readBoolean("transfer"));
      case TAG_VOTE_RESPONSE -> new VoteResponse(group, from, to, term,
          in.readBoolean("granted"), in.readBoolean("preVote"));
      case TAG_APPEND_REQUEST -> {
        long prevLogIndex = in.readLong("prevLogIndex");
        long prevLogTerm = in.readLong("prevLogTerm");
        long leaderCommit = in.readLong("leaderCommit");
        List<Entry> entries = readAppendEntries(in, prevLogIndex);
        yield new AppendRequest(group, from, to, term, prevLogIndex, prevLogTerm, entries,
            leaderCommit);
      }
      case TAG_APPEND_RESPONSE -> new AppendResponse(group, from, to, term,
          in.readBoolean("rejected"), in.readLong("index"), in.readLong("hintIndex"),
          in.readLong("hintTerm"));
      case TAG_HEARTBEAT -> new Heartbeat(group, from, to, term, in.readLong("commit"),
          in.readLong("round"));
      case TAG_HEARTBEAT_RESPONSE -> new HeartbeatResponse(group, from, to, term,
          in.readLong("round"));
      case TAG_TIMEOUT_NOW -> new TimeoutNow(group, from, to, term);
      case TAG_READ_INDEX_REQUEST -> new ReadIndexRequest(group, from, to, term,
          in.readBytes("context"));
      case TAG_READ_INDEX_RESPONSE -> new ReadIndexResponse(group, from, to, term,
          in.readLong("index"), in.readBytes("context"));
      case TAG_PROPOSE -> {
        int count = in.readCount("proposal count", MIN_PROPOSAL_BYTES);
        List<byte[]> data = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          data.add(in.readBytes("proposal data"));
        }
        yield new Propose(group, from, to, term, data);
      }
      case TAG_INSTALL_SNAPSHOT -> readInstallSnapshot(in, group, from, to, term);
      case TAG_SNAPSHOT_RESPONSE -> new SnapshotResponse(group, from, to, term,
          in.readLong("snapshotIndex"), in.readLong("nextOffset"));
      // readHeader lets only message tags through.
      default -> throw new IllegalStateException("unreachable: tag " + tag);
    };
    in.expectEnd();
    return message;
  }

  private static InstallSnapshot readInstallSnapshot(Reader in, long group, long from, long to,
      long term) {
    long snapshotIndex = in.readLong("snapshotIndex");
    long snapshotTerm = in.readLong("snapshotTerm");
    Membership membership = readMembership(in);
    int totalAt = in.position();
    long totalBytes = in.readLong("totalBytes");
    long offset = in.readLong("offset");
    byte[] chunk = in.readBytes("chunk");
    if (totalBytes < 0 || offset < 0 || offset > totalBytes - chunk.length) {
      throw new CodecException(totalAt, "chunk [%d, +%d) lies outside a snapshot of %d bytes",
          offset, chunk.length, totalBytes);
    }
    if (snapshotIndex < 1 || snapshotTerm < 1) {
      throw new CodecException(totalAt, "snapshot index and term must be >= 1");
    }
    return new InstallSnapshot(group, from, to, term, snapshotIndex, snapshotTerm, membership,
        totalBytes, offset, chunk, offset + chunk.length == totalBytes);
  }

  /** Encodes a membership: the data of a {@link EntryType#CONFIG_CHANGE} entry. */
  public static byte[] encodeMembership(Membership membership) {
    Writer out = new Writer();
    out.writeByte(VERSION);
    writeMembership(out, membership);
    return out.toByteArray();
  }

  public static Membership decodeMembership(byte[] bytes) {
    Reader in = new Reader(bytes, 0, bytes == null ? 0 : bytes.length);
    in.readVersion();
    Membership membership = readMembership(in);
    in.expectEnd();
    return membership;
  }

  private static void writeMembership(Writer out, Membership membership) {
    // A witness is written as its negated id: without witnesses, the bytes are as they were.
    out.writeLong(membership.voters().length);
    for (long voter : membership.votersWitnessesNegated()) {
      out.writeLong(voter);
    }
    out.writeLong(membership.learners().length);
    for (long learner : membership.learners()) {
      out.writeLong(learner);
    }
  }

  /** Reads sorted, distinct, positive ids; a learner may not also be a voter. */
  private static Membership readMembership(Reader in) {
    long[] signedVoters = readIds(in, "voter", true);
    long[] voters = Arrays.stream(signedVoters).map(Math::abs).toArray();
    long[] learners = readIds(in, "learner", false);
    int at = in.position();
    for (long learner : learners) {
      if (Arrays.binarySearch(voters, learner) >= 0) {
        throw new CodecException(at, "node %d is both voter and learner", learner);
      }
    }
    return Membership.fromWitnessesNegated(signedVoters, learners);
  }

  /** Ids in increasing order; {@code witnesses}: a negative id is a witness's, negated. */
  private static long[] readIds(Reader in, String what, boolean witnesses) {
    int count = in.readCount(what + " count", 1);
    long[] ids = new long[count];
    for (int i = 0; i < count; i++) {
      int at = in.position();
      ids[i] = in.readLong(what);
      long id = witnesses && ids[i] < 0 && ids[i] != Long.MIN_VALUE ? -ids[i] : ids[i];
      if (id <= 0 || (i > 0 && id <= Math.abs(ids[i - 1]))) {
        throw new CodecException(at, "%s ids must be positive and increasing, found %d", what,
            ids[i]);
      }
    }
    return ids;
  }

  /** Decodes a whole array holding exactly one entry written by {@link #encodeEntry}. */
  public static Entry decodeEntry(byte[] bytes) {
    if (bytes == null) {
      throw new CodecException(0, "input is null");
    }
    return decodeEntry(bytes, 0, bytes.length);
  }

  /**
   * Decodes exactly one entry from {@code bytes[offset, offset + length)}. Offsets in errors
   * count from {@code offset}.
   */
  public static Entry decodeEntry(byte[] bytes, int offset, int length) {
    Reader in = new Reader(bytes, offset, length);
    in.readVersion();
    int tagAt = in.position();
    int tag = in.readByte("type tag");
    if (tag != TAG_ENTRY) {
      throw new CodecException(tagAt, "expected entry tag %d, found %d", TAG_ENTRY, tag);
    }
    int termAt = in.position();
    long term = in.readLong("term");
    int indexAt = in.position();
    long index = in.readLong("index");
    EntryType type = in.readEntryType();
    byte[] data = in.readBytes("entry data");
    in.expectEnd();
    checkEntryTerm(term, termAt);
    if (index < 1) {
      throw new CodecException(indexAt, "entry index must be >= 1, found %d", index);
    }
    return new Entry(term, index, type, data);
  }

  private static List<Entry> readAppendEntries(Reader in, long prevLogIndex) {
    int count = in.readCount("entry count", MIN_APPEND_ENTRY_BYTES);
    List<Entry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int entryAt = in.position();
      long index = prevLogIndex + 1 + i; // Wraps negative on overflow; rejected below.
      if (index < 1) {
        throw new CodecException(entryAt,
            "entry %d would have index %d (prevLogIndex %d); indexes must be >= 1",
            i, index, prevLogIndex);
      }
      long term = in.readLong("entry term");
      checkEntryTerm(term, entryAt);
      EntryType type = in.readEntryType();
      byte[] data = in.readBytes("entry data");
      entries.add(new Entry(term, index, type, data));
    }
    return entries;
  }

  private static void checkEntryTerm(long term, int at) {
    if (term < 1) {
      throw new CodecException(at, "entry term must be >= 1, found %d", term);
    }
  }

  // ---------------------------------------------------------------- byte plumbing

  /** A growable byte array. */
  private static final class Writer {
    /** Arrays near Integer.MAX_VALUE cannot be allocated on common JVMs. */
    private static final int MAX_SIZE = Integer.MAX_VALUE - 8;

    private byte[] buf = new byte[64];
    private int size;

    void writeByte(int b) {
      ensure(1);
      buf[size++] = (byte) b;
    }

    void writeBoolean(boolean b) {
      writeByte(b ? 1 : 0);
    }

    void writeLong(long v) {
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        buf[size++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[size++] = (byte) v;
    }

    void writeBytes(byte[] data) {
      writeLong(data.length);
      ensure(data.length);
      System.arraycopy(data, 0, buf, size, data.length);
      size += data.length;
    }

    private void ensure(int more) {
      if (more > MAX_SIZE - size) {
        throw new IllegalArgumentException("encoding exceeds " + MAX_SIZE + " bytes");
      }
      if (size + more > buf.length) {
        long grown = Math.max((long) buf.length * 2, (long) size + more);
        buf = Arrays.copyOf(buf, (int) Math.min(grown, MAX_SIZE));
      }
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, size);
    }
  }

  /** A bounds-checked cursor over {@code buf[start, end)}; every failure is a CodecException. */
  private static final class Reader {
    private final byte[] buf;
    private final int start;
    private final int end;
    private int pos;

    Reader(byte[] buf, int offset, int length) {
      if (buf == null) {
        throw new CodecException(0, "input is null");
      }
      if (offset < 0 || length < 0 || offset > buf.length - length) {
        throw new CodecException(0, "range [%d, %d + %d) outside an input of %d bytes",
            offset, offset, length, buf.length);
      }
      this.buf = buf;
      this.start = offset;
      this.end = offset + length;
      this.pos = offset;
    }

    /** Offset of the next byte, from the start of the encoding. */
    int position() {
      return pos - start;
    }

    int remaining() {
      return end - pos;
    }

    void readVersion() {
      int at = position();
      int version = readByte("version");
      if (version != VERSION) {
        throw new CodecException(at, "unsupported version %d (this codec reads %d)", version,
            VERSION);
      }
    }

    /** Reads version and message tag; returns the tag. */
    int readHeader() {
      readVersion();
      int at = position();
      int tag = readByte("type tag");
      if (tag < TAG_VOTE_REQUEST || tag > TAG_READ_INDEX_RESPONSE) {
        throw new CodecException(at, "unknown message tag %d", tag);
      }
      return tag;
    }

    int readByte(String field) {
      if (pos >= end) {
        throw truncated(field);
      }
      return buf[pos++] & 0xFF;
    }

    boolean readBoolean(String field) {
      int at = position();
      int b = readByte(field);
      if (b > 1) {
        throw new CodecException(at, "%s must be 0 or 1, found %d", field, b);
      }
      return b == 1;
    }

    long readLong(String field) {
      int at = position();
      long result = 0;
      for (int shift = 0; ; shift += 7) {
        int b = readByte(field);
        if (shift == 63 && b > 1) {
          throw new CodecException(at, "varint %s overflows 64 bits", field);
        }
        result |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          if (b == 0 && shift > 0) {
            throw new CodecException(at, "varint %s is not minimally encoded", field);
          }
          return result;
        }
      }
    }

    /** A length or count of elements at least {@code minElementBytes} long each. */
    int readCount(String field, int minElementBytes) {
      int at = position();
      long count = readLong(field);
      if (count < 0 || count > remaining() / minElementBytes) {
        throw new CodecException(at, "%s %d exceeds what the %d remaining bytes can hold",
            field, count, remaining());
      }
      return (int) count;
    }

    byte[] readBytes(String field) {
      int length = readCount(field + " length", 1);
      byte[] out = Arrays.copyOfRange(buf, pos, pos + length);
      pos += length;
      return out;
    }

    EntryType readEntryType() {
      int at = position();
      int code = readByte("entry type");
      return switch (code) {
        case 0 -> EntryType.NORMAL;
        case 1 -> EntryType.CONFIG_CHANGE;
        default -> throw new CodecException(at, "unknown entry type %d", code);
      };
    }

    void expectEnd() {
      if (pos != end) {
        throw new CodecException(position(), "%d trailing bytes after the encoding",
            remaining());
      }
    }

    private CodecException truncated(String field) {
      return new CodecException(position(), "input ends inside %s", field);
    }
  }
}
