package io.detraft.checker;

import java.util.List;
import java.util.Objects;

/**
 * One anomaly found by {@link ElleChecker}, with its witnesses and an explanation in words.
 *
 * @param type what kind of anomaly
 * @param transactions for a cycle, its transactions T1..Tn in cycle order (T1 -> T2 -> ... ->
 *     Tn -> T1); otherwise the transactions involved (e.g. the reader, then the writer)
 * @param edges for a cycle, {@code edges.get(i)} is the dependency from {@code
 *     transactions.get(i)} to the next one (the last edge closes the cycle); empty otherwise
 * @param key the key concerned, for anomalies about one key; null for cycles
 * @param explanation the anomaly in words, edge by edge for cycles
 */
public record Anomaly(AnomalyType type, List<Operation> transactions, List<DependencyKind> edges,
    Object key, String explanation) {

  public Anomaly {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(explanation, "explanation");
    transactions = List.copyOf(transactions);
    edges = List.copyOf(edges);
    if (type.isCycle() && (edges.size() != transactions.size() || edges.size() < 2)) {
      throw new IllegalArgumentException("a cycle of " + transactions.size()
          + " transactions needs as many edges (>= 2), got " + edges.size());
    }
    if (!type.isCycle() && !edges.isEmpty()) {
      throw new IllegalArgumentException(type.elleName() + " is not a cycle anomaly");
    }
  }

  /**
   * The invoke indexes of {@link #transactions()}: a compact way for tests to name a cycle.
   */
  public List<Long> invokeIndexes() {
    return transactions.stream().map(operation -> operation.invoke().index()).toList();
  }

  @Override
  public String toString() {
    return explanation;
  }
}
