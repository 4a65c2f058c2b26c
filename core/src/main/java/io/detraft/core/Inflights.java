package io.detraft.core;

/**
 * The window of AppendRequests sent to one follower and not yet acknowledged, remembered by
 * the last entry index each carried. A full window pauses replication to that follower, which
 * bounds the memory and bandwidth a slow follower can take (flow control).
 */
final class Inflights {
  /** Ring buffer of last indexes, oldest at {@code start}. */
  private final long[] lastIndexes;
  private int start;
  private int count;

  Inflights(int capacity) {
    Invariants.check(capacity >= 1, "capacity must be >= 1");
    this.lastIndexes = new long[capacity];
  }

  void add(long lastIndex) {
    Invariants.check(!full(), "inflight window is full");
    if (count > 0) {
      long newest = lastIndexes[(start + count - 1) % lastIndexes.length];
      Invariants.check(lastIndex > newest, "inflight indexes must increase: %s after %s",
          lastIndex, newest);
    }
    lastIndexes[(start + count) % lastIndexes.length] = lastIndex;
    count++;
  }

  /** Frees every message whose entries are all at or below {@code index} (acknowledged). */
  void freeUpTo(long index) {
    while (count > 0 && lastIndexes[start] <= index) {
      start = (start + 1) % lastIndexes.length;
      count--;
    }
  }

  /** Frees the oldest message; used when a heartbeat answer shows the follower is alive. */
  void freeFirst() {
    if (count > 0) {
      start = (start + 1) % lastIndexes.length;
      count--;
    }
  }

  boolean full() {
    return count == lastIndexes.length;
  }

  int count() {
    return count;
  }

  void reset() {
    start = 0;
    count = 0;
  }
}
