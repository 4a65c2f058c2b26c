package io.detraft.core;

import java.util.Arrays;

/**
 * A snapshot a follower is receiving, chunk by chunk. It lives only in memory: a crash
 * discards it, and the leader restarts the install from offset 0.
 */
final class IncomingSnapshot {
  final long index;
  final long term;
  final long totalBytes;
  /** Grows with the chunks received, never from the sender's claimed total alone. */
  private byte[] buffer = new byte[0];
  private int size;

  IncomingSnapshot(long index, long term, long totalBytes) {
    this.index = index;
    this.term = term;
    this.totalBytes = totalBytes;
  }

  long size() {
    return size;
  }

  void append(byte[] chunk) {
    Invariants.check(size + (long) chunk.length <= totalBytes, "snapshot chunks exceed total");
    if (size + chunk.length > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(size + chunk.length, buffer.length * 2));
    }
    System.arraycopy(chunk, 0, buffer, size, chunk.length);
    size += chunk.length;
  }

  byte[] bytes() {
    return Arrays.copyOf(buffer, size);
  }
}
