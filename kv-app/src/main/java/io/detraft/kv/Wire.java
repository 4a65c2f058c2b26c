package io.detraft.kv;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Big-endian encoding helpers shared by commands, results, snapshots and the redo record. */
final class Wire {
  private Wire() {}

  /** Thrown for bytes that do not decode; callers turn it into an error answer. */
  static final class MalformedException extends Exception {
    MalformedException(String message) {
      super(message, null, false, false);
    }
  }

  /** A growable output buffer. */
  static final class Writer {
    private final ByteArrayOutputStream out;

    Writer(int sizeHint) {
      out = new ByteArrayOutputStream(sizeHint);
    }

    Writer u8(int v) {
      out.write(v);
      return this;
    }

    Writer u16(int v) {
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Writer u32(int v) {
      out.write(v >>> 24);
      out.write(v >>> 16);
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Writer u64(long v) {
      u32((int) (v >>> 32));
      return u32((int) v);
    }

    /** A length-prefixed byte string. */
    Writer bytes(byte[] b) {
      u32(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    Writer raw(byte[] b) {
      out.write(b, 0, b.length);
      return this;
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  /** A bounds-checked reader: running off the end is a {@link MalformedException}. */
  static final class Reader {
    private final byte[] b;
    private int at;

    Reader(byte[] b, int at) {
      this.b = b;
      this.at = at;
    }

    private void need(int n) throws MalformedException {
      if (n < 0 || b.length - at < n) {
        throw new MalformedException("truncated at byte " + at + " (need " + n + " more)");
      }
    }

    int u8() throws MalformedException {
      need(1);
      return b[at++] & 0xFF;
    }

    int u16() throws MalformedException {
      need(2);
      int v = ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
      at += 2;
      return v;
    }

    int u32() throws MalformedException {
      need(4);
      int v = getInt(b, at);
      at += 4;
      return v;
    }

    long u64() throws MalformedException {
      need(8);
      long v = getLong(b, at);
      at += 8;
      return v;
    }

    byte[] bytes() throws MalformedException {
      int n = u32();
      need(n);
      byte[] v = java.util.Arrays.copyOfRange(b, at, at + n);
      at += n;
      return v;
    }

    byte[] rest() {
      byte[] v = java.util.Arrays.copyOfRange(b, at, b.length);
      at = b.length;
      return v;
    }

    boolean done() {
      return at == b.length;
    }

    void expectEnd() throws MalformedException {
      if (at != b.length) {
        throw new MalformedException((b.length - at) + " trailing bytes");
      }
    }
  }

  static int getInt(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }

  static long getLong(byte[] b, int at) {
    return ((long) getInt(b, at) << 32) | (getInt(b, at + 4) & 0xFFFFFFFFL);
  }

  static void putLong(byte[] b, int at, long v) {
    for (int i = 7; i >= 0; i--) {
      b[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
