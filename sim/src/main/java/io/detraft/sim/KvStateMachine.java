package io.detraft.sim;

import io.detraft.core.StateMachine;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The workload's reference key/value store: Long keys, Long values, absent = null. Commands
 * and results are small fixed binary layouts made by the static helpers below, so the client
 * side and the state machine agree on them in one place.
 *
 * <p>Command: {@code op(1) key(8) flags(1) first(8) second(8)}; flags bit 0: {@code first}
 * present, bit 1: {@code second} present. Get and delete ignore the values; put writes {@code
 * first}; cas writes {@code second} if the current value equals {@code first} (absent when
 * not present). Result: get {@code present(1) value(8)}; put/delete {@code 1}; cas {@code
 * applied(1)}.
 */
public final class KvStateMachine implements StateMachine {
  static final byte GET = 0;
  static final byte PUT = 1;
  static final byte CAS = 2;
  static final byte DELETE = 3;
  private static final int COMMAND_BYTES = 26;

  /** The data; only looked up, never iterated, so its order cannot reach any output. */
  private final Map<Long, Long> data = new HashMap<>();

  @Override
  public byte[] apply(long index, byte[] command) {
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

  /** Entries in key order, 16 bytes each, so equal states give equal snapshots. */
  @Override
  public byte[] snapshot() {
    TreeMap<Long, Long> sorted = new TreeMap<>(data);
    byte[] out = new byte[sorted.size() * 16];
    int at = 0;
    for (Map.Entry<Long, Long> e : sorted.entrySet()) {
      writeLong(out, at, e.getKey());
      writeLong(out, at + 8, e.getValue());
      at += 16;
    }
    return out;
  }

  @Override
  public void restore(byte[] snapshot) {
    if (snapshot.length % 16 != 0) {
      throw new IllegalArgumentException("KV snapshot of " + snapshot.length + " bytes");
    }
    data.clear();
    for (int at = 0; at < snapshot.length; at += 16) {
      data.put(readLong(snapshot, at), readLong(snapshot, at + 8));
    }
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
