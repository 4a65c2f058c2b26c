package io.detraft.sim;

import io.detraft.core.Mark;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * What a sweep (or one shard of it) found: verdict counts, every seed that did not pass,
 * coverage mark counts and speed. A sweep prints it at its end; {@code --json} writes it (see
 * {@link SweepJson}); {@code detraft sim merge} reads the shards' files, adds them up with
 * {@link #merge} and prints the very same lines, so N shards print what one sweep over the
 * whole range prints (the speed lines aside, which describe other machines and threads).
 */
final class SweepSummary {
  /**
   * What makes two shards parts of one sweep: the whole range, the shard count and every
   * override that changes what a seed runs.
   *
   * @param safetyNanos the {@code --safety-seconds} override in nanoseconds, or -1 (the seed's
   *     own)
   * @param voters the {@code --voters} override, or 0
   */
  record Sweep(long first, long last, int shardCount, long safetyNanos, int voters,
      boolean allNemeses, int recheck, boolean requireMarks) {}

  /**
   * A seed that did not pass: enough to print its line and to replay it.
   *
   * @param line {@link SimResult#line()}
   * @param options {@link SimOptions#describe()}, the options it ran with
   * @param replay the command that runs it alone; null for an unknown verdict (a warning)
   */
  record Seed(long seed, SimResult.Verdict verdict, String oracle, String fingerprint,
      String line, String options, String replay) {}

  /**
   * How fast it ran. Merged shards add up everything but the wall time, which is the longest
   * shard's (shards run side by side).
   *
   * @param cores cores the threads could use (threads, at most the machine's cores)
   * @param runCpuNanos CPU time of the run threads, or 0 where the JVM cannot measure it
   * @param processCpuNanos CPU time of the whole JVM during the sweep (JIT and GC included)
   */
  record Speed(long simulatedNanos, long wallNanos, int threads, int cores, long runCpuNanos,
      long processCpuNanos) {
    Speed plus(Speed other) {
      return new Speed(simulatedNanos + other.simulatedNanos,
          Math.max(wallNanos, other.wallNanos), threads + other.threads, cores + other.cores,
          runCpuNanos > 0 && other.runCpuNanos > 0 ? runCpuNanos + other.runCpuNanos : 0,
          processCpuNanos + other.processCpuNanos);
    }
  }

  final Sweep sweep;
  /** This summary's shard, or -1 for merged shards. */
  final int shardIndex;
  long seeds;
  long passed;
  long failed;
  long unknown;
  long harnessCrashes;
  /** Seeds that did not pass, in seed order. */
  final List<Seed> notPassed = new ArrayList<>();
  final Marks marks = new Marks();
  /** Per mark, how many seeds hit it. */
  final Marks seedsHit = new Marks();
  Speed speed = new Speed(0, 0, 0, 0, 0, 0);
  /** How many seeds drew each swarm dimension ({@link SimOptions#swarm}). */
  final java.util.TreeMap<String, Long> swarm = new java.util.TreeMap<>();

  SweepSummary(Sweep sweep, int shardIndex) {
    this.sweep = sweep;
    this.shardIndex = shardIndex;
  }

  /** Counts one seed's result; {@code replay} is its command line (null unless it failed). */
  void add(SimResult result, String replay) {
    seeds++;
    marks.addAll(result.marks(), false);
    seedsHit.addAll(result.marks(), true);
    result.options().swarm().forEach(label -> swarm.merge(label, 1L, Long::sum));
    speed = new Speed(speed.simulatedNanos() + result.simulatedNanos(), speed.wallNanos(),
        speed.threads(), speed.cores(), speed.runCpuNanos(), speed.processCpuNanos());
    switch (result.verdict()) {
      case PASS -> passed++;
      case FAIL -> failed++;
      case UNKNOWN -> unknown++;
    }
    if ("harness".equals(result.oracle())) {
      harnessCrashes++;
    }
    if (result.verdict() != SimResult.Verdict.PASS) {
      notPassed.add(new Seed(result.seed(), result.verdict(), result.oracle(),
          result.fingerprintHex(), result.line(), result.options().describe(),
          result.failed() ? replay : null));
    }
  }

  /** The line a sweep prints for a seed that did not pass. */
  static String line(Seed seed) {
    return seed.line() + (seed.replay() != null ? "  [replay: " + seed.replay() + "]" : "");
  }

  /**
   * The shards of one sweep added up. The caller has checked that they are each shard of
   * {@link #sweep} exactly once.
   */
  static SweepSummary merge(List<SweepSummary> shards) {
    SweepSummary merged = new SweepSummary(shards.get(0).sweep, -1);
    boolean first = true;
    for (SweepSummary shard : shards) {
      merged.seeds += shard.seeds;
      merged.passed += shard.passed;
      merged.failed += shard.failed;
      merged.unknown += shard.unknown;
      merged.harnessCrashes += shard.harnessCrashes;
      merged.notPassed.addAll(shard.notPassed);
      merged.marks.addAll(shard.marks, false);
      merged.seedsHit.addAll(shard.seedsHit, false);
      shard.swarm.forEach((label, n) -> merged.swarm.merge(label, n, Long::sum));
      merged.speed = first ? shard.speed : merged.speed.plus(shard.speed);
      first = false;
    }
    merged.notPassed.sort(Comparator.comparingLong(Seed::seed));
    return merged;
  }

  /** Whether the sweep exits 1: a seed failed, or --require-marks and a mark never fired. */
  boolean failing() {
    return failed > 0 || (sweep.requireMarks() && !marks.neverHit().isEmpty());
  }

  /** Seeds per hour of one core's run-thread CPU time (wall time where that is unknown). */
  double seedsPerCoreHour() {
    double cpuSeconds = speed.runCpuNanos() / 1e9;
    if (cpuSeconds > 0) {
      return seeds / (cpuSeconds / 3600);
    }
    return seeds / Math.max(speed.wallNanos() / 1e9 * Math.max(speed.cores(), 1) / 3600, 1e-9);
  }

  /** The summary: verdicts, speed and every coverage mark's hit count. */
  void print(PrintStream out) {
    out.println(String.format(Locale.ROOT,
        "seeds: %d passed, %d failed, %d unknown (of %d)", passed, failed, unknown, seeds));
    if (harnessCrashes > 0) {
      out.println(harnessCrashes + " of the failures are crashes of the simulator itself"
          + " (oracle \"harness\"): bugs of the harness, no verdict on the code under test");
    }
    double simulatedSeconds = speed.simulatedNanos() / 1e9;
    double wall = speed.wallNanos() / 1e9;
    int cores = Math.max(speed.cores(), 1);
    out.println(String.format(Locale.ROOT,
        "simulated %.1fs in %.1fs wall, %d thread(s): %.0f simulated s per wall s (%.0f per"
            + " core)", simulatedSeconds, wall, speed.threads(),
        simulatedSeconds / Math.max(wall, 1e-9), simulatedSeconds / Math.max(wall * cores,
            1e-9)));
    double cpuSeconds = speed.runCpuNanos() / 1e9;
    if (cpuSeconds > 0) {
      // Thread CPU time is what the runs themselves cost, immune to other load on the
      // machine; process CPU time adds the JIT compiler and the garbage collector.
      out.println(String.format(Locale.ROOT,
          "per core: %.0f simulated s per CPU s, %.0f seeds per core-hour (run threads: %.1f"
              + " CPU s; whole process incl. JIT and GC: %.1f CPU s)",
          simulatedSeconds / cpuSeconds, seedsPerCoreHour(), cpuSeconds,
          speed.processCpuNanos() / 1e9));
    } else {
      out.println(String.format(Locale.ROOT,
          "per core: %.0f simulated s per core-second, %.0f seeds per core-hour (wall x %d)",
          simulatedSeconds / Math.max(wall * cores, 1e-9), seedsPerCoreHour(), cores));
    }
    out.println("swarm (how many seeds drew each):");
    swarm.forEach((label, n) -> out.println(String.format(Locale.ROOT, "  %-52s %6d  %5.1f %%",
        label, n, 100.0 * n / Math.max(seeds, 1))));
    out.println("coverage marks (hits, and in how many seeds):");
    out.print(marks.table(seedsHit));
    List<String> never = marks.neverHit();
    boolean missing = sweep.requireMarks() && !never.isEmpty();
    out.println(never.isEmpty() ? "every mark fired"
        : "never fired (" + never.size() + "): " + String.join(", ", never)
            + (missing ? "  [--require-marks: exit 1]" : ""));
  }

  /** Whether a speed line: the lines in which a merge may differ from one sweep. */
  static boolean isSpeedLine(String line) {
    return line.startsWith("simulated ") || line.startsWith("per core: ");
  }

  /** Marks by name, for reading a summary back; null for a name this build does not know. */
  static Mark coreMark(String name) {
    for (Mark mark : Mark.values()) {
      if (mark.name().equals(name)) {
        return mark;
      }
    }
    return null;
  }

  static SimMark simMark(String name) {
    for (SimMark mark : SimMark.values()) {
      if (mark.name().equals(name)) {
        return mark;
      }
    }
    return null;
  }
}
