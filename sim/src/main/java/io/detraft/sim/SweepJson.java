package io.detraft.sim;

import io.detraft.checker.Json;
import io.detraft.core.Mark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sweep summary as JSON ({@code detraft sim --json FILE}), for machines: the merge step of
 * a sharded sweep, CI dashboards. Integers and strings only (times in nanoseconds), written
 * and read with the checker's small JSON codec. The shape, {@value #FORMAT}:
 *
 * <pre>
 * {"format": "detraft-sim-sweep/1",
 *  "sweep": {"first": 1, "last": 1000, "shardCount": 4, "safetyNanos": -1, "voters": 0,
 *            "allNemeses": false, "recheck": 0, "requireMarks": false},
 *  "shard": {"index": 0, "first": 1, "last": 250},
 *  "arguments": ["--seeds", "1..1000", "--shard", "0/4", ...],
 *  "counts": {"seeds": 250, "passed": 249, "failed": 1, "unknown": 0, "harnessCrashes": 0},
 *  "notPassed": [{"seed": 7, "verdict": "FAIL", "oracle": "liveness", "fingerprint": "..",
 *                 "line": "seed=7 FAIL ..", "options": "seed=7 ..", "replay": "java -jar .."}],
 *  "marks": {"core": {"MARK": {"hits": 12, "seeds": 3}, ..}, "sim": {..}},
 *  "swarm": {"cluster: 3 voters": 52, "network: loss": 49, ..},
 *  "speed": {"simulatedNanos": .., "wallNanos": .., "threads": 2, "cores": 2,
 *            "runCpuNanos": .., "processCpuNanos": .., "seedsPerCoreHour": ..}}
 * </pre>
 *
 * "notPassed" holds failed seeds and unknown verdicts (warnings, with a null replay), in seed
 * order; its "line" is the line the sweep printed.
 */
final class SweepJson {
  static final String FORMAT = "detraft-sim-sweep/1";

  private SweepJson() {}

