package io.detraft.kv;

import io.detraft.core.SnapshotSink;
import io.detraft.core.SnapshotSource;

/**
 * {@link Wire}'s encoding of a snapshot image, streamed: a writer that buffers a little before
 * each write to the host's sink, and a bounds-checked reader over the host's source. Neither
 * holds more of the image than one record and a 64 KiB buffer.
 */
final class SnapshotStream {
  private static final int BUFFER_BYTES = 64 * 1024;

  private SnapshotStream() {}

  /** Writes big-endian integers and length-prefixed byte strings to a sink. */
  static final class Writer {
    private final SnapshotSink sink;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int fill;

    Writer(SnapshotSink sink) {
      this.sink = sink;
    }

    Writer raw(byte[] b) {
      return raw(b, 0, b.length);
    }

    Writer u64(long v) {
      byte[] b = new byte[8];
      Wire.putLong(b, 0, v);
      return raw(b);
    }

    /** A length-prefixed byte string, as {@link Wire.Writer#bytes}. */
    Writer bytes(byte[] b) {
      raw(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16),
          (byte) (b.length >>> 8), (byte) b.length});
      return raw(b);
    }

    private Writer raw(byte[] b, int offset, int length) {
      if (length > buffer.length - fill) {
        flush();
        if (length > buffer.length) {
          sink.write(b, offset, length); // a large value goes straight through
          return this;
        }
      }
      System.arraycopy(b, offset, buffer, fill, length);
      fill += length;
      return this;
    }

    void flush() {
      if (fill > 0) {
        sink.write(buffer, 0, fill);
        fill = 0;
      }
    }
  }

  /** Reads what {@link Writer} wrote; running off the end is a {@link Wire.MalformedException}. */
  static final class Reader {
    private final SnapshotSource source;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int at;
    private int limit;
    /** Image bytes consumed before {@link #buffer}'s content. */
    private long consumed;

    Reader(SnapshotSource source) {
      this.source = source;
    }

    private long remaining() {
      return source.sizeBytes() - consumed - at;
    }

    int u8() throws Wire.MalformedException {
      fill(1);
      return buffer[at++] & 0xFF;
    }

    long u64() throws Wire.MalformedException {
      fill(8);
      long v = Wire.getLong(buffer, at);
      at += 8;
      return v;
    }

    byte[] bytes() throws Wire.MalformedException {
      fill(4);
      int n = Wire.getInt(buffer, at);
      at += 4;
      if (n < 0 || n > remaining()) {
        throw new Wire.MalformedException("a byte string of " + n + " bytes at byte "
            + (consumed + at) + " runs off the image");
      }
      byte[] v = new byte[n];
      int copied = Math.min(n, limit - at);
      System.arraycopy(buffer, at, v, 0, copied);
      at += copied;
      if (copied < n) {
        source.readFully(v, copied, n - copied); // a large value comes straight through
        consumed += n - copied;
      }
      return v;
    }

    void expectEnd() throws Wire.MalformedException {
      if (remaining() != 0) {
        throw new Wire.MalformedException(remaining() + " trailing bytes");
      }
    }

    /** Makes {@code n} bytes available at {@link #at}. */
    private void fill(int n) throws Wire.MalformedException {
      if (limit - at >= n) {
        return;
      }
      if (remaining() < n) {
        throw new Wire.MalformedException("truncated at byte " + (consumed + at) + " (need "
            + n + " more)");
      }
      int kept = limit - at;
      System.arraycopy(buffer, at, buffer, 0, kept);
      consumed += at;
      at = 0;
      limit = kept;
      while (limit < n) {
        int want = (int) Math.min(buffer.length - limit, remaining() - limit);
        int read = source.read(buffer, limit, want);
        if (read <= 0) {
          throw new Wire.MalformedException("image ended at byte " + (consumed + limit));
        }
        limit += read;
      }
    }
  }
}
