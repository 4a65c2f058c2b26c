package io.detraft.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * How a value sits in the store: a type byte (0 plain bytes, 1 list), then the payload. A
 * list payload is its elements, each as {@code u32 length, bytes}, so an append is a
 * concatenation.
 */
final class StoredValue {
  static final byte PLAIN = 0;
  static final byte LIST = 1;

  private StoredValue() {}

  static byte[] plain(byte[] payload) {
    byte[] out = new byte[payload.length + 1];
    out[0] = PLAIN;
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  static boolean isList(byte[] stored) {
    return stored[0] == LIST;
  }

  static byte[] payload(byte[] stored) {
    return java.util.Arrays.copyOfRange(stored, 1, stored.length);
  }

  /** The list {@code stored} (null: absent) with {@code element} appended. */
  static byte[] append(byte[] stored, byte[] element) {
    int old = stored == null ? 1 : stored.length;
    byte[] out = new byte[old + 4 + element.length];
    if (stored != null) {
      System.arraycopy(stored, 0, out, 0, stored.length);
    }
    out[0] = LIST;
    int at = old;
    out[at] = (byte) (element.length >>> 24);
    out[at + 1] = (byte) (element.length >>> 16);
    out[at + 2] = (byte) (element.length >>> 8);
    out[at + 3] = (byte) element.length;
    System.arraycopy(element, 0, out, at + 4, element.length);
    return out;
  }

  /** The list {@code stored} (null: absent) with {@code element} put first. */
  static byte[] prepend(byte[] stored, byte[] element) {
    int old = stored == null ? 0 : stored.length - 1;
    byte[] out = new byte[1 + 4 + element.length + old];
    out[0] = LIST;
    out[1] = (byte) (element.length >>> 24);
    out[2] = (byte) (element.length >>> 16);
    out[3] = (byte) (element.length >>> 8);
    out[4] = (byte) element.length;
    System.arraycopy(element, 0, out, 5, element.length);
    if (stored != null) {
      System.arraycopy(stored, 1, out, 5 + element.length, old);
    }
    return out;
  }

  /** The elements of a list payload (without the type byte). */
  static List<byte[]> elements(byte[] payload) {
    List<byte[]> out = new ArrayList<>();
    Wire.Reader r = new Wire.Reader(payload, 0);
    try {
      while (!r.done()) {
        out.add(r.bytes());
      }
    } catch (Wire.MalformedException e) {
      throw new IllegalArgumentException("damaged list value: " + e.getMessage());
    }
    return out;
  }
}
