package io.detraft.checker;

import java.util.Locale;

/**
 * The anomalies {@link ElleChecker} reports, named as Elle names them.
 *
 * <p>Cycle anomalies are named after the dependency edges of the cycle (Adya's phenomena):
 * G0 only ww edges; G1c ww and wr edges, at least one wr; G-single exactly one rw edge;
 * G-nonadjacent several rw edges, no two of them adjacent; G2-item any other cycle with rw
 * edges. A cycle that needs a process-order edge gets the suffix {@code -process}; one that
 * needs a real-time edge gets {@code -realtime} (it may hold process edges too: the process
 * order of completed operations is part of the real-time order).
 *
 * <p>The others are found without cycles; see each constant.
 */
public enum AnomalyType {
  G0("ww edges only", Variant.NONE),
  G1C("ww and wr edges, at least one wr", Variant.NONE),
  G_SINGLE("exactly one rw edge", Variant.NONE),
  G_NONADJACENT("several rw edges, no two adjacent", Variant.NONE),
  G2_ITEM("rw edges, some adjacent", Variant.NONE),
  G0_PROCESS("ww edges only, and process order", Variant.PROCESS),
  G1C_PROCESS("ww and wr edges, at least one wr, and process order", Variant.PROCESS),
  G_SINGLE_PROCESS("exactly one rw edge, and process order", Variant.PROCESS),
  G_NONADJACENT_PROCESS("several non-adjacent rw edges, and process order", Variant.PROCESS),
  G2_ITEM_PROCESS("rw edges, some adjacent, and process order", Variant.PROCESS),
  G0_REALTIME("ww edges only, and real-time order", Variant.REALTIME),
  G1C_REALTIME("ww and wr edges, at least one wr, and real-time order", Variant.REALTIME),
  G_SINGLE_REALTIME("exactly one rw edge, and real-time order", Variant.REALTIME),
  G_NONADJACENT_REALTIME("several non-adjacent rw edges, and real-time order", Variant.REALTIME),
  G2_ITEM_REALTIME("rw edges, some adjacent, and real-time order", Variant.REALTIME),
  /** Aborted read: a committed transaction read a write of a failed one. */
  G1A("a committed transaction read a write of a failed transaction", null),
  /** Intermediate read: a committed transaction read a version its writer later replaced. */
  G1B("a committed transaction read an intermediate write of another", null),
  /** A transaction's reads disagree with its own earlier reads and writes. */
  INTERNAL("a transaction's read disagrees with its own earlier reads or writes", null),
  /** A read of a list holds the same element twice (list-append). */
  DUPLICATE_ELEMENTS("a read holds the same element twice", null),
  /** Two reads of a list are not prefixes of one another (list-append). */
  INCOMPATIBLE_ORDER("two reads of a key are not prefixes of one another", null),
  /** A committed write was applied on top of a failed transaction's write. */
  DIRTY_UPDATE("a write was applied on top of a failed transaction's write", null),
  /** A read returned an element or value that no transaction ever wrote. */
  GARBAGE_READ("a read returned a value nobody wrote", null),
  /** Two committed transactions read the same version of a register and both wrote it. */
  LOST_UPDATE("two transactions read the same version and both overwrote it", null),
  /** The inferred version order of a register is cyclic (rw-register). */
  CYCLIC_VERSIONS("the inferred version order of a key is cyclic", null);

  /** Which extra order a cycle anomaly needs; null for non-cycle anomalies. */
  enum Variant { NONE, PROCESS, REALTIME }

  private final String description;
  private final Variant variant;

  AnomalyType(String description, Variant variant) {
    this.description = description;
    this.variant = variant;
  }

  /** Elle's name, e.g. {@code G-single-realtime}, {@code G1a}, {@code incompatible-order}. */
  public String elleName() {
    String name = name().toLowerCase(Locale.ROOT).replace('_', '-');
    if (name.matches("g[0-9-].*")) {
      // G0, G1a, G1c, G2-item, G-single, G-nonadjacent: capital G, rest as is.
      name = "G" + name.substring(1);
    }
    return name;
  }

  /** What the anomaly is, in a few words. */
  public String description() {
    return description;
  }

  /** Whether this anomaly is witnessed by a dependency cycle. */
  public boolean isCycle() {
    return variant != null;
  }

  /** Parses an Elle name such as {@code G-single-process} (case-insensitive). */
  public static AnomalyType fromElleName(String name) {
    for (AnomalyType type : values()) {
      if (type.elleName().equalsIgnoreCase(name)) {
        return type;
      }
    }
    throw new IllegalArgumentException("unknown anomaly '" + name + "'");
  }

  Variant variant() {
    return variant;
  }

  /** The cycle anomaly of base shape {@code base} (one of the first five) and {@code variant}. */
  static AnomalyType cycle(AnomalyType base, Variant variant) {
    if (base.ordinal() > G2_ITEM.ordinal()) {
      throw new IllegalArgumentException(base + " is not a base cycle anomaly");
    }
    return values()[base.ordinal() + 5 * variant.ordinal()];
  }

  /** For a cycle anomaly, its data-only shape: G0, G1c, G-single, G-nonadjacent or G2-item. */
  AnomalyType base() {
    if (variant == null) {
      throw new IllegalStateException(this + " is not a cycle anomaly");
    }
    return values()[ordinal() % 5];
  }
}
