package io.detraft.checker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link ElleChecker} found.
 *
 * @param verdict {@link Verdict#INVALID} if an anomaly that {@code consistency} prohibits was
 *     found; {@link Verdict#UNKNOWN} if not, but a cycle search ran out of budget; else valid
 * @param consistency the model checked
 * @param anomalies the anomalies kept (at most {@link ElleOptions#maxReportsPerType()} per
 *     type), most severe types first
 * @param anomalyCounts how many anomalies of each type were found, kept or not
 * @param ruledOut the models the anomalies found rule out, weakest first; may include models
 *     other than {@code consistency}, and may be non-empty for a valid history (e.g. G2-item
 *     rules out serializable, yet snapshot-isolation holds)
 * @param transactions how many transactions the history holds (every outcome)
 * @param searchExhausted whether some cycle search ran out of budget
 * @param explanation the whole answer in words; {@link #toString()} returns it
 */
public record ElleResult(Verdict verdict, ConsistencyModel consistency, List<Anomaly> anomalies,
    Map<AnomalyType, Integer> anomalyCounts, Set<ConsistencyModel> ruledOut, int transactions,
    boolean searchExhausted, String explanation) {

  public ElleResult {
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(consistency, "consistency");
    Objects.requireNonNull(explanation, "explanation");
    anomalies = List.copyOf(anomalies);
    anomalyCounts = Collections.unmodifiableMap(new EnumMap<>(anomalyCounts.isEmpty()
        ? new EnumMap<>(AnomalyType.class) : anomalyCounts));
    ruledOut = Collections.unmodifiableSet(ruledOut.isEmpty()
        ? EnumSet.noneOf(ConsistencyModel.class) : EnumSet.copyOf(ruledOut));
    boolean prohibitedFound = anomalyCounts.keySet().stream().anyMatch(consistency::prohibits);
    if (prohibitedFound != (verdict == Verdict.INVALID)) {
      throw new IllegalArgumentException("verdict " + verdict + " but prohibited anomalies "
          + (prohibitedFound ? "were" : "were not") + " found");
    }
  }

  /** Whether the verdict is {@link Verdict#VALID}. */
  public boolean isValid() {
    return verdict == Verdict.VALID;
  }

  /** The types of the anomalies found, in enum order. */
  public Set<AnomalyType> anomalyTypes() {
    return anomalyCounts.isEmpty()
        ? EnumSet.noneOf(AnomalyType.class) : EnumSet.copyOf(anomalyCounts.keySet());
  }

  /** The anomalies kept of one type. */
  public List<Anomaly> anomalies(AnomalyType type) {
    List<Anomaly> out = new ArrayList<>();
    for (Anomaly anomaly : anomalies) {
      if (anomaly.type() == type) {
        out.add(anomaly);
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return explanation;
  }
}
