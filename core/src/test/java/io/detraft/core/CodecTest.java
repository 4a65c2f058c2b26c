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
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Example-based checks of the codec; CodecProperties generates the rest. */
class CodecTest {
  static final long MAX = Long.MAX_VALUE;
  static final long MIN = Long.MIN_VALUE;

  /** One or more instances of every message type, including edge values. */
  static List<Message> examples() {
    List<Message> all = new ArrayList<>();
    all.add(new VoteRequest(1, 2, 3, 4, 5, 6, false, false));
    all.add(new VoteRequest(MAX, MAX, MAX, MAX, MAX, MAX, true, true));
    all.add(new VoteRequest(MIN, -1, 0, MIN, -1, MIN, true, false));
    all.add(new VoteResponse(1, 3, 2, 7, true, false));
    all.add(new VoteResponse(0, 0, 0, 0, false, true));
    all.add(new AppendRequest(1, 1, 2, 3, 0, 0, List.of(), 0));
    all.add(new AppendRequest(1, 1, 2, 3, 4, 2,
        List.of(Entry.normal(2, 5, new byte[0]), Entry.normal(3, 6, "x".getBytes()),
            new Entry(3, 7, EntryType.CONFIG_CHANGE, new byte[] {0, -1, 127, -128})),
        5));
    all.add(new AppendRequest(MAX, MAX, MAX, MAX, MAX - 1, MAX, List.of(Entry.normal(MAX, MAX,
        new byte[300])), MAX));
    all.add(new AppendRequest(1, 2, 3, 4, -9, -9, List.of(), MIN));
    all.add(new AppendResponse(1, 2, 1, 5, false, 9, 0, 0));
    all.add(new AppendResponse(1, 2, 1, 5, true, 9, 7, 3));
    all.add(new AppendResponse(MIN, MAX, MIN, MAX, true, MIN, MAX, MIN));
    all.add(new Heartbeat(1, 1, 2, 3, 4, 0));
    all.add(new Heartbeat(MAX, MIN, 0, -1, MAX, MAX));
    all.add(new HeartbeatResponse(1, 2, 1, 3, 7));
    all.add(new HeartbeatResponse(MIN, MIN, MIN, MIN, MIN));
    all.add(new Propose(1, 2, 1, 0, List.of()));
    all.add(new Propose(1, 2, 1, 0, List.of(new byte[0])));
    all.add(new Propose(1, 2, 1, 0, List.of("a".getBytes(), new byte[0], new byte[200])));
    all.add(new InstallSnapshot(1, 1, 2, 3, 10, 2, Membership.of(1, 2, 3), 5, 0, new byte[5],
        true));
    all.add(new InstallSnapshot(1, 1, 2, 3, MAX, MAX, new Membership(new long[] {MAX}, new long[] {1, 7}), MAX, MAX - 2,
        new byte[] {1, 2}, true));
    all.add(new InstallSnapshot(1, 1, 2, 3, 10, 2, new Membership(new long[0], new long[] {4}), 100, 40, new byte[10], false));
    all.add(new SnapshotResponse(1, 2, 1, 3, 10, 0));
    all.add(new SnapshotResponse(MIN, MAX, MIN, MAX, MAX, MAX));
    all.add(new TimeoutNow(1, 1, 2, 3));
    all.add(new ReadIndexRequest(1, 2, 1, 3, new byte[0]));
    all.add(new ReadIndexRequest(1, 2, 1, 3, "ctx".getBytes()));
    all.add(new ReadIndexResponse(1, 1, 2, 3, 17, new byte[] {9, 8}));
    return all;
  }

