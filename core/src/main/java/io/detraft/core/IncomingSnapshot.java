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
  private long size;

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
    int at = (int) size;
    if (at + chunk.length > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(at + chunk.length, buffer.length * 2));
    }
    System.arraycopy(chunk, 0, buffer, at, chunk.length);
    size += chunk.length;
  }

  /** Counts {@code bytes} the host received (streamed installs keep no bytes here). */
  void skip(int bytes) {
    Invariants.check(size + (long) bytes <= totalBytes, "snapshot chunks exceed total");
    size += bytes;
  }

  byte[] bytes() {
    return Arrays.copyOf(buffer, (int) size);
  }
}
