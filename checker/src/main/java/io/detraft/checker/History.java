package io.detraft.checker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An immutable, well-formed history: an ordered list of {@link Op}s in which every completion
 * follows an invoke of the same process.
 *
 * <p>{@link #of} rejects an ill-formed history with an {@link IllegalArgumentException} that
 * names the offending op index and the reason:
 *
 * <ul>
 *   <li>op indexes that do not strictly increase;
 *   <li>a process that invokes while its previous operation is still open;
 *   <li>a completion without an open invoke of its process;
 *   <li>a completion whose {@code f} differs from its invoke's, or whose time is earlier;
 *   <li>a process that invokes again after an operation of it ended {@link OpType#INFO}: in
 *       Jepsen a crashed process never returns, a client must continue under a new process id.
 * </ul>
 */
public final class History {
  private final List<Op> ops;
  private final List<Operation> operations;

  private History(List<Op> ops, List<Operation> operations) {
    this.ops = ops;
    this.operations = operations;
  }

  /** Checks and wraps {@code ops}; the list is copied. */
  public static History of(List<Op> ops) {
    List<Op> copy = List.copyOf(ops);
    return new History(copy, pair(copy));
  }

  /** The events in history order. */
  public List<Op> ops() {
    return ops;
  }

  /** The number of events (not operations). */
  public int size() {
    return ops.size();
  }

  /**
   * Each invoke paired with its completion (or with {@code null} if it never completed), in
   * the order of the invokes.
   */
  public List<Operation> operations() {
    return operations;
  }

  private static List<Operation> pair(List<Op> ops) {
    // Position in `invokes` of each process's open invoke, and the op that crashed a process.
    Map<Long, Integer> openByProcess = new HashMap<>();
    Map<Long, Op> crashByProcess = new HashMap<>();
    List<Op> invokes = new ArrayList<>();
    List<Op> completions = new ArrayList<>();
    long previousIndex = -1;
    for (Op op : ops) {
      if (op.index() <= previousIndex) {
        throw new IllegalArgumentException("op " + op.index() + ": index does not increase "
            + "(previous op has index " + previousIndex + ")");
      }
      previousIndex = op.index();
      Integer open = openByProcess.get(op.process());
      if (op.type() == OpType.INVOKE) {
        if (open != null) {
          throw new IllegalArgumentException("op " + op.index() + ": process " + op.process()
              + " invokes again while its op " + invokes.get(open).index() + " is still open");
        }
        Op crash = crashByProcess.get(op.process());
        if (crash != null) {
          throw new IllegalArgumentException("op " + op.index() + ": process " + op.process()
              + " invokes again after its op " + crash.index() + " ended info; a crashed "
              + "process never returns, continue under a new process id");
        }
        openByProcess.put(op.process(), invokes.size());
        invokes.add(op);
        completions.add(null);
        continue;
      }
      if (open == null) {
        throw new IllegalArgumentException("op " + op.index() + ": "
            + op.type().name().toLowerCase(Locale.ROOT) + " of process "
            + op.process() + " completes nothing (no open invoke)");
      }
      Op invoke = invokes.get(open);
      if (!invoke.f().equals(op.f())) {
        throw new IllegalArgumentException("op " + op.index() + ": completes f '" + op.f()
            + "' but the open invoke of process " + op.process() + " (op " + invoke.index()
            + ") has f '" + invoke.f() + "'");
      }
      if (op.time() < invoke.time()) {
        throw new IllegalArgumentException("op " + op.index() + ": completes at time "
            + op.time() + ", before its invoke (op " + invoke.index() + ") at time "
            + invoke.time());
      }
      completions.set(open, op);
      openByProcess.remove(op.process());
      if (op.type() == OpType.INFO) {
        crashByProcess.put(op.process(), op);
      }
    }
    List<Operation> operations = new ArrayList<>(invokes.size());
    for (int i = 0; i < invokes.size(); i++) {
      operations.add(new Operation(invokes.get(i), completions.get(i)));
    }
    return Collections.unmodifiableList(operations);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof History history && ops.equals(history.ops);
  }

  @Override
  public int hashCode() {
    return ops.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("History(").append(ops.size()).append(" ops)");
    for (Op op : ops) {
      out.append("\n  ").append(op);
    }
    return out.toString();
  }
}
