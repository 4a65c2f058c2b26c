package io.detraft.kv;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writes of one log entry, collected before any reaches the store so the entry can be
 * made durable as a unit (see {@link KvStateMachine}). Reads see the batch's own writes first,
 * then its parent's, then the store. A child batch (a transaction) merges into its parent
 * only if it succeeds.
 */
final class WriteBatch {
  /** A byte array with value equality, as a map key. */
  record Key(byte[] bytes) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Key k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }

  private static final byte[] REMOVED = new byte[0];

  private final KvStore store;
  private final WriteBatch parent;
  /** Raw key to value, or {@link #REMOVED}; insertion order is the order of application. */
  private final LinkedHashMap<Key, byte[]> writes = new LinkedHashMap<>();
  /** Key and value bytes written, counting overwritten writes too (an upper bound). */
  private long bytes;

  WriteBatch(KvStore store) {
    this(store, null);
  }

  private WriteBatch(KvStore store, WriteBatch parent) {
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
    return parent != null ? parent.get(rawKey) : store.get(rawKey);
  }

  void put(byte[] rawKey, byte[] value) {
    bytes += rawKey.length + value.length;
    Key key = new Key(rawKey);
    writes.remove(key); // re-inserted last: the final write wins, in order
    writes.put(key, value);
  }

  void remove(byte[] rawKey) {
    bytes += rawKey.length;
    Key key = new Key(rawKey);
    writes.remove(key);
    writes.put(key, REMOVED);
  }

  /** Moves this child's writes into its parent. */
  void mergeIntoParent() {
    for (Map.Entry<Key, byte[]> e : writes.entrySet()) {
      parent.writes.remove(e.getKey());
      parent.writes.put(e.getKey(), e.getValue());
    }
    parent.bytes += bytes;
    writes.clear();
    bytes = 0;
  }

  long bytes() {
    return bytes;
  }

  boolean isEmpty() {
    return writes.isEmpty();
  }

  /** The redo record: {@code index:u64 count:u32 (removed:u8 key:bytes [value:bytes])*}. */
  byte[] redoRecord(long index) {
    Wire.Writer w = new Wire.Writer(64).u64(index).u32(writes.size());
    for (Map.Entry<Key, byte[]> e : writes.entrySet()) {
      boolean removed = e.getValue() == REMOVED;
      w.u8(removed ? 1 : 0).bytes(e.getKey().bytes());
      if (!removed) {
        w.bytes(e.getValue());
      }
    }
    return w.toByteArray();
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
