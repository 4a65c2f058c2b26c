package io.detraft.kv;

import io.detraft.checker.History;
import io.detraft.checker.Keyword;
import io.detraft.checker.Op;
import io.detraft.checker.OpType;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The history of a {@code detraft test} run, recorded as it happens: client operations (one
 * logical process each, a new process after an op ends {@code info}, as in Jepsen) and the
 * nemesis's events under {@code :process :nemesis}. One lock orders every event, so the
 * indexes increase with time. Written as Jepsen EDN, one op map per line.
 */
final class JepsenHistory {
  /** A nemesis event: written to the EDN history, never given to a checker. */
  record NemesisEvent(long index, OpType type, String f, String value, long timeNanos) {}

  /**
   * One completed client operation, for the plots and the recovery times.
   *
   * @param group the Raft group the operation went to
   * @param write whether an ok completion proves the group accepted a write
   */
  record Sample(long invokeNanos, long endNanos, OpType type, long group, boolean write) {}

  private final long startNanos = System.nanoTime();
  private final List<Op> ops = new ArrayList<>();
  private final List<NemesisEvent> nemesis = new ArrayList<>();
  private final List<Sample> samples = new ArrayList<>();
  private long nextIndex;
  private long ok;
  private long failed;
  private long info;

  /** Nanoseconds since the run started. */
  long now() {
    return System.nanoTime() - startNanos;
  }

  /** Records an invoke; returns its time (to pass back to {@link #complete}). */
  synchronized long invoke(long process, String f, Object value) {
    long time = now();
    ops.add(new Op(nextIndex++, OpType.INVOKE, f, value, process, time));
    return time;
  }

  synchronized void complete(OpType type, long process, String f, Object value,
      long invokedNanos, long group, boolean write) {
    long time = now();
    ops.add(new Op(nextIndex++, type, f, value, process, time));
    samples.add(new Sample(invokedNanos, time, type, group, write));
    switch (type) {
      case OK -> ok++;
      case FAIL -> failed++;
      default -> info++;
    }
  }

  /** Records a nemesis event (Jepsen writes them as :info); returns its time. */
  synchronized long nemesis(String f, String value) {
    long time = now();
    nemesis.add(new NemesisEvent(nextIndex++, OpType.INFO, f, value, time));
    return time;
  }

  synchronized long[] counts() {
    return new long[] {ok, failed, info};
  }

  synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  synchronized List<NemesisEvent> nemesisEvents() {
    return List.copyOf(nemesis);
  }

  /** The client ops whose {@code f} is one of {@code fs}, as a checkable history. */
  synchronized History clientHistory(Set<String> fs) {
    Predicate<Op> keep = op -> fs.contains(op.f());
    return History.of(ops.stream().filter(keep).toList());
  }

  /** Writes every event, client and nemesis, in index order as Jepsen EDN. */
  void writeEdn(Path file) throws IOException {
    writeEdn(file, null);
  }

  /**
   * As {@link #writeEdn(Path)}, with only the client ops whose {@code f} is one of {@code fs}
   * (null: all), so that {@code detraft check} can judge one workload's file on its own.
   */
  synchronized void writeEdn(Path file, Set<String> fs) throws IOException {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      int n = 0;
      for (Op op : ops) {
        if (fs != null && !fs.contains(op.f())) {
          continue;
        }
        while (n < nemesis.size() && nemesis.get(n).index() < op.index()) {
          writeNemesis(out, nemesis.get(n++));
        }
        out.write("{:index " + op.index() + ", :type :" + typeName(op.type()) + ", :f :"
            + op.f() + ", :value " + edn(op.value()) + ", :process " + op.process()
            + ", :time " + op.time() + "}\n");
      }
      while (n < nemesis.size()) {
        writeNemesis(out, nemesis.get(n++));
      }
    }
  }

  private static void writeNemesis(BufferedWriter out, NemesisEvent e) throws IOException {
    out.write("{:index " + e.index() + ", :type :" + typeName(e.type()) + ", :f :" + e.f()
        + ", :value " + edn(e.value()) + ", :process :nemesis, :time " + e.timeNanos()
        + "}\n");
  }

  private static String typeName(OpType type) {
    return type.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** EDN text of a history value: nil, longs, strings, keywords, vectors, maps. */
  static String edn(Object value) {
    if (value == null) {
      return "nil";
    }
    if (value instanceof Long || value instanceof Integer || value instanceof Boolean) {
      return value.toString();
    }
    if (value instanceof Double d) {
      return String.format(java.util.Locale.ROOT, "%.3f", d);
    }
    if (value instanceof Keyword k) {
      return ":" + k.name();
    }
    if (value instanceof String s) {
      return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
    if (value instanceof List<?> list) {
      StringBuilder b = new StringBuilder("[");
      for (Object o : list) {
        b.append(b.length() == 1 ? "" : " ").append(edn(o));
      }
      return b.append(']').toString();
    }
    if (value instanceof Map<?, ?> map) {
      StringBuilder b = new StringBuilder("{");
      map.forEach((k, v) -> b.append(b.length() == 1 ? "" : ", ").append(edn(k)).append(' ')
          .append(edn(v)));
      return b.append('}').toString();
    }
    throw new IllegalArgumentException("not a history value: " + value.getClass());
  }
}
