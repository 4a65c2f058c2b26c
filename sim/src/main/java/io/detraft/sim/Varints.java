package io.detraft.sim;

import java.util.Arrays;

/**
 * Variable-length longs (LEB128, 7 bits a byte; signed ones zigzag-mapped first) for the KV
 * store's snapshots and transaction results. Snapshots must stay small: the oracles hash the
 * reference state after every entry, and seeds that send snapshots in 16-byte chunks send a
 * state of {@code n} bytes as {@code n / 16} round trips. Elements of a list are small, nearly
 * increasing counters, so as deltas they mostly take one byte instead of eight.
 */
final class Varints {
  private Varints() {}

  /** A growable byte array that longs are written to. */
  static final class Writer {
    private byte[] bytes;
    private int size;

    Writer(int capacity) {
      bytes = new byte[Math.max(16, capacity)];
    }

    Writer unsigned(long value) {
      ensure(10);
      while ((value & ~0x7FL) != 0) {
        bytes[size++] = (byte) ((value & 0x7F) | 0x80);
        value >>>= 7;
      }
      bytes[size++] = (byte) value;
      return this;
    }

    /** Zigzag: small negative values stay short too. */
    Writer signed(long value) {
      return unsigned((value << 1) ^ (value >> 63));
    }

    /** Appends bytes another writer produced. */
    Writer raw(byte[] written) {
      ensure(written.length);
      System.arraycopy(written, 0, bytes, size, written.length);
      size += written.length;
      return this;
    }

    private void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
      }
    }

    byte[] toByteArray() {
      return Arrays.copyOf(bytes, size);
    }
  }

  /** Reads what a {@link Writer} wrote; throws on bytes that end mid-value. */
  static final class Reader {
    private final byte[] bytes;
    private int at;

    Reader(byte[] bytes) {
      this.bytes = bytes;
    }

    long unsigned() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (at >= bytes.length) {
          throw new IllegalArgumentException("varint cut off at byte " + at);
        }
        byte b = bytes[at++];
        value |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new IllegalArgumentException("varint longer than 10 bytes at byte " + at);
    }

    long signed() {
      long raw = unsigned();
      return (raw >>> 1) ^ -(raw & 1);
    }

    /** An unsigned value that counts things that follow, each at least one byte long. */
    int count() {
      long value = unsigned();
      if (value > bytes.length - at) {
        throw new IllegalArgumentException("count " + value + " exceeds the " + (bytes.length
            - at) + " bytes left");
      }
      return (int) value;
    }

    boolean done() {
      return at == bytes.length;
    }
  }
}
