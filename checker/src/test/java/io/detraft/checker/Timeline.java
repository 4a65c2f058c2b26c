package io.detraft.checker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Writes a key/value history as intervals, e.g. {@code put(1, key, 5, 0, 10)}: process 1 put
 * 5 from time 0 to 10. {@link #build()} records the events in time order; at equal times
 * completions are recorded before invokes, so an operation ending at t precedes one starting
 * at t.
 */
final class Timeline {
  /** Completion time of an operation that never completes. */
  static final long OPEN = -1;

  private record Event(long time, int order, OpType type, long process, String f, Object value) {}

  private final List<Event> events = new ArrayList<>();

  Timeline put(long process, Object key, Object value, long start, long end) {
    return op(process, Kv.PUT, Kv.pair(key, value), OpType.OK, Kv.pair(key, value), start, end);
  }

  Timeline get(long process, Object key, Object observed, long start, long end) {
    return op(process, Kv.GET, Kv.pair(key, null), OpType.OK, Kv.pair(key, observed), start, end);
  }

  Timeline delete(long process, Object key, long start, long end) {
    return op(process, Kv.DELETE, Kv.pair(key, null), OpType.OK, Kv.pair(key, null), start, end);
  }

  Timeline cas(long process, Object key, Object expected, Object replacement, OpType outcome,
      long start, long end) {
    Object value = Kv.casValue(key, expected, replacement);
    return op(process, Kv.CAS, value, outcome, value, start, end);
  }

  /** A put that ended with {@code outcome} (info, fail) at {@code end}, or never if OPEN. */
  Timeline put(long process, Object key, Object value, OpType outcome, long start, long end) {
    return op(process, Kv.PUT, Kv.pair(key, value), outcome, Kv.pair(key, value), start, end);
  }

  Timeline op(long process, String f, Object value, OpType outcome, Object result, long start,
      long end) {
    events.add(new Event(start, 1, OpType.INVOKE, process, f, value));
    if (end != OPEN) {
      if (end < start) {
        throw new IllegalArgumentException("end before start");
      }
      events.add(new Event(end, 0, outcome, process, f, result));
    }
    return this;
  }

  History build() {
    List<Event> sorted = new ArrayList<>(events);
    sorted.sort(Comparator.comparingLong(Event::time).thenComparingInt(Event::order));
    HistoryBuilder builder = new HistoryBuilder();
    for (Event event : sorted) {
      builder.add(event.type(), event.process(), event.f(), event.value(), event.time());
    }
    return builder.build();
  }
}
