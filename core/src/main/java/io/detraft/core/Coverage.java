package io.detraft.core;

import java.util.EnumMap;
import java.util.Map;

/** Per-replica hit counts of {@link Mark}s. Not thread-safe; owned by one replica. */
public final class Coverage {
  private final long[] hits = new long[Mark.values().length];

  void hit(Mark mark) {
    hits[mark.ordinal()]++;
  }

  public long hits(Mark mark) {
    return hits[mark.ordinal()];
  }

  /** Adds {@code other}'s counts into this one (to aggregate over replicas or runs). */
  public void addAll(Coverage other) {
    for (int i = 0; i < hits.length; i++) {
      hits[i] += other.hits[i];
    }
  }

  /** Counts in declaration order, including zeros. */
  public Map<Mark, Long> asMap() {
    Map<Mark, Long> out = new EnumMap<>(Mark.class);
    for (Mark m : Mark.values()) {
      out.put(m, hits[m.ordinal()]);
    }
    return out;
  }
}
