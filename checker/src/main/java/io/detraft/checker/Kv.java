package io.detraft.checker;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Names and value shapes of the key/value operations that {@link LinearizabilityChecker}
 * understands (Jepsen "independent" style: every op touches exactly one key).
 *
 * <table>
 *   <caption>Values of each operation</caption>
 *   <tr><th>f</th><th>invoke value</th><th>ok value</th></tr>
 *   <tr><td>get</td><td>{@code [key nil]}</td><td>{@code [key v]}, v nil if absent</td></tr>
 *   <tr><td>put</td><td>{@code [key v]}</td><td>{@code [key v]}</td></tr>
 *   <tr><td>cas</td><td>{@code [key [expected new]]}</td><td>same; fail = did not apply</td></tr>
 *   <tr><td>delete</td><td>{@code [key nil]}</td><td>{@code [key nil]}</td></tr>
 * </table>
 *
 * <p>Keys and values are {@link Long} or {@link String} and are compared with {@code equals};
 * nil means "absent" (a put of nil is a delete, a cas may expect nil).
 */
public final class Kv {
  /** Reads one key. */
  public static final String GET = "get";
  /** Writes one key. */
  public static final String PUT = "put";
  /** Compare-and-set on one key. */
  public static final String CAS = "cas";
  /** Removes one key. */
  public static final String DELETE = "delete";

  private Kv() {}

  /** {@code [key value]}; unlike {@code List.of} it allows a nil value. */
  public static List<Object> pair(Object key, Object value) {
    return Collections.unmodifiableList(Arrays.asList(key, value));
  }

  /** {@code [key [expected replacement]]}, the value of a cas. */
  public static List<Object> casValue(Object key, Object expected, Object replacement) {
    return pair(key, pair(expected, replacement));
  }
}
