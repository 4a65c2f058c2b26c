package io.detraft.kv;

import java.util.function.BiConsumer;

/**
 * The raw byte map under one group's {@link KvStateMachine}: data, client sessions and the
 * applied index all live here, under prefixes the state machine chooses, so one store write
 * order covers them all.
 *
 * <p>Only the Raft thread writes. Other threads may call {@link #get} concurrently (stale
 * reads, reads after a ReadIndex); implementations make that safe. Keys and values handed in
 * are owned by the store afterwards; arrays handed out must not be mutated.
 */
public interface KvStore extends AutoCloseable {
  /** The value at {@code key}, or null. */
  byte[] get(byte[] key);

  void put(byte[] key, byte[] value);

  void remove(byte[] key);

  /** Every entry, in no particular order. Not to be called while another thread writes. */
  void forEach(BiConsumer<byte[], byte[]> action);

  long size();

  /**
   * Replaces the whole contents with {@code entries} at once: a crash in the middle leaves
   * either the old contents or the new, never a mix.
   */
  void replaceAll(Iterable<byte[][]> entries);

  /** Whether the contents survived from an earlier run (false: start from an empty store). */
  boolean recovered();

  @Override
  void close();
}
