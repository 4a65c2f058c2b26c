package io.detraft.checker;

import java.util.Locale;
import java.util.Objects;

/**
 * One event of a history, in the Jepsen shape.
 *
 * <p>{@code value} is a Jepsen-like value: {@code null}, {@link Long}, {@link String},
 * {@link Boolean}, {@link Keyword}, or a {@link java.util.List} / {@link java.util.Map} of such
 * values. The constructor checks the value and keeps an unmodifiable deep copy, so a history
 * can never change after it was recorded. {@link Integer} is rejected on purpose: {@code
 * Integer.valueOf(1)} is not {@code equals} to {@code Long.valueOf(1)}, and a model that
 * silently treated them as different values would report false anomalies.
 *
 * @param index position in the history, {@code >= 0}
 * @param type the event type
 * @param f the function name, e.g. {@code "get"}
 * @param value the argument (invoke) or result (completion)
 * @param process the id of the logical process (client thread) that issued it
 * @param time when it happened, in nanoseconds (virtual or real)
 */
public record Op(long index, OpType type, String f, Object value, long process, long time) {

  public Op {
    if (index < 0) {
      throw new IllegalArgumentException("op index must be >= 0, got " + index);
    }
    Objects.requireNonNull(type, () -> "op " + index + ": type is null");
    Objects.requireNonNull(f, () -> "op " + index + ": f is null");
    value = Values.freeze(value, index);
  }

  @Override
  public String toString() {
    return "#" + index + " p" + process + " " + type.name().toLowerCase(Locale.ROOT)
        + " " + f + " " + Values.format(value) + " t=" + time;
  }
}
