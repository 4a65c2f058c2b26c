package io.detraft.checker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Collects the anomalies of one check: counts every one, keeps (and explains) the first few
 * of each type, and turns them into an {@link ElleResult}. Transactions are named T1, T2, ...
 * within each anomaly, and each name is spelled out as its operation.
 */
final class Findings {
  /** Explains why a data dependency edge exists, as a clause naming the two transactions. */
  interface EdgeExplainer {
    String why(int from, int to, DependencyKind kind, String fromName, String toName);
  }

  private static final int LIST_SHOWN_MAX = 8;

  private final Transactions txns;
  private final ElleOptions options;
  private final Map<AnomalyType, Integer> counts = new EnumMap<>(AnomalyType.class);
  private final List<Anomaly> kept = new ArrayList<>();

  Findings(Transactions txns, ElleOptions options) {
    this.txns = txns;
    this.options = options;
  }

  /**
   * Records a non-cycle anomaly. {@code sentence} names the transactions T1, T2, ... in the
   * order of {@code transactions}; it is only built if the anomaly is kept.
   */
  void add(AnomalyType type, Object key, Supplier<String> sentence, int... transactions) {
    if (!count(type)) {
      return;
    }
    StringBuilder out = new StringBuilder(type.elleName()).append(" (")
        .append(type.description()).append("): ").append(sentence.get()).append('\n');
    appendNames(out, transactions);
    kept.add(new Anomaly(type, operations(transactions), List.of(), key, out.toString()));
  }

  /** Records a dependency cycle, explained edge by edge. */
  void cycle(int[] nodes, DependencyKind[] edges, EdgeExplainer explainer) {
    AnomalyType type = CycleSearch.classify(edges);
    if (!count(type)) {
      return;
    }
    StringBuilder out = new StringBuilder(type.elleName()).append(" (")
        .append(type.description()).append("): ");
    for (int i = 0; i < nodes.length; i++) {
      out.append('T').append(i + 1).append(" -").append(edges[i].shortName()).append("-> ");
    }
    out.append("T1\n");
    appendNames(out, nodes);
    for (int i = 0; i < nodes.length; i++) {
      int next = (i + 1) % nodes.length;
      String from = "T" + (i + 1);
      String to = "T" + (next + 1);
      out.append("  ").append(i == 0 ? "" : "then ")
          .append(why(nodes[i], nodes[next], edges[i], from, to, explainer))
          .append(", so ").append(from).append(' ').append(edges[i].shortName()).append("-> ")
          .append(to).append(i == nodes.length - 1 ? ".\n" : ";\n");
    }
    out.append("  So T1 would have to precede itself: no order of these transactions "
        + "explains what they observed.\n");
    List<DependencyKind> kinds = List.of(edges);
    kept.add(new Anomaly(type, operations(nodes), kinds, null, out.toString()));
  }

  private String why(int from, int to, DependencyKind kind, String fromName, String toName,
      EdgeExplainer explainer) {
    Operation a = txns.operation[from];
    Operation b = txns.operation[to];
    switch (kind) {
      case PROCESS:
        return fromName + " and " + toName + " ran on process " + a.process() + ", "
            + fromName + " first";
      case REALTIME:
        return fromName + " completed (op " + a.completion().index() + ", time "
            + a.completion().time() + ") before " + toName + " was invoked (op "
            + b.invoke().index() + ", time " + b.invoke().time() + ")";
      default:
        return explainer.why(from, to, kind, fromName, toName);
    }
  }

  /** Whether an anomaly of this type is still kept (counts it in any case). */
  private boolean count(AnomalyType type) {
    int count = counts.merge(type, 1, Integer::sum);
    return count <= options.maxReportsPerType();
  }

  private void appendNames(StringBuilder out, int[] transactions) {
    for (int i = 0; i < transactions.length; i++) {
      out.append("  T").append(i + 1).append(" = ").append(txns.operation[transactions[i]])
          .append('\n');
    }
  }