  /** Writes {@code summary} to {@code file} whole or not at all (a temp file, then a rename). */
  static void write(SweepSummary summary, long shardFirst, long shardLast,
      List<String> arguments, Path file) throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", FORMAT);
    SweepSummary.Sweep sweep = summary.sweep;
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("first", sweep.first());
    options.put("last", sweep.last());
    options.put("shardCount", (long) sweep.shardCount());
    options.put("safetyNanos", sweep.safetyNanos());
    options.put("voters", (long) sweep.voters());
    options.put("allNemeses", sweep.allNemeses());
    options.put("recheck", (long) sweep.recheck());
    options.put("requireMarks", sweep.requireMarks());
    root.put("sweep", options);
    root.put("shard", ordered("index", (long) summary.shardIndex, "first", shardFirst,
        "last", shardLast));
    root.put("arguments", List.copyOf(arguments));
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("seeds", summary.seeds);
    counts.put("passed", summary.passed);
    counts.put("failed", summary.failed);
    counts.put("unknown", summary.unknown);
    counts.put("harnessCrashes", summary.harnessCrashes);
    root.put("counts", counts);
    List<Object> seeds = new ArrayList<>();
    for (SweepSummary.Seed seed : summary.notPassed) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("seed", seed.seed());
      entry.put("verdict", seed.verdict().name());
      entry.put("oracle", seed.oracle());
      entry.put("fingerprint", seed.fingerprint());
      entry.put("line", seed.line());
      entry.put("options", seed.options());
      entry.put("replay", seed.replay());
      seeds.add(entry);
    }
    root.put("notPassed", seeds);
    Map<String, Object> core = new LinkedHashMap<>();
    for (Mark mark : Mark.values()) {
      core.put(mark.name(), ordered("hits", summary.marks.hits(mark), "seeds",
          summary.seedsHit.hits(mark)));
    }
    Map<String, Object> sim = new LinkedHashMap<>();
    for (SimMark mark : SimMark.values()) {
      sim.put(mark.name(), ordered("hits", summary.marks.hits(mark), "seeds",
          summary.seedsHit.hits(mark)));
    }
    root.put("marks", ordered("core", core, "sim", sim));
    root.put("swarm", new LinkedHashMap<String, Object>(summary.swarm));
    SweepSummary.Speed speed = summary.speed;
    Map<String, Object> speedMap = new LinkedHashMap<>();
    speedMap.put("simulatedNanos", speed.simulatedNanos());
    speedMap.put("wallNanos", speed.wallNanos());
    speedMap.put("threads", (long) speed.threads());
    speedMap.put("cores", (long) speed.cores());
    speedMap.put("runCpuNanos", speed.runCpuNanos());
    speedMap.put("processCpuNanos", speed.processCpuNanos());
    speedMap.put("seedsPerCoreHour", Math.round(summary.seedsPerCoreHour()));
    root.put("speed", speedMap);
    StringBuilder text = new StringBuilder();
    Json.write(text, root);
    text.append('\n');
    Path absolute = file.toAbsolutePath();
    Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
    Files.writeString(temp, text, StandardCharsets.UTF_8);
    Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Reads a summary written by {@link #write}.
   *
   * @throws IllegalArgumentException naming what is wrong, for text that is not such a summary
   */
  static SweepSummary read(String text) {
    List<Object> values = Json.parseAll(text);
    if (values.size() != 1) {
      throw new IllegalArgumentException("not one JSON value");
    }
    Map<?, ?> root = map(values.get(0), "the document");
    if (!FORMAT.equals(root.get("format"))) {
      throw new IllegalArgumentException("not a sweep summary of format " + FORMAT
          + " (format: " + root.get("format") + ")");
    }
    Map<?, ?> options = map(root.get("sweep"), "sweep");
    SweepSummary.Sweep sweep = new SweepSummary.Sweep(number(options, "first"),
        number(options, "last"), (int) number(options, "shardCount"),
        number(options, "safetyNanos"), (int) number(options, "voters"),
        bool(options, "allNemeses"), (int) number(options, "recheck"),
        bool(options, "requireMarks"));
    Map<?, ?> shard = map(root.get("shard"), "shard");
    SweepSummary summary = new SweepSummary(sweep, (int) number(shard, "index"));
    Map<?, ?> counts = map(root.get("counts"), "counts");
    summary.seeds = number(counts, "seeds");
    summary.passed = number(counts, "passed");
    summary.failed = number(counts, "failed");
    summary.unknown = number(counts, "unknown");
    summary.harnessCrashes = number(counts, "harnessCrashes");
    if (!(root.get("notPassed") instanceof List<?> seeds)) {
      throw new IllegalArgumentException("notPassed: not a list");
    }
    for (Object value : seeds) {
      Map<?, ?> seed = map(value, "notPassed entry");
      SimResult.Verdict verdict;
      try {
        verdict = SimResult.Verdict.valueOf(string(seed, "verdict", false));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("notPassed: unknown verdict " + seed.get("verdict"));
      }
      summary.notPassed.add(new SweepSummary.Seed(number(seed, "seed"), verdict,
          string(seed, "oracle", true), string(seed, "fingerprint", false),
          string(seed, "line", false), string(seed, "options", false),
          string(seed, "replay", true)));
    }
    Map<?, ?> marks = map(root.get("marks"), "marks");
    Map<?, ?> core = map(marks.get("core"), "marks.core");
    Map<?, ?> sim = map(marks.get("sim"), "marks.sim");
    // Every mark of this build, and no other: a summary from another version does not mix.
    if (core.size() != Mark.values().length || sim.size() != SimMark.values().length) {
      throw new IllegalArgumentException("its coverage marks are not this build's ("
          + core.size() + " core and " + sim.size() + " sim marks, this build has "
          + Mark.values().length + " and " + SimMark.values().length + ")");
    }
    for (Map.Entry<?, ?> entry : core.entrySet()) {
      Mark mark = SweepSummary.coreMark(String.valueOf(entry.getKey()));
      if (mark == null) {
        throw new IllegalArgumentException("unknown core mark " + entry.getKey());
      }
      Map<?, ?> counted = map(entry.getValue(), "mark " + mark);
      summary.marks.add(mark, number(counted, "hits"));
      summary.seedsHit.add(mark, number(counted, "seeds"));
    }
    for (Map.Entry<?, ?> entry : sim.entrySet()) {
      SimMark mark = SweepSummary.simMark(String.valueOf(entry.getKey()));
      if (mark == null) {
        throw new IllegalArgumentException("unknown sim mark " + entry.getKey());
      }
      Map<?, ?> counted = map(entry.getValue(), "mark " + mark);
      summary.marks.add(mark, number(counted, "hits"));
      summary.seedsHit.add(mark, number(counted, "seeds"));
    }
    Map<?, ?> swarm = map(root.get("swarm"), "swarm");
    for (Object label : swarm.keySet()) {
      summary.swarm.put(String.valueOf(label), number(swarm, String.valueOf(label)));
    }
    Map<?, ?> speed = map(root.get("speed"), "speed");
    summary.speed = new SweepSummary.Speed(number(speed, "simulatedNanos"),
        number(speed, "wallNanos"), (int) number(speed, "threads"),
        (int) number(speed, "cores"), number(speed, "runCpuNanos"),
        number(speed, "processCpuNanos"));
    return summary;
  }

  /** A JSON object whose keys keep the order given: key, value, key, value, ... */
  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static Map<?, ?> map(Object value, String what) {
    if (value instanceof Map<?, ?> map) {
      return map;
    }
    throw new IllegalArgumentException(what + ": not a JSON object");
  }

  private static long number(Map<?, ?> map, String key) {
    if (map.get(key) instanceof Long value) {
      return value;
    }
    throw new IllegalArgumentException(key + ": not an integer");
  }

  private static boolean bool(Map<?, ?> map, String key) {
    if (map.get(key) instanceof Boolean value) {
      return value;
    }
    throw new IllegalArgumentException(key + ": not true or false");
  }

  private static String string(Map<?, ?> map, String key, boolean nullable) {
    Object value = map.get(key);
    if (value instanceof String text) {
      return text;
    }
    if (value == null && nullable) {
      return null;
    }
    throw new IllegalArgumentException(key + ": not a string");
  }
}
