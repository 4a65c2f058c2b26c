package io.detraft.core;

import java.util.Arrays;

/**
 * One log entry. Invariant: {@code index >= 1}, {@code term >= 1}. The data array is owned by
 * the entry: callers must not mutate it after construction.
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
  private static final byte[] EMPTY = new byte[0];

  public Entry {
    Invariants.check(term >= 1, "entry term must be >= 1: %s", term);
    Invariants.check(index >= 1, "entry index must be >= 1: %s", index);
    Invariants.check(type != null, "entry type is null");
    data = data == null ? EMPTY : data;
  }

  public static Entry normal(long term, long index, byte[] data) {
    return new Entry(term, index, EntryType.NORMAL, data);
  }

  /** Approximate encoded size, used for message size limits. */
  public long sizeBytes() {
    return 24L + data.length;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Entry e
        && term == e.term
        && index == e.index
        && type == e.type
        && Arrays.equals(data, e.data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(term) * 31 * 31 + Long.hashCode(index) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Entry{" + index + "@" + term + (type == EntryType.NORMAL ? "" : " " + type)
        + " " + data.length + "B}";
  }
}
