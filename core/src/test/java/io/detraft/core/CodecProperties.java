package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Generated checks of the codec: everything round-trips, and no input — random, mutated or
 * truncated — makes the decoder throw anything but CodecException (no other exception, no
 * out-of-memory, no hang); whatever does decode re-encodes to exactly the same bytes.
 */
class CodecProperties {

  record Header(long group, long from, long to, long term) {}

  /** Mostly small values (where varint lengths change), plus the full range and its edges. */
  static Arbitrary<Long> anyLong() {
    return Arbitraries.oneOf(
        Arbitraries.longs().between(0, 1 << 16),
        Arbitraries.longs().between(0, Long.MAX_VALUE),
        Arbitraries.longs());
  }

  static Arbitrary<byte[]> data() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
  }

  static Arbitrary<Header> headers() {
    return Combinators.combine(anyLong(), anyLong(), anyLong(), anyLong()).as(Header::new);
  }

  static Arbitrary<Boolean> bools() {
    return Arbitraries.of(true, false);
  }

  @Provide
  static Arbitrary<Message> messages() {
    Arbitrary<Message> voteRequests = Combinators
        .combine(headers(), anyLong(), anyLong(), bools(), bools())
        .as((h, index, term, pre, transfer) -> new VoteRequest(h.group, h.from, h.to, h.term,
            index, term, pre, transfer));
    Arbitrary<Message> voteResponses = Combinators.combine(headers(), bools(), bools())
        .as((h, granted, pre) -> new VoteResponse(h.group, h.from, h.to, h.term, granted, pre));
    Arbitrary<Message> appendResponses = Combinators
        .combine(headers(), bools(), anyLong(), anyLong(), anyLong())
        .as((h, rejected, index, hintIndex, hintTerm) -> new AppendResponse(h.group, h.from,
            h.to, h.term, rejected, index, hintIndex, hintTerm));
    Arbitrary<Message> heartbeats = Combinators.combine(headers(), anyLong(), anyLong())
        .as((h, commit, round) -> new Heartbeat(h.group, h.from, h.to, h.term, commit, round));
    Arbitrary<Message> heartbeatResponses = Combinators.combine(headers(), anyLong())
        .as((h, round) -> new HeartbeatResponse(h.group, h.from, h.to, h.term, round));
    Arbitrary<Message> timeouts = headers()
        .map(h -> new TimeoutNow(h.group, h.from, h.to, h.term));
    Arbitrary<Message> readRequests = Combinators.combine(headers(), data())
        .as((h, context) -> new ReadIndexRequest(h.group, h.from, h.to, h.term, context));
    Arbitrary<Message> readResponses = Combinators.combine(headers(), anyLong(), data())
        .as((h, index, context) -> new ReadIndexResponse(h.group, h.from, h.to, h.term, index,
            context));
    Arbitrary<Message> proposes = Combinators.combine(headers(), data().list().ofMaxSize(5))
        .as((h, data) -> new Propose(h.group, h.from, h.to, h.term, data));
    Arbitrary<Message> snapshotResponses = Combinators.combine(headers(), anyLong(), anyLong())
        .as((h, index, offset) -> new SnapshotResponse(h.group, h.from, h.to, h.term, index,
            offset));
    return Arbitraries.oneOf(voteRequests, voteResponses, appendRequests(), appendResponses,
        heartbeats, heartbeatResponses, proposes, installSnapshots(), snapshotResponses,
        timeouts, readRequests, readResponses);
  }

  static Arbitrary<Message> installSnapshots() {
    Arbitrary<long[]> ids = Arbitraries.longs().between(1, Long.MAX_VALUE)
        .array(long[].class).ofMaxSize(7);
    // Learners are drawn apart from voters (a node is never both).
    Arbitrary<Membership> memberships = Combinators.combine(ids, ids).as((v, l) ->
        new Membership(v, java.util.Arrays.stream(l)
            .filter(x -> java.util.Arrays.stream(v).noneMatch(y -> y == x)).toArray()));
    Arbitrary<Long> positive = Arbitraries.longs().between(1, Long.MAX_VALUE);
    return Combinators.combine(headers(), positive, positive, memberships, data(),
            Arbitraries.longs().between(0, 1 << 20), Arbitraries.longs().between(0, 1 << 20))
        .as((h, index, term, members, chunk, before, after) -> new InstallSnapshot(h.group,
            h.from, h.to, h.term, index, term, members, before + chunk.length + after, before, chunk,
            after == 0));
  }

  record EntryBody(long term, EntryType type, byte[] data) {}

  static Arbitrary<Message> appendRequests() {
    Arbitrary<EntryBody> bodies = Combinators
        .combine(Arbitraries.oneOf(Arbitraries.longs().between(1, 300),
                Arbitraries.longs().between(1, Long.MAX_VALUE)),
            Arbitraries.of(EntryType.class), data())
        .as(EntryBody::new);
    Arbitrary<Long> prevIndexes = Arbitraries.oneOf(Arbitraries.longs().between(0, 1000),
        Arbitraries.longs().between(0, Long.MAX_VALUE - 8));
    return Combinators
        .combine(headers(), prevIndexes, anyLong(), anyLong(), bodies.list().ofMaxSize(8))
        .as((h, prevIndex, prevTerm, commit, list) -> {
          List<Entry> entries = new ArrayList<>();
          for (EntryBody b : list) {
            entries.add(new Entry(b.term, prevIndex + 1 + entries.size(), b.type, b.data));
          }
          return new AppendRequest(h.group, h.from, h.to, h.term, prevIndex, prevTerm, entries,
              commit);
        });
  }

  @Provide
  static Arbitrary<Entry> entries() {
    return Combinators
        .combine(Arbitraries.longs().between(1, Long.MAX_VALUE),
            Arbitraries.longs().between(1, Long.MAX_VALUE), Arbitraries.of(EntryType.class),
            data())
        .as(Entry::new);
  }

  /** Decodes, requiring success to be canonical and failure to be a CodecException. */
  static void decodeCleanly(byte[] bytes) {
    Message decoded;
    try {
      decoded = Codec.decode(bytes);
    } catch (CodecException e) {
      assertTrue(e.offset() >= 0 && e.offset() <= bytes.length, e.getMessage());
      return;
    }
    assertArrayEquals(bytes, Codec.encode(decoded), "non-canonical: decoded " + decoded);
  }

  static void decodeEntryCleanly(byte[] bytes) {
    Entry decoded;
    try {
      decoded = Codec.decodeEntry(bytes);
    } catch (CodecException e) {
      assertTrue(e.offset() >= 0 && e.offset() <= bytes.length, e.getMessage());
      return;
    }
    assertArrayEquals(bytes, Codec.encodeEntry(decoded), "non-canonical: decoded " + decoded);
  }

  @Property(tries = 2000)
  void messagesRoundTrip(@ForAll("messages") Message message) {
    byte[] encoded = Codec.encode(message);
    Message decoded = Codec.decode(encoded);
    assertTrue(CodecTest.sameMessage(message, decoded), message + " decoded as " + decoded);
    assertArrayEquals(encoded, Codec.encode(decoded));
  }

  @Property(tries = 1000)
  void entriesRoundTrip(@ForAll("entries") Entry entry) {
    assertEquals(entry, Codec.decodeEntry(Codec.encodeEntry(entry)));
  }

  @Property(tries = 3000)
  void arbitraryBytesDecodeOrFailCleanly(@ForAll @Size(max = 64) byte[] bytes) {
    decodeCleanly(bytes);
    decodeEntryCleanly(bytes);
  }

  /** Random bodies behind a valid header, so the body parsers see most of the noise. */
  @Property(tries = 3000)
  void arbitraryBodiesDecodeOrFailCleanly(
      @ForAll @IntRange(min = 1, max = 7) int tag, @ForAll @Size(max = 64) byte[] body) {
    byte[] bytes = new byte[body.length + 2];
    bytes[0] = (byte) Codec.VERSION;
    bytes[1] = (byte) tag;
    System.arraycopy(body, 0, bytes, 2, body.length);
    decodeCleanly(bytes);
    bytes[1] = 16;
    decodeEntryCleanly(bytes);
  }

  enum Mutation {
    FLIP_BIT,
    SET_BYTE,
    DELETE_BYTE,
    INSERT_BYTE,
    TRUNCATE,
    APPEND_BYTE,
    SET_FF_RUN
  }

  static byte[] mutate(byte[] in, Mutation mutation, int position, byte value) {
    int at = Math.floorMod(position, Math.max(1, in.length));
    switch (mutation) {
      case FLIP_BIT -> {
        byte[] out = in.clone();
        out[at] ^= (byte) (1 << Math.floorMod(value, 8));
        return out;
      }
      case SET_BYTE -> {
        byte[] out = in.clone();
        out[at] = value;
        return out;
      }
      case DELETE_BYTE -> {
        byte[] out = new byte[in.length - 1];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(in, at + 1, out, at, in.length - at - 1);
        return out;
      }
      case INSERT_BYTE -> {
        byte[] out = new byte[in.length + 1];
        System.arraycopy(in, 0, out, 0, at);
        out[at] = value;
        System.arraycopy(in, at, out, at + 1, in.length - at);
        return out;
      }
      case TRUNCATE -> {
        return Arrays.copyOf(in, at);
      }
      case APPEND_BYTE -> {
        byte[] out = Arrays.copyOf(in, in.length + 1);
        out[in.length] = value;
        return out;
      }
      case SET_FF_RUN -> {
        // Turns a length or count into a huge varint.
        byte[] out = in.clone();
        for (int i = at; i < Math.min(out.length, at + 1 + Math.floorMod(value, 10)); i++) {
          out[i] = (byte) 0xFF;
        }
        return out;
      }
      default -> throw new IllegalStateException(mutation.toString());
    }
  }

  @Property(tries = 5000)
  void mutatedEncodingsDecodeOrFailCleanly(
      @ForAll("messages") Message message,
      @ForAll Mutation mutation,
      @ForAll int position,
      @ForAll byte value) {
    decodeCleanly(mutate(Codec.encode(message), mutation, position, value));
  }

  @Property(tries = 1000)
  void mutatedEntriesDecodeOrFailCleanly(
      @ForAll("entries") Entry entry,
      @ForAll Mutation mutation,
      @ForAll int position,
      @ForAll byte value) {
    decodeEntryCleanly(mutate(Codec.encodeEntry(entry), mutation, position, value));
  }

  @Property(tries = 500)
  void everyStrictPrefixFails(@ForAll("messages") Message message) {
    byte[] encoded = Codec.encode(message);
    for (int length = 0; length < encoded.length; length++) {
      byte[] prefix = Arrays.copyOf(encoded, length);
      CodecException e = assertThrows(CodecException.class, () -> Codec.decode(prefix));
      assertTrue(e.offset() <= length, e.getMessage());
      // The same prefix read in place from the full array.
      int prefixLength = length;
      assertThrows(CodecException.class, () -> Codec.decode(encoded, 0, prefixLength));
    }
  }

  @Property(tries = 300)
  void everyStrictPrefixOfAnEntryFails(@ForAll("entries") Entry entry) {
    byte[] encoded = Codec.encodeEntry(entry);
    for (int length = 0; length < encoded.length; length++) {
      byte[] prefix = Arrays.copyOf(encoded, length);
      assertThrows(CodecException.class, () -> Codec.decodeEntry(prefix));
    }
  }
}
