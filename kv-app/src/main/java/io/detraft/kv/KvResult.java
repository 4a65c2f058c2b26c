package io.detraft.kv;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link KvCommand} returned.
 *
 * <p>Encoding: {@code status:u8 flags:u8 [value:bytes] [error:bytes] [count:u16 results]},
 * flags bit 0 value present, bit 1 the value is a list, bit 2 error present, bit 3 nested
 * transaction results present.
 *
 * @param status the outcome
 * @param value a read value, or the current value when a cas failed; null if absent
 * @param list whether {@code value} is a list (decode it with {@link #elements()})
 * @param error what went wrong, for {@link Status#ERROR}
 * @param txn one result per micro-op of a transaction, else empty
 */
public record KvResult(Status status, byte[] value, boolean list, String error,
    List<KvResult> txn) {

  public enum Status {
    OK,
    /** A read or delete found no value. */
    NOT_FOUND,
    /** A compare-and-set found another value (see {@link #value()}); nothing was written. */
    CAS_FAILED,
    /** The command could not apply (malformed, not a list, too large); nothing was written. */
    ERROR
  }

  public KvResult {
    txn = List.copyOf(txn);
  }

  static final KvResult OK = new KvResult(Status.OK, null, false, null, List.of());
  static final KvResult NOT_FOUND = new KvResult(Status.NOT_FOUND, null, false, null, List.of());

  static KvResult value(byte[] value, boolean list) {
    return new KvResult(Status.OK, value, list, null, List.of());
  }

  static KvResult error(String message) {
    return new KvResult(Status.ERROR, null, false, message, List.of());
  }

  /** The elements of a list value. */
  public List<byte[]> elements() {
    if (!list || value == null) {
      throw new IllegalStateException("not a list");
    }
    return StoredValue.elements(value);
  }

  public byte[] encode() {
    Wire.Writer w = new Wire.Writer(16 + (value == null ? 0 : value.length));
    encode(w);
    return w.toByteArray();
  }

  private void encode(Wire.Writer w) {
    int flags = (value != null ? 1 : 0) | (list ? 2 : 0) | (error != null ? 4 : 0)
        | (!txn.isEmpty() ? 8 : 0);
    w.u8(status.ordinal()).u8(flags);
    if (value != null) {
      w.bytes(value);
    }
    if (error != null) {
      w.bytes(error.getBytes(StandardCharsets.UTF_8));
    }
    if (!txn.isEmpty()) {
      w.u16(txn.size());
      for (KvResult r : txn) {
        r.encode(w);
      }
    }
  }

  public static KvResult decode(byte[] bytes) {
    try {
      Wire.Reader r = new Wire.Reader(bytes, 0);
      KvResult result = decode(r);
      r.expectEnd();
      return result;
    } catch (Wire.MalformedException e) {
      throw new IllegalArgumentException("not a KV result: " + e.getMessage());
    }
  }

  private static KvResult decode(Wire.Reader r) throws Wire.MalformedException {
    int status = r.u8();
    if (status >= Status.values().length) {
      throw new Wire.MalformedException("status " + status);
    }
    int flags = r.u8();
    byte[] value = (flags & 1) != 0 ? r.bytes() : null;
    String error = (flags & 4) != 0 ? new String(r.bytes(), StandardCharsets.UTF_8) : null;
    List<KvResult> txn = new ArrayList<>();
    if ((flags & 8) != 0) {
      int count = r.u16();
      for (int i = 0; i < count; i++) {
        txn.add(decode(r));
      }
    }
    return new KvResult(Status.values()[status], value, (flags & 2) != 0, error, txn);
  }
}