  /** Record equality, except that byte and id arrays are compared by content. */
  static boolean sameMessage(Message a, Message b) {
    if (a instanceof ReadIndexRequest ra && b instanceof ReadIndexRequest rb) {
      return ra.group() == rb.group() && ra.from() == rb.from() && ra.to() == rb.to()
          && ra.term() == rb.term() && Arrays.equals(ra.context(), rb.context());
    }
    if (a instanceof ReadIndexResponse ra && b instanceof ReadIndexResponse rb) {
      return ra.group() == rb.group() && ra.from() == rb.from() && ra.to() == rb.to()
          && ra.term() == rb.term() && ra.index() == rb.index()
          && Arrays.equals(ra.context(), rb.context());
    }
    if (a instanceof InstallSnapshot sa && b instanceof InstallSnapshot sb) {
      return sa.group() == sb.group() && sa.from() == sb.from() && sa.to() == sb.to()
          && sa.term() == sb.term() && sa.snapshotIndex() == sb.snapshotIndex()
          && sa.snapshotTerm() == sb.snapshotTerm() && sa.membership().equals(sb.membership())
          && sa.totalBytes() == sb.totalBytes() && sa.offset() == sb.offset()
          && Arrays.equals(sa.chunk(), sb.chunk()) && sa.done() == sb.done();
    }
    if (a instanceof Propose pa && b instanceof Propose pb) {
      if (pa.group() != pb.group() || pa.from() != pb.from() || pa.to() != pb.to()
          || pa.term() != pb.term() || pa.data().size() != pb.data().size()) {
        return false;
      }
      for (int i = 0; i < pa.data().size(); i++) {
        if (!Arrays.equals(pa.data().get(i), pb.data().get(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  static CodecException decodeFails(byte[] bytes) {
    return assertThrows(CodecException.class, () -> Codec.decode(bytes));
  }

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  @Test
  void everyExampleRoundTrips() {
    for (Message m : examples()) {
      byte[] encoded = Codec.encode(m);
      Message decoded = Codec.decode(encoded);
      assertTrue(sameMessage(m, decoded), m + " decoded as " + decoded);
      assertArrayEquals(encoded, Codec.encode(decoded), "re-encoding differs for " + m);
    }
  }

  @Test
  void examplesCoverEveryMessageType() {
    // A message type added to the sealed interface without codec support fails here.
    Set<String> covered = new TreeSet<>();
    for (Message m : examples()) {
      covered.add(m.getClass().getSimpleName());
    }
    Set<String> permitted = new TreeSet<>();
    for (Class<?> c : Message.class.getPermittedSubclasses()) {
      permitted.add(c.getSimpleName());
    }
    assertEquals(permitted, covered);
  }

  @Test
  void entriesRoundTrip() {
    List<Entry> entries = List.of(
        Entry.normal(1, 1, new byte[0]),
        Entry.normal(MAX, MAX, "payload".getBytes()),
        new Entry(2, 3, EntryType.CONFIG_CHANGE, new byte[] {1, 2, 3}),
        Entry.normal(5, 6, new byte[70_000]));
    for (Entry e : entries) {
      byte[] encoded = Codec.encodeEntry(e);
      assertEquals(e, Codec.decodeEntry(encoded));
      assertArrayEquals(encoded, Codec.encodeEntry(Codec.decodeEntry(encoded)));
    }
  }

  @Test
  void wireFormatIsPinned() {
    // Version 1, tag 5 (Heartbeat), then one-byte varints.
    assertArrayEquals(bytes(1, 5, 1, 2, 3, 4, 5, 6), Codec.encode(new Heartbeat(1, 2, 3, 4, 5, 6)));
    // 300 = 0b10_0101100 -> 0xAC 0x02; booleans are single bytes.
    assertArrayEquals(bytes(1, 1, 1, 2, 3, 0xAC, 0x02, 9, 8, 1, 0),
        Codec.encode(new VoteRequest(1, 2, 3, 300, 9, 8, true, false)));
    // AppendRequest entries carry term, type and data but no index (it follows prevLogIndex).
    assertArrayEquals(bytes(1, 3, 1, 1, 2, 3, 4, 2, 4, 1, 3, 1, 1, 'z'),
        Codec.encode(new AppendRequest(1, 1, 2, 3, 4, 2,
            List.of(new Entry(3, 5, EntryType.CONFIG_CHANGE, "z".getBytes())), 4)));
    assertArrayEquals(bytes(1, 16, 2, 7, 0, 0), Codec.encodeEntry(Entry.normal(2, 7, null)));
    // A negative long takes ten bytes, the last holding the sign bit.
    byte[] negative = Codec.encode(new HeartbeatResponse(-1, 0, 0, 0, 0));
    assertEquals(2 + 10 + 4, negative.length);
    assertEquals(1, negative[11]);
  }

  @Test
  void decodesFromTheMiddleOfALargerArray() {
    byte[] encoded = Codec.encode(new Heartbeat(1, 2, 3, 4, 5, 6));
    byte[] framed = new byte[encoded.length + 7];
    Arrays.fill(framed, (byte) 0x7F);
    System.arraycopy(encoded, 0, framed, 3, encoded.length);
    assertEquals(new Heartbeat(1, 2, 3, 4, 5, 6), Codec.decode(framed, 3, encoded.length));
    CodecException e = assertThrows(CodecException.class,
        () -> Codec.decode(framed, 3, encoded.length + 1));
    assertEquals(encoded.length, e.offset());
    assertThrows(CodecException.class, () -> Codec.decode(framed, -1, 2));
    assertThrows(CodecException.class, () -> Codec.decode(framed, 2, -1));
    assertThrows(CodecException.class, () -> Codec.decode(framed, framed.length, 1));
    assertThrows(CodecException.class, () -> Codec.decode(framed, Integer.MAX_VALUE, 10));
    assertThrows(CodecException.class, () -> Codec.decode(null, 0, 0));

    byte[] entry = Codec.encodeEntry(Entry.normal(3, 9, "e".getBytes()));
    byte[] framedEntry = new byte[entry.length + 2];
    System.arraycopy(entry, 0, framedEntry, 1, entry.length);
    assertEquals(Entry.normal(3, 9, "e".getBytes()),
        Codec.decodeEntry(framedEntry, 1, entry.length));
    assertThrows(CodecException.class, () -> Codec.decodeEntry(framedEntry, 1, entry.length + 1));
    assertThrows(CodecException.class, () -> Codec.decodeEntry(framedEntry, 5, -2));
  }

  @Test
  void rejectsBadHeaders() {
    assertEquals(0, decodeFails(null).offset());
    assertEquals(0, decodeFails(new byte[0]).offset());
    CodecException version = decodeFails(bytes(2, 5, 1, 2, 3, 4, 5));
    assertEquals(0, version.offset());
    assertTrue(version.getMessage().contains("unsupported version 2"), version.getMessage());
    decodeFails(bytes(0, 5, 1, 2, 3, 4, 5));
    decodeFails(bytes(1));
    for (int tag : new int[] {0, 13, 16, 255}) {
      CodecException e = decodeFails(bytes(1, tag, 1, 2, 3, 4, 5));
      assertEquals(1, e.offset());
      assertTrue(e.getMessage().contains("unknown message tag " + tag), e.getMessage());
    }
    // An entry is not a message, and a message is not an entry.
    decodeFails(Codec.encodeEntry(Entry.normal(1, 1, null)));
    assertThrows(CodecException.class,
        () -> Codec.decodeEntry(Codec.encode(new Heartbeat(1, 2, 3, 4, 5, 6))));
    assertThrows(CodecException.class, () -> Codec.decodeEntry(null));
  }

  @Test
  void rejectsTrailingBytes() {
    CodecException e = decodeFails(bytes(1, 5, 1, 2, 3, 4, 5, 6, 0));
    assertEquals(8, e.offset());
    assertTrue(e.getMessage().contains("1 trailing bytes"), e.getMessage());
    assertThrows(CodecException.class, () -> Codec.decodeEntry(bytes(1, 16, 2, 7, 0, 0, 0)));
  }

  @Test
  void rejectsNonCanonicalValues() {
    // Overlong varint: 5 written as 0x85 0x00.
    CodecException overlong = decodeFails(bytes(1, 5, 1, 2, 3, 4, 0x85, 0x00, 0));
    assertEquals(6, overlong.offset());
    assertTrue(overlong.getMessage().contains("commit is not minimally encoded"),
        overlong.getMessage());
    // Eleven-byte varint, and a tenth byte carrying more than the 64th bit.
    decodeFails(bytes(1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
        0, 0, 0));
    CodecException overflow = decodeFails(bytes(1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0x02, 0, 0, 0));
    assertTrue(overflow.getMessage().contains("overflows"), overflow.getMessage());
    // Booleans are 0 or 1.
    CodecException bool = decodeFails(bytes(1, 2, 1, 2, 3, 4, 2, 0));
    assertEquals(6, bool.offset());
    assertTrue(bool.getMessage().contains("granted must be 0 or 1"), bool.getMessage());
    // Entry type 2 does not exist.
    CodecException type = assertThrows(CodecException.class,
        () -> Codec.decodeEntry(bytes(1, 16, 2, 7, 2, 0)));
    assertEquals(4, type.offset());
  }

  @Test
  void rejectsEntriesTheRecordWouldRejectWithoutThrowingAnythingElse() {
    CodecException term = assertThrows(CodecException.class,
        () -> Codec.decodeEntry(bytes(1, 16, 0, 7, 0, 0)));
    assertTrue(term.getMessage().contains("entry term must be >= 1"), term.getMessage());
    CodecException index = assertThrows(CodecException.class,
        () -> Codec.decodeEntry(bytes(1, 16, 1, 0, 0, 0)));
    assertTrue(index.getMessage().contains("entry index must be >= 1"), index.getMessage());
    // AppendRequest with an entry of term 0.
    decodeFails(bytes(1, 3, 1, 1, 2, 3, 4, 2, 4, 1, 0, 0, 0));
    // AppendRequest whose prevLogIndex is -1: its first entry would have index 0.
    byte[] minusOne = Codec.encode(new AppendRequest(1, 1, 2, 3, -1, 0, List.of(), 0));
    byte[] withEntry = Arrays.copyOf(minusOne, minusOne.length + 3);
    withEntry[minusOne.length - 1] = 1; // count = 1
    withEntry[minusOne.length] = 1; // term
    withEntry[minusOne.length + 1] = 0; // type
    withEntry[minusOne.length + 2] = 0; // data length
    CodecException e = decodeFails(withEntry);
    assertTrue(e.getMessage().contains("would have index 0"), e.getMessage());
    // prevLogIndex = Long.MAX_VALUE: the entry index overflows.
    byte[] max = Codec.encode(new AppendRequest(1, 1, 2, 3, MAX, 0, List.of(), 0));
    byte[] overflowing = Arrays.copyOf(max, max.length + 3);
    overflowing[max.length - 1] = 1;
    overflowing[max.length] = 1;
    decodeFails(overflowing);
  }

  @Test
  void hugeLengthsFailBeforeAllocating() {
    // A Propose claiming Long.MAX_VALUE proposals, and one claiming 2^31 - 1.
    decodeFails(bytes(1, 7, 1, 2, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F));
    CodecException count = decodeFails(bytes(1, 7, 1, 2, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07));
    assertEquals(6, count.offset());
    assertTrue(count.getMessage().contains("proposal count 2147483647 exceeds"),
        count.getMessage());
    // One proposal whose data claims 2^31 - 1 bytes; and a negative (10-byte) length.
    decodeFails(bytes(1, 7, 1, 2, 1, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0));
    decodeFails(bytes(1, 7, 1, 2, 1, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x01));
    // An AppendRequest claiming more entries than 3-byte minimum entries could fit.
    decodeFails(bytes(1, 3, 1, 1, 2, 3, 4, 2, 4, 2, 1, 0, 0));
    assertThrows(CodecException.class,
        () -> Codec.decodeEntry(bytes(1, 16, 1, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07)));
  }

  @Test
  void encodeRejectsEntriesThatDoNotFollowPrevLogIndex() {
    assertThrows(IllegalArgumentException.class, () -> Codec.encode(new AppendRequest(1, 1, 2,
        3, 4, 2, List.of(Entry.normal(3, 6, null)), 0)));
    assertThrows(IllegalArgumentException.class, () -> Codec.encode(new AppendRequest(1, 1, 2,
        3, 4, 2, List.of(Entry.normal(3, 5, null), Entry.normal(3, 7, null)), 0)));
    assertThrows(IllegalArgumentException.class, () -> Codec.encode(new AppendRequest(1, 1, 2,
        3, MAX, 2, List.of(Entry.normal(3, 1, null)), 0)));
    assertThrows(IllegalArgumentException.class, () -> Codec.encode(null));
    assertThrows(IllegalArgumentException.class, () -> Codec.encodeEntry(null));
  }

  @Test
  void everyStrictPrefixOfEveryExampleFails() {
    for (Message m : examples()) {
      byte[] encoded = Codec.encode(m);
      for (int length = 0; length < encoded.length; length++) {
        CodecException e = decodeFails(Arrays.copyOf(encoded, length));
        assertTrue(e.offset() >= 0 && e.offset() <= length, e.getMessage());
      }
    }
  }

  @Test
  void decodesARangeThatEndsExactlyAtTheEndOfTheArray() {
    byte[] encoded = Codec.encode(new Heartbeat(1, 2, 3, 4, 5, 6));
    byte[] framed = new byte[encoded.length + 3];
    System.arraycopy(encoded, 0, framed, 3, encoded.length);
    assertEquals(new Heartbeat(1, 2, 3, 4, 5, 6), Codec.decode(framed, 3, encoded.length));
    assertEquals(new Heartbeat(1, 2, 3, 4, 5, 6), Codec.decode(encoded, 0, encoded.length));
  }

  @Test
  void theEncodersRefusalNamesTheIndexItExpected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Codec.encode(new AppendRequest(1, 1, 2, 3, 4, 2,
            List.of(Entry.normal(3, 5, null), Entry.normal(3, 7, null)), 0)));
    assertTrue(e.getMessage().contains("entry 1 has index 7, expected 6 (prevLogIndex 4 + 1 + 1)"),
        e.getMessage());
  }

  @Test
  void aSnapshotAtIndexAndTermOneRoundTrips() {
    InstallSnapshot first = new InstallSnapshot(1, 1, 2, 3, 1, 1, Membership.of(1, 2), 2, 0,
        new byte[] {4, 5}, true);
    InstallSnapshot decoded = (InstallSnapshot) Codec.decode(Codec.encode(first));
    assertEquals(1, decoded.snapshotIndex());
    assertEquals(1, decoded.snapshotTerm());
    assertArrayEquals(first.chunk(), decoded.chunk());
  }

  /** Membership bytes: version, voter count and ids, learner count and ids (varints). */
  @Test
  void membershipsMustHavePositiveIncreasingIdsAndNoLearnerThatVotes() {
    assertEquals(new Membership(new long[] {1, 2}, new long[] {3}),
        Codec.decodeMembership(bytes(1, 2, 1, 2, 1, 3)));
    assertThrows(CodecException.class, () -> Codec.decodeMembership(bytes(1, 1, 0, 0)));
    assertThrows(CodecException.class, () -> Codec.decodeMembership(bytes(1, 2, 1, 1, 0)));
    assertThrows(CodecException.class, () -> Codec.decodeMembership(bytes(1, 2, 1, 2, 1, 1)));
    assertThrows(CodecException.class, () -> Codec.decodeMembership(bytes(1, 2, 1, 2, 1, 2)));
    byte[] encoded = Codec.encodeMembership(Membership.of(1, 2));
    byte[] trailing = Arrays.copyOf(encoded, encoded.length + 1);
    assertThrows(CodecException.class, () -> Codec.decodeMembership(trailing));
  }
}
