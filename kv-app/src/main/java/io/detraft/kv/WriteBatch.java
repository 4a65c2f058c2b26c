package io.detraft.kv;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Writes collected before any reaches the store, so that they can be made durable as a unit
 * (see {@link KvStateMachine}): one log entry's, or a run of entries'. Reads see the batch's
 * own writes first, then its parent's, then the store. A child batch (an entry within a run,
 * a transaction within an entry) merges into its parent only if it succeeds.
 */
final class WriteBatch {
  /**
   * A byte array with value equality, as a map key. The hash is computed once: a key moves
   * through several maps (a command's scratch batch, its entry's, the run's, the carried
   * session records).
   */
  static final class Key {
    private final byte[] bytes;
    private final int hash;

    Key(byte[] bytes) {
      this.bytes = bytes;
      this.hash = Arrays.hashCode(bytes);
    }

    byte[] bytes() {
      return bytes;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key k && hash == k.hash && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private static final byte[] REMOVED = new byte[0];

  /** Where reads go past the batches: the store, or a view over it. */
  private final Function<byte[], byte[]> store;
  private final WriteBatch parent;
  /** Raw key to value, or {@link #REMOVED}; insertion order is the order of application. */
  private final LinkedHashMap<Key, byte[]> writes = new LinkedHashMap<>();
  /** Key and value bytes written, counting overwritten writes too (an upper bound). */
  private long bytes;
  /** The exact size of {@link #redoRecord}'s write list (without its 12-byte header). */
  private long redoBytes;

  WriteBatch(Function<byte[], byte[]> store) {
    this(store, null);
  }

  private WriteBatch(Function<byte[], byte[]> store, WriteBatch parent) {
    this.store = store;
    this.parent = parent;
  }

  WriteBatch child() {
    return new WriteBatch(store, this);
  }

  byte[] get(byte[] rawKey) {
    byte[] v = writes.get(new Key(rawKey));
    if (v != null) {
      return v == REMOVED ? null : v;
    }
    return parent != null ? parent.get(rawKey) : store.apply(rawKey);
  }

  void put(byte[] rawKey, byte[] value) {
    bytes += rawKey.length + value.length;
    Key key = new Key(rawKey);
    forget(writes.remove(key), rawKey); // re-inserted last: the final write wins, in order
    writes.put(key, value);
    redoBytes += redoSize(rawKey, value);
  }

  void remove(byte[] rawKey) {
    bytes += rawKey.length;
    Key key = new Key(rawKey);
    forget(writes.remove(key), rawKey);
    writes.put(key, REMOVED);
    redoBytes += redoSize(rawKey, REMOVED);
  }

  private void forget(byte[] replaced, byte[] rawKey) {
    if (replaced != null) {
      redoBytes -= redoSize(rawKey, replaced);
    }
  }

  static long redoSize(byte[] rawKey, byte[] value) {
    return 1 + 4 + rawKey.length + (value == REMOVED ? 0 : 4 + value.length);
  }

  /** Moves this child's writes into its parent. */
  void mergeIntoParent() {
    moveInto(parent);
  }

  /**
   * Moves this batch's writes into {@code target} (its parent, or a batch that now stands
   * where the parent stood: the parent's writes reached the store meanwhile).
   */
  void moveInto(WriteBatch target) {
    for (Map.Entry<Key, byte[]> e : writes.entrySet()) {
      byte[] k = e.getKey().bytes();
      target.forget(target.writes.remove(e.getKey()), k);
      target.writes.put(e.getKey(), e.getValue());
      target.redoBytes += redoSize(k, e.getValue());
    }
    target.bytes += bytes;
    writes.clear();
    bytes = 0;
    redoBytes = 0;
  }

  long bytes() {
    return bytes;
  }

  boolean isEmpty() {
    return writes.isEmpty();
  }

  /** The size of {@link #redoRecord}. */
  long redoRecordBytes() {
    return 12 + redoBytes;
  }

  /**
   * Takes this batch's puts of keys that start with {@code prefix} out of it, into {@code
   * into} (replacing what it held for those keys, and moving them to its end); a removal of
   * such a key stays in the batch and leaves {@code into}. {@code changed} hears of every key
   * concerned. Returns how {@code into}'s redo size changed.
   */
  long takePuts(byte prefix, Map<Key, byte[]> into, Consumer<Key> changed) {
    long change = 0;
    for (var it = writes.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Key, byte[]> e = it.next();
      byte[] k = e.getKey().bytes();
      if (k[0] != prefix) {
        continue;
      }
      byte[] old = into.remove(e.getKey());
      if (old != null) {
        change -= redoSize(k, old);
      }
      if (e.getValue() != REMOVED) {
        into.put(e.getKey(), e.getValue());
        change += redoSize(k, e.getValue());
        redoBytes -= redoSize(k, e.getValue());
        it.remove();
      }
      changed.accept(e.getKey());
    }
    return change;
  }

  /** The redo record: {@code index:u64 count:u32 (removed:u8 key:bytes [value:bytes])*}. */
  byte[] redoRecord(long index) {
    return redoRecord(index, Map.of(), 0);
  }

  /**
   * The redo record of this batch's writes and of the puts in {@code extra} (keys this batch
   * does not write; {@code extraBytes} their redo size).
   */
  byte[] redoRecord(long index, Map<Key, byte[]> extra, long extraBytes) {
    byte[] out = new byte[Math.toIntExact(redoRecordBytes() + extraBytes)];
    Wire.putLong(out, 0, index);
    int at = putInt(out, 8, writes.size() + extra.size());
    at = putWrites(out, at, writes);
    at = putWrites(out, at, extra);
    if (at != out.length) {
      throw new IllegalStateException("redo record of " + at + " bytes, " + out.length
          + " expected");
    }
    return out;
  }

  private static int putWrites(byte[] out, int at, Map<Key, byte[]> writes) {
    for (Map.Entry<Key, byte[]> e : writes.entrySet()) {
      byte[] k = e.getKey().bytes();
      byte[] v = e.getValue();
      boolean removed = v == REMOVED;
      out[at++] = (byte) (removed ? 1 : 0);
      at = putInt(out, at, k.length);
      System.arraycopy(k, 0, out, at, k.length);
      at += k.length;
      if (!removed) {
        at = putInt(out, at, v.length);
        System.arraycopy(v, 0, out, at, v.length);
        at += v.length;
      }
    }
    return at;
  }

  private static int putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
    return at + 4;
  }

  /** Applies the writes to the store, in order. */
  void applyTo(KvStore target) {
    for (Map.Entry<Key, byte[]> e : writes.entrySet()) {
      if (e.getValue() == REMOVED) {
        target.remove(e.getKey().bytes());
      } else {
        target.put(e.getKey().bytes(), e.getValue());
      }
    }
  }

  Iterable<Map.Entry<Key, byte[]>> entries() {
    return writes.entrySet();
  }

  static boolean isRemoved(byte[] value) {
    return value == REMOVED;
  }

  /** Replays a redo record onto {@code store}; returns its index. */
  static long redo(byte[] record, KvStore store) throws Wire.MalformedException {
    Wire.Reader r = new Wire.Reader(record, 0);
    long index = r.u64();
    int count = r.u32();
    for (int i = 0; i < count; i++) {
      boolean removed = r.u8() == 1;
      byte[] key = r.bytes();
      if (removed) {
        store.remove(key);
      } else {
        store.put(key, r.bytes());
      }
    }
    r.expectEnd();
    return index;
  }
}
