package io.detraft.checker;

import java.util.ArrayList;
import java.util.List;

/**
 * Records a history event by event, numbering ops 0, 1, 2, ... in the order they are
 * recorded. Record an invoke before the request leaves the client and a completion after the
 * response arrived: the checkers take that order as the real-time order of events with equal
 * times.
 *
 * <p>Well-formedness is checked by {@link #build()} (see {@link History}).
 */
public final class HistoryBuilder {
  private final List<Op> ops = new ArrayList<>();

  /** Records that {@code process} starts {@code f} with argument {@code value}. */
  public HistoryBuilder invoke(long process, String f, Object value, long time) {
    return add(OpType.INVOKE, process, f, value, time);
  }

  /** Records that the open operation of {@code process} took effect with result {@code value}. */
  public HistoryBuilder ok(long process, String f, Object value, long time) {
    return add(OpType.OK, process, f, value, time);
  }

  /** Records that the open operation of {@code process} definitely did not take effect. */
  public HistoryBuilder fail(long process, String f, Object value, long time) {
    return add(OpType.FAIL, process, f, value, time);
  }

  /** Records that the outcome of the open operation of {@code process} is unknown. */
  public HistoryBuilder info(long process, String f, Object value, long time) {
    return add(OpType.INFO, process, f, value, time);
  }

  /** Appends an event of any type. */
  public HistoryBuilder add(OpType type, long process, String f, Object value, long time) {
    ops.add(new Op(ops.size(), type, f, value, process, time));
    return this;
  }

  /** The number of events recorded so far; also the index the next event will get. */
  public int size() {
    return ops.size();
  }

  /** Checks and returns the history recorded so far; the builder may go on recording. */
  public History build() {
    return History.of(ops);
  }
}
