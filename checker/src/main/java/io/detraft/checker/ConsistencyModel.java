package io.detraft.checker;

import static io.detraft.checker.AnomalyType.*;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Transactional consistency models, each defined by the anomalies it prohibits, following
 * Elle's mapping (itself after Adya, and Cerone et al. for snapshot isolation):
 *
 * <ul>
 *   <li>read-uncommitted (Adya PL-1): G0, and what no Adya history can contain at all:
 *       duplicate elements, cyclic versions, garbage reads;
 *   <li>read-committed (PL-2): also G1 = G1a, G1b, G1c, and incompatible order and dirty
 *       update, which imply a dirty read;
 *   <li>repeatable-read (PL-2.99): also G2-item, which includes G-single and G-nonadjacent
 *       (our rw edges are all per item), and lost update;
 *   <li>snapshot-isolation: read-committed's, plus internal, G-single, G-nonadjacent, lost
 *       update (not G2-item: write skew is allowed);
 *   <li>serializable (PL-3): everything of repeatable-read and snapshot-isolation;
 *   <li>strong-session-snapshot-isolation: snapshot-isolation plus the {@code -process}
 *       variants of G0, G1c, G-single, G-nonadjacent (a process sees its own past);
 *   <li>strong-session-serializable: serializable plus all {@code -process} variants;
 *   <li>strict-serializable: strong-session-serializable plus all {@code -realtime} variants.
 * </ul>
 *
 * <p>Like Elle, "internal" is prohibited only from snapshot isolation up: Adya's levels
 * presuppose that a transaction sees its own writes, so they do not name it.
 */
public enum ConsistencyModel {
  READ_UNCOMMITTED(EnumSet.of(G0, DUPLICATE_ELEMENTS, CYCLIC_VERSIONS, GARBAGE_READ)),
  READ_COMMITTED(union(READ_UNCOMMITTED,
      EnumSet.of(G1A, G1B, G1C, INCOMPATIBLE_ORDER, DIRTY_UPDATE))),
  REPEATABLE_READ(union(READ_COMMITTED,
      EnumSet.of(G_SINGLE, G_NONADJACENT, G2_ITEM, LOST_UPDATE))),
  SNAPSHOT_ISOLATION(union(READ_COMMITTED,
      EnumSet.of(INTERNAL, G_SINGLE, G_NONADJACENT, LOST_UPDATE))),
  SERIALIZABLE(union(REPEATABLE_READ, SNAPSHOT_ISOLATION.prohibited)),
  STRONG_SESSION_SNAPSHOT_ISOLATION(union(SNAPSHOT_ISOLATION,
      EnumSet.of(G0_PROCESS, G1C_PROCESS, G_SINGLE_PROCESS, G_NONADJACENT_PROCESS))),
  STRONG_SESSION_SERIALIZABLE(union(SERIALIZABLE, union(STRONG_SESSION_SNAPSHOT_ISOLATION,
      EnumSet.of(G2_ITEM_PROCESS)))),
  STRICT_SERIALIZABLE(union(STRONG_SESSION_SERIALIZABLE, EnumSet.of(G0_REALTIME, G1C_REALTIME,
      G_SINGLE_REALTIME, G_NONADJACENT_REALTIME, G2_ITEM_REALTIME)));

  private final Set<AnomalyType> prohibited;

  ConsistencyModel(Set<AnomalyType> prohibited) {
    this.prohibited = prohibited;
  }

  private static Set<AnomalyType> union(ConsistencyModel weaker, Set<AnomalyType> more) {
    return union(weaker.prohibited, more);
  }

  private static Set<AnomalyType> union(Set<AnomalyType> weaker, Set<AnomalyType> more) {
    EnumSet<AnomalyType> all = EnumSet.copyOf(weaker);
    all.addAll(more);
    return all;
  }

  /** Whether a history showing {@code anomaly} violates this model. */
  public boolean prohibits(AnomalyType anomaly) {
    return prohibited.contains(anomaly);
  }

  /** The anomalies this model prohibits. */
  public Set<AnomalyType> prohibited() {
    return EnumSet.copyOf(prohibited);
  }

  /** Whether every history valid under this model is valid under {@code other}. */
  public boolean implies(ConsistencyModel other) {
    return prohibited.containsAll(other.prohibited);
  }

  /** The name used by Elle and the CLI, e.g. {@code strict-serializable}. */
  public String modelName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Parses a model name as printed by {@link #modelName()} (case-insensitive). */
  public static ConsistencyModel fromName(String name) {
    for (ConsistencyModel model : values()) {
      if (model.modelName().equalsIgnoreCase(name)) {
        return model;
      }
    }
    StringBuilder known = new StringBuilder();
    for (ConsistencyModel model : values()) {
      known.append(known.length() == 0 ? "" : ", ").append(model.modelName());
    }
    throw new IllegalArgumentException("unknown consistency model '" + name + "'; known: "
        + known);
  }

  /** The models that a history showing {@code anomalies} violates, weakest first. */
  public static Set<ConsistencyModel> ruledOutBy(Set<AnomalyType> anomalies) {
    EnumSet<ConsistencyModel> out = EnumSet.noneOf(ConsistencyModel.class);
    for (ConsistencyModel model : values()) {
      for (AnomalyType anomaly : anomalies) {
        if (model.prohibits(anomaly)) {
          out.add(model);
          break;
        }
      }
    }
    return out;
  }
}
