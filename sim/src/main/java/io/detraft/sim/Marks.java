package io.detraft.sim;

import io.detraft.core.Coverage;
import io.detraft.core.Mark;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Hit counts of every coverage mark, the core's ({@link Mark}, summed over replicas and
 * incarnations) and the simulator's ({@link SimMark}); for one run or summed over a sweep.
 */
public final class Marks {
  private static final Mark[] CORE = Mark.values();
  private static final SimMark[] SIM = SimMark.values();

  private final long[] core = new long[CORE.length];
  private final long[] sim = new long[SIM.length];

  /** Adds one replica incarnation's core counts. */
  void add(Coverage coverage) {
    for (Mark m : CORE) {
      core[m.ordinal()] += coverage.hits(m);
    }
  }

  void hit(SimMark mark) {
    sim[mark.ordinal()]++;
  }

  void add(Mark mark, long count) {
    core[mark.ordinal()] += count;
  }

  void add(SimMark mark, long count) {
    sim[mark.ordinal()] += count;
  }

  /** Adds {@code other}'s counts; with {@code presence}, adds 1 per mark {@code other} hit. */
  public void addAll(Marks other, boolean presence) {
    for (int i = 0; i < core.length; i++) {
      core[i] += presence ? Math.min(1, other.core[i]) : other.core[i];
    }
    for (int i = 0; i < sim.length; i++) {
      sim[i] += presence ? Math.min(1, other.sim[i]) : other.sim[i];
    }
  }

  public long hits(Mark mark) {
    return core[mark.ordinal()];
  }

  public long hits(SimMark mark) {
    return sim[mark.ordinal()];
  }

  /** Names of the marks with no hit, core marks first, in declaration order. */
  public List<String> neverHit() {
    List<String> out = new ArrayList<>();
    for (Mark m : CORE) {
      if (core[m.ordinal()] == 0) {
        out.add(m.name());
      }
    }
    for (SimMark m : SIM) {
      if (sim[m.ordinal()] == 0) {
        out.add(m.name());
      }
    }
    return out;
  }

  /**
   * One line per mark, zeros included: name, hits and (given a presence count over a sweep)
   * how many seeds hit it.
   */
  public String table(Marks seedsHit) {
    StringBuilder out = new StringBuilder();
    for (Mark m : CORE) {
      row(out, "core", m.name(), core[m.ordinal()], seedsHit == null ? -1 : seedsHit.hits(m));
    }
    for (SimMark m : SIM) {
      row(out, "sim", m.name(), sim[m.ordinal()], seedsHit == null ? -1 : seedsHit.hits(m));
    }
    return out.toString();
  }

  private static void row(StringBuilder out, String kind, String name, long hits, long seeds) {
    out.append(String.format(Locale.ROOT, "  %-4s %-38s %10d", kind, name, hits));
    if (seeds >= 0) {
      out.append(String.format(Locale.ROOT, "  in %d seed(s)", seeds));
    }
    out.append(hits == 0 ? "  NEVER" : "").append('\n');
  }
}
