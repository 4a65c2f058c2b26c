package io.detraft.sim;

import io.detraft.core.StateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The workload's reference key/value store: Long keys, Long values, absent = null; and, for
 * the list-append workload, lists of Longs under keys of their own (an absent list is empty).
 * Commands and results are small binary layouts made by the static helpers below and by
 * {@link ListTxn}, so the client side and the state machine agree on them in one place.
 *
 * <p>Command: {@code op(1) key(8) flags(1) first(8) second(8)}; flags bit 0: {@code first}
 * present, bit 1: {@code second} present. Get and delete ignore the values; put writes {@code
 * first}; cas writes {@code second} if the current value equals {@code first} (absent when
 * not present). Result: get {@code present(1) value(8)}; put/delete {@code 1}; cas {@code
 * applied(1)}. A command whose op byte is {@link ListTxn#OP} is a list-append transaction
 * (layout in {@link ListTxn}).
 *
 * <p>Snapshot, in {@link Varints} (small, since the oracles hash one after every entry): the
 * pair count, the pairs {@code key value}, the list count, then each list as its key (a delta
 * to the previous list's key) and {@link #writeList its elements}; both in key order, so equal
 * states give equal bytes.
 */
public final class KvStateMachine implements StateMachine {
  static final byte GET = 0;
  static final byte PUT = 1;
  static final byte CAS = 2;
  static final byte DELETE = 3;
  static final byte TXN = ListTxn.OP;
  private static final int COMMAND_BYTES = 26;

  /** The data; only looked up, never iterated, so its order cannot reach any output. */
  private final Map<Long, Long> data = new HashMap<>();
  /** The lists, sorted so that snapshots list them in key order. */
  private final TreeMap<Long, LongList> lists = new TreeMap<>();
  /**
   * The lists' part of the snapshot, or null after they changed. Most entries are KV
   * commands, which leave the lists alone, so the oracles' snapshot after each entry mostly
   * reuses it.
   */
  private byte[] listsSnapshot;

  @Override
  public byte[] apply(long index, byte[] command) {
    if (ListTxn.isTxn(command)) {
      return applyTxn(ListTxn.decode(command));
    }
    if (command.length != COMMAND_BYTES) {
      throw new IllegalArgumentException("index " + index + ": not a KV command ("
          + command.length + " bytes)");
    }
    byte op = command[0];
    long key = readLong(command, 1);
    byte flags = command[9];
    Long first = (flags & 1) != 0 ? readLong(command, 10) : null;
    Long second = (flags & 2) != 0 ? readLong(command, 18) : null;
    switch (op) {
      case GET: {
        Long value = data.get(key);
        byte[] out = new byte[9];
        if (value != null) {
          out[0] = 1;
          writeLong(out, 1, value);
        }
        return out;
      }
      case PUT:
        put(key, first);
        return new byte[] {1};
      case DELETE:
        data.remove(key);
        return new byte[] {1};
      case CAS: {
        Long current = data.get(key);
        boolean matches = current == null ? first == null : current.equals(first);
        if (matches) {
          put(key, second);
        }
        return new byte[] {(byte) (matches ? 1 : 0)};
      }
      default:
        throw new IllegalArgumentException("index " + index + ": unknown KV op " + op);
    }
  }

  /** Runs the micro-ops in order; each read sees the appends before it, its own included. */
  private byte[] applyTxn(List<ListTxn.MicroOp> ops) {
    List<long[]> reads = new ArrayList<>();
    for (ListTxn.MicroOp op : ops) {
      LongList list = lists.get(op.key());
      if (op.append()) {
        if (list == null) {
          list = new LongList();
          lists.put(op.key(), list);
        }
        list.set(list.size(), op.element());
        listsSnapshot = null;
      } else {
        reads.add(list == null ? new long[0] : list.toArray());
      }
    }
    return ListTxn.encodeResult(reads);
  }

  @Override
  public byte[] snapshot() {
    TreeMap<Long, Long> sorted = new TreeMap<>(data);
    if (listsSnapshot == null) {
      listsSnapshot = snapshotLists();
    }
    Varints.Writer out = new Varints.Writer(8 + 16 * sorted.size() + listsSnapshot.length);
    out.unsigned(sorted.size());
    for (Map.Entry<Long, Long> e : sorted.entrySet()) {
      out.signed(e.getKey()).signed(e.getValue());
    }
    return out.raw(listsSnapshot).toByteArray();
  }

  private byte[] snapshotLists() {
    Varints.Writer out = new Varints.Writer(16 + 4 * lists.size());
    out.unsigned(lists.size());
    long previousKey = 0;
    for (Map.Entry<Long, LongList> e : lists.entrySet()) {
      out.signed(e.getKey() - previousKey);
      previousKey = e.getKey();
      writeList(out, e.getValue().toArray());
    }
    return out.toByteArray();
  }

  @Override
  public void restore(byte[] snapshot) {
    data.clear();
    lists.clear();
    listsSnapshot = null;
    Varints.Reader in = new Varints.Reader(snapshot);
    for (int i = in.count(); i > 0; i--) {
      data.put(in.signed(), in.signed());
    }
    long key = 0;
    for (int i = in.count(); i > 0; i--) {
      key += in.signed();
      long[] elements = readList(in);
      LongList list = new LongList();
      for (int at = 0; at < elements.length; at++) {
        list.set(at, elements[at]);
      }
      lists.put(key, list);
    }
    if (!in.done()) {
      throw new IllegalArgumentException("KV snapshot has bytes after its lists");
    }
  }

  /** A list as its length, then each element as the delta to the one before it. */
  static void writeList(Varints.Writer out, long[] elements) {
    out.unsigned(elements.length);
    long previous = 0;
    for (long element : elements) {
      out.signed(element - previous);
      previous = element;
    }
  }

  static long[] readList(Varints.Reader in) {
    long[] elements = new long[in.count()];
    long previous = 0;
    for (int i = 0; i < elements.length; i++) {
      previous += in.signed();
      elements[i] = previous;
    }
    return elements;
  }

  private void put(long key, Long value) {
    if (value == null) {
      data.remove(key);
    } else {
      data.put(key, value);
    }
  }

  /** Encodes a command; {@code first}/{@code second} may be null (absent). */
  public static byte[] command(byte op, long key, Long first, Long second) {
    byte[] out = new byte[COMMAND_BYTES];
    out[0] = op;
    writeLong(out, 1, key);
    out[9] = (byte) ((first != null ? 1 : 0) | (second != null ? 2 : 0));
    writeLong(out, 10, first == null ? 0 : first);
    writeLong(out, 18, second == null ? 0 : second);
    return out;
  }

  /** The value a get returned, or null if the key was absent. */
  public static Long getResult(byte[] result) {
    return result[0] == 0 ? null : readLong(result, 1);
  }

  /** Big-endian, like ByteBuffer, without its per-call overhead on the replay path. */
  static long readLong(byte[] bytes, int offset) {
    long value = 0;
    for (int i = 0; i < 8; i++) {
      value = (value << 8) | (bytes[offset + i] & 0xFF);
    }
    return value;
  }

  static void writeLong(byte[] bytes, int offset, long value) {
    for (int i = 7; i >= 0; i--) {
      bytes[offset + i] = (byte) value;
      value >>>= 8;
    }
  }

  /** Whether a cas applied. */
  public static boolean casApplied(byte[] result) {
    return result[0] == 1;
  }
}
