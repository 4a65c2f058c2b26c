package io.detraft.sim;

import java.util.List;

/**
 * A node's durable medium as the host sees it: an append-only sequence of {@link DiskRecord}s
 * whose writes are buffered until an fsync completes. The simulator's disk is {@link
 * BufferedDisk}; tests plant broken ones (a disk that lies about fsync) through {@link
 * SimHooks#diskFactory()} to prove the oracles notice.
 */
public interface Disk {
  /** Buffers a write; it survives a crash only if a sync that started after it completes. */
  void write(DiskRecord record);

  /**
   * Starts an fsync covering every write so far and returns how long it takes (virtual
   * nanoseconds). The host calls {@link #completeSync()} when that time has passed.
   */
  long startSync();

  /** The fsync started last is done: what it covered is durable. */
  void completeSync();

  /**
   * The process crashed: unsynced writes are lost, except that a prefix of them may have
   * reached the medium, the last of which may be torn. An fsync in progress never completes.
   */
  void crash();

  /**
   * What a restarting process reads, in write order. A torn last record is returned as such
   * (the reader must detect and drop it) and is then cut off the medium, like a real log
   * truncating a torn tail.
   */
  List<DiskRecord> recover();

  /** Creates a node's disk. */
  @FunctionalInterface
  interface Factory {
    Disk create(int node, SimOptions.DiskOptions options, SimRandom random);
  }
}
