package io.detraft.kv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The micro-ops 08..0d of {@link KvCommand} (INCRBY, APPEND to a string, LPUSH, RPUSH, SET
 * with conditions, CHECK), applied by {@link KvStateMachine}. Deterministic: they read the
 * batch and the command only. Their errors are Redis's own words, so the RESP front end can
 * pass them on as they are ({@code io.detraft.kv.resp} uses its words and its integer parser).
 */
public final class RedisOps {
  public static final String WRONGTYPE =
      "WRONGTYPE Operation against a key holding the wrong kind of value";
  public static final String NOT_INTEGER = "ERR value is not an integer or out of range";
  static final String OVERFLOW = "ERR increment or decrement would overflow";

  private RedisOps() {}

  /**
   * Applies {@code op} to the key {@code rawKey}, whose stored value is {@code current} (null:
   * absent); a failing op writes nothing.
   */
  static KvResult apply(byte op, byte[] rawKey, byte[] current, byte[] value,
      WriteBatch batch) {
    boolean list = current != null && StoredValue.isList(current);
    switch (op) {
      case KvCommand.INCRBY: {
        if (list) {
          return KvResult.error(WRONGTYPE);
        }
        Long delta = parseInteger(value);
        Long now = current == null ? Long.valueOf(0) : parseInteger(StoredValue.payload(current));
        if (delta == null || now == null) {
          return KvResult.error(NOT_INTEGER);
        }
        long sum;
        try {
          sum = Math.addExact(now, delta);
        } catch (ArithmeticException e) {
          return KvResult.error(OVERFLOW);
        }
        byte[] digits = Long.toString(sum).getBytes(StandardCharsets.US_ASCII);
        return answer(KvStateMachine.write(batch, rawKey, StoredValue.plain(digits)), digits);
      }
      case KvCommand.STRAPPEND: {
        if (list) {
          return KvResult.error(WRONGTYPE);
        }
        byte[] old = current == null ? new byte[] {StoredValue.PLAIN} : current;
        byte[] joined = Arrays.copyOf(old, old.length + value.length);
        System.arraycopy(value, 0, joined, old.length, value.length);
        return answer(KvStateMachine.write(batch, rawKey, joined), joined.length - 1);
      }
      case KvCommand.LPUSH:
      case KvCommand.RPUSH: {
        if (current != null && !list) {
          return KvResult.error(WRONGTYPE);
        }
        byte[] pushed = op == KvCommand.RPUSH ? StoredValue.append(current, value)
            : StoredValue.prepend(current, value);
        return answer(KvStateMachine.write(batch, rawKey, pushed),
            StoredValue.elements(StoredValue.payload(pushed)).size());
      }
      case KvCommand.SET: {
        if (value.length < 1) {
          return KvResult.error("ERR syntax error");
        }
        int mode = value[0];
        if ((mode & KvCommand.SET_REFUSE_LIST) != 0 && list) {
          return KvResult.error(WRONGTYPE);
        }
        boolean holds = (mode & 3) == 0 || ((mode & KvCommand.SET_IF_ABSENT) != 0)
            == (current == null);
        KvResult old = current == null ? KvResult.NOT_FOUND
            : KvResult.value(StoredValue.payload(current), list);
        if (!holds) {
          return new KvResult(KvResult.Status.CAS_FAILED, old.value(), list, null, List.of());
        }
        KvResult written = KvStateMachine.write(batch, rawKey,
            StoredValue.plain(Arrays.copyOfRange(value, 1, value.length)));
        return written.status() == KvResult.Status.OK ? old : written;
      }
      case KvCommand.CHECK: {
        boolean matches = value.length >= 1 && (value[0] == 0 ? current == null
            : current != null && Arrays.equals(current, 0, current.length,
                value, 1, value.length));
        return matches ? KvResult.OK
            : new KvResult(KvResult.Status.CAS_FAILED, null, false, null, List.of());
      }
      default:
        throw new IllegalStateException("unreachable op " + op);
    }
  }

  private static KvResult answer(KvResult written, long number) {
    return answer(written, Long.toString(number).getBytes(StandardCharsets.US_ASCII));
  }

  private static KvResult answer(KvResult written, byte[] value) {
    return written.status() == KvResult.Status.OK ? KvResult.value(value, false) : written;
  }

  /**
   * A decimal integer as Redis accepts one (string2ll): an optional minus, no plus, no
   * leading zeros, no spaces, within a signed 64-bit range; null otherwise.
   */
  public static Long parseInteger(byte[] digits) {
    int n = digits.length;
    if (n == 0 || n > 20) {
      return null;
    }
    boolean negative = digits[0] == '-';
    int start = negative ? 1 : 0;
    if (start == n || (digits[start] == '0' && (n - start > 1 || negative))) {
      return null;
    }
    for (int i = start; i < n; i++) {
      if (digits[i] < '0' || digits[i] > '9') {
        return null;
      }
    }
    try {
      return Long.parseLong(new String(digits, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
