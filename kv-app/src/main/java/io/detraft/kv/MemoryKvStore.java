package io.detraft.kv;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A {@link KvStore} in memory, for the simulator and tests: a sorted map, so iteration order
 * never depends on hashing. Synchronized because stale reads may come from other threads.
 */
public final class MemoryKvStore implements KvStore {
  private final TreeMap<byte[], byte[]> map = new TreeMap<>(Arrays::compareUnsigned);

  @Override
  public synchronized byte[] get(byte[] key) {
    return map.get(key);
  }

  @Override
  public synchronized void put(byte[] key, byte[] value) {
    map.put(key, value);
  }

  @Override
  public synchronized void remove(byte[] key) {
    map.remove(key);
  }

  @Override
  public synchronized void forEach(BiConsumer<byte[], byte[]> action) {
    for (Map.Entry<byte[], byte[]> e : map.entrySet()) {
      action.accept(e.getKey(), e.getValue());
    }
  }

  @Override
  public synchronized long size() {
    return map.size();
  }

  @Override
  public synchronized void replaceAll(Iterable<byte[][]> entries) {
    TreeMap<byte[], byte[]> fresh = new TreeMap<>(Arrays::compareUnsigned);
    for (byte[][] e : entries) {
      fresh.put(e[0], e[1]);
    }
    map.clear();
    map.putAll(fresh);
  }

  @Override
  public boolean recovered() {
    return false;
  }

  @Override
  public void close() {}
}
