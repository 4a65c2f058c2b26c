package io.detraft.checker;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Names and value shapes of transactional operations, in Jepsen's shape, checked by {@link
 * ElleChecker}. An operation has {@code f = "txn"} and a value that is a list of micro-ops
 * {@code [f key value]}:
 *
 * <table>
 *   <caption>Micro-ops</caption>
 *   <tr><th>workload</th><th>micro-op</th><th>in the invoke</th><th>in the ok</th></tr>
 *   <tr><td>list-append</td><td>append</td><td>{@code [:append k e]}</td><td>same</td></tr>
 *   <tr><td>list-append</td><td>read</td><td>{@code [:r k nil]}</td>
 *       <td>{@code [:r k [e1 e2 ...]]}, nil = empty</td></tr>
 *   <tr><td>rw-register</td><td>write</td><td>{@code [:w k v]}</td><td>same</td></tr>
 *   <tr><td>rw-register</td><td>read</td><td>{@code [:r k nil]}</td>
 *       <td>{@code [:r k v]}, nil = never written</td></tr>
 * </table>
 *
 * <p>Keys are {@link Long}, {@link String} or {@link Keyword}; elements and register values are
 * {@link Long} or {@link String}. Each element is appended to a key at most once (and each
 * register value written at most once): that uniqueness is what lets a read name its writer.
 *
 * <p>The micro-op name may be a {@link Keyword} (what the helpers here produce, so the EDN a
 * history prints is what Jepsen's Elle reads) or a plain {@code String} ({@code "append"},
 * {@code "r"}, {@code "w"}: what JSON gives); the checker treats both the same.
 *
 * <p>Recording with a {@link HistoryBuilder}:
 *
 * <pre>{@code
 * history.invoke(p, Txn.F, List.of(Txn.append(5L, 3L), Txn.read(6L)), t0);
 * history.ok(p, Txn.F, List.of(Txn.append(5L, 3L), Txn.read(6L, List.of(1L, 2L))), t1);
 * }</pre>
 *
 * <p>A transaction that surely did not commit completes with {@code fail} (its appends must
 * never be seen); one whose outcome is unknown with {@code info}, or stays open.
 */
public final class Txn {
  /** The {@code f} of every transactional operation. */
  public static final String F = "txn";
  /** Micro-op name: append an element to a list (list-append). */
  public static final Keyword APPEND = Keyword.of("append");
  /** Micro-op name: read a key (both workloads). */
  public static final Keyword READ = Keyword.of("r");
  /** Micro-op name: write a register (rw-register). */
  public static final Keyword WRITE = Keyword.of("w");

  private Txn() {}

  /** {@code [:append key element]}. */
  public static List<Object> append(Object key, Object element) {
    return triple(APPEND, key, element);
  }

  /** {@code [:r key nil]}: a read whose result is not known yet (invokes, info, fail). */
  public static List<Object> read(Object key) {
    return triple(READ, key, null);
  }

  /**
   * {@code [:r key observed]}: what a completed read saw; a list for list-append, a single
   * value (or null) for rw-register.
   */
  public static List<Object> read(Object key, Object observed) {
    return triple(READ, key, observed);
  }

  /** {@code [:w key value]}. */
  public static List<Object> write(Object key, Object value) {
    return triple(WRITE, key, value);
  }

  private static List<Object> triple(Keyword f, Object key, Object value) {
    // Arrays.asList, unlike List.of, allows the nil of an unknown read.
    return Collections.unmodifiableList(Arrays.asList(f, key, value));
  }
}