  private List<Operation> operations(int[] transactions) {
    List<Operation> out = new ArrayList<>(transactions.length);
    for (int t : transactions) {
      out.add(txns.operation[t]);
    }
    return out;
  }

  /**
   * The result. {@code exhausted}: the variants whose budgeted cycle searches gave up; the
   * verdict is unknown only if the model prohibits an anomaly those searches look for.
   */
  ElleResult result(Set<AnomalyType.Variant> exhausted) {
    ConsistencyModel model = options.consistency();
    Set<ConsistencyModel> ruledOut = ConsistencyModel.ruledOutBy(counts.keySet());
    boolean invalid = ruledOut.contains(model);
    boolean searchExhausted = false;
    for (AnomalyType.Variant variant : exhausted) {
      searchExhausted |= model.prohibits(AnomalyType.cycle(AnomalyType.G_SINGLE, variant))
          || model.prohibits(AnomalyType.cycle(AnomalyType.G_NONADJACENT, variant));
    }
    Verdict verdict = invalid ? Verdict.INVALID
        : searchExhausted ? Verdict.UNKNOWN : Verdict.VALID;
    List<Anomaly> sorted = new ArrayList<>(kept);
    sorted.sort(Comparator.comparingInt((Anomaly anomaly) -> severity(anomaly.type()))
        .thenComparingInt(anomaly -> anomaly.type().ordinal()));
    StringBuilder out = new StringBuilder(verdict.name()).append(" under ")
        .append(model.modelName()).append(": ").append(txns.count).append(" transactions");
    if (counts.isEmpty()) {
      out.append(", no anomalies.\n");
    } else {
      out.append("; anomalies:");
      for (AnomalyType type : sortedTypes()) {
        out.append(' ').append(type.elleName()).append(" (").append(counts.get(type))
            .append(model.prohibits(type) ? "" : ", allowed").append(')');
      }
      out.append(".\nThey rule out: ");
      List<String> names = new ArrayList<>();
      ruledOut.forEach(ruled -> names.add(ruled.modelName()));
      out.append(names.isEmpty() ? "nothing" : String.join(", ", names)).append(".\n");
    }
    if (searchExhausted) {
      out.append("A cycle search ran out of its budget of ").append(options.maxSearchSteps())
          .append(" steps: a stronger anomaly may have been missed.\n");
    }
    for (Anomaly anomaly : sorted) {
      out.append('\n').append(anomaly.explanation());
    }
    for (AnomalyType type : sortedTypes()) {
      int hidden = counts.get(type) - options.maxReportsPerType();
      if (hidden > 0) {
        out.append("\n(").append(hidden).append(" more ").append(type.elleName())
            .append(" not shown)");
      }
    }
    return new ElleResult(verdict, model, sorted, counts, ruledOut, txns.count,
        searchExhausted, out.toString());
  }

  private List<AnomalyType> sortedTypes() {
    List<AnomalyType> types = new ArrayList<>(counts.keySet());
    types.sort(Comparator.comparingInt(Findings::severity)
        .thenComparingInt(AnomalyType::ordinal));
    return types;
  }

  /** Lower is worse: the position of the weakest model that prohibits it. */
  private static int severity(AnomalyType type) {
    for (ConsistencyModel model : ConsistencyModel.values()) {
      if (model.prohibits(type)) {
        return model.ordinal();
      }
    }
    return Integer.MAX_VALUE;
  }

  /** A list for an explanation, the middle elided when long: {@code [1 2 ... 98 99]}. */
  static String shortList(List<?> list) {
    if (list.size() <= LIST_SHOWN_MAX) {
      return Values.format(list);
    }
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < 2; i++) {
      out.append(Values.format(list.get(i))).append(' ');
    }
    out.append("...");
    for (int i = list.size() - 3; i < list.size(); i++) {
      out.append(' ').append(Values.format(list.get(i)));
    }
    return out.append(']').toString();
  }
}
