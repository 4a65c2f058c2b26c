package io.detraft.sim;

import java.util.Arrays;

/** A growable array of longs indexed from 0, without boxing (hot paths index it per entry). */
final class LongList {
  private long[] values = new long[64];
  private int size;

  long get(int index) {
    if (index >= size) {
      throw new IndexOutOfBoundsException(index + " >= " + size);
    }
    return values[index];
  }

  /** Sets {@code index}, growing the list with zeros if needed; drops everything after it. */
  void setAndTruncate(int index, long value) {
    ensure(index + 1);
    values[index] = value;
    size = index + 1;
  }

  /** Sets {@code index}, growing the list with zeros if needed. */
  void set(int index, long value) {
    ensure(index + 1);
    values[index] = value;
    size = Math.max(size, index + 1);
  }

  int size() {
    return size;
  }

  long[] toArray() {
    return Arrays.copyOf(values, size);
  }

  void clear() {
    size = 0;
  }

  private void ensure(int capacity) {
    if (capacity > values.length) {
      values = Arrays.copyOf(values, Math.max(capacity, values.length * 2));
    }
    if (capacity > size) {
      Arrays.fill(values, size, capacity, 0);
    }
  }
}
