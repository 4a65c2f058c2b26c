package io.detraft.sim;

import static io.detraft.sim.SimCli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.sim.SimCli.Run;
import io.detraft.checker.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sharded sweeps: {@code --shard I/N} cuts the range so that each seed runs in exactly one
 * shard, {@code --json} writes each shard's summary, and {@code merge} prints what the
 * unsharded sweep prints (its speed lines and header aside), passing or failing.
 */
class ShardTest {
  @TempDir Path dir;

  @Test
  void everySeedIsInExactlyOneShard() {
    for (long size = 0; size <= 23; size++) {
      for (int count = 1; count <= 9; count++) {
        long first = -5;
        long last = first + size - 1;
        long expected = first;
        for (int index = 0; index < count; index++) {
          Shard shard = new Shard(index, count);
          // Slices follow each other without a gap or an overlap, sizes within one.
          assertEquals(expected, shard.first(first, last), shard + " of " + size);
          long slice = shard.last(first, last) - shard.first(first, last) + 1;
          assertTrue(slice == size / count || slice == size / count + 1, shard + ": " + slice);
          expected = shard.last(first, last) + 1;
        }
        assertEquals(last + 1, expected, size + " seeds in " + count + " shards");
      }
    }
    // A huge range does not overflow.
    Shard last = new Shard(6, 7);
    assertEquals(Long.MAX_VALUE - 1, last.last(0, Long.MAX_VALUE - 1));
  }

  @Test
  void badShardValuesExit64WithAClearMessage() {
    String[][] bad = {
      {"--seeds", "1..9", "--shard", "4/4"},
      {"--seeds", "1..9", "--shard", "-1/4"},
      {"--seeds", "1..9", "--shard", "0/0"},
      {"--seeds", "1..9", "--shard", "x/2"},
      {"--seeds", "1..9", "--shard", "1"},
      {"--seeds", "1..9", "--shard", "1/"},
      {"--seeds", "1..9", "--shard", "/2"},
      {"--seeds", "1..9", "--shard"},
      {"--seeds", "1..9", "--shard", "0/2", "--shard", "1/2"},
      {"--seed", "3", "--shard", "0/2"},
    };
    for (String[] args : bad) {
      Run run = run(args);
      assertEquals(Main.BAD_SHARD, run.status(), String.join(" ", args));
      assertTrue(run.err().startsWith("detraft-sim: --shard "), run.err());
      assertTrue(run.err().contains("usage: detraft-sim"), run.err());
      assertEquals("", run.out());
    }
    assertTrue(run("--seeds", "1..9", "--shard", "4/4").err()
        .contains("I must be in 0..3 (shards count from 0)"));
    // --json is for sweeps; a missing directory is found before any seed runs.
    assertEquals(2, run("--seed", "3", "--json", dir.resolve("a.json").toString()).status());
    Run missing = run("--seeds", "1..2", "--json", dir.resolve("no/a.json").toString());
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("--json: no such directory"), missing.err());
  }

  /** The lines that must agree: all but the header and the speed figures. */
  private static List<String> summary(String out) {
    return out.lines().filter(line -> !line.startsWith("detraft-sim: seeds "))
        .filter(line -> !SweepSummary.isSpeedLine(line)).toList();
  }

  private List<String> shardFiles(SimHooks hooks, String range, int shards, String... extra) {
    List<String> files = new ArrayList<>();
    for (int index = 0; index < shards; index++) {
      String file = dir.resolve("shard-" + index + ".json").toString();
      List<String> args = new ArrayList<>(List.of("--seeds", range, "--shard", index + "/"
          + shards, "--json", file, "--parallel", "1", "--quiet"));
      args.addAll(List.of(extra));
      Run shard = run(hooks, args.toArray(String[]::new));
      assertTrue(shard.status() == 0 || shard.status() == 1, shard.err());
      files.add(file);
    }
    return files;
  }

  @Test
  void fourShardsMergedPrintTheUnshardedSummary() {
    String[] options = {"--safety-seconds", "2", "--voters", "3"};
    Run whole = run(concat(new String[] {"--seeds", "11..20", "--parallel", "2"}, options));
    assertEquals(0, whole.status(), whole.out());
    List<String> files = shardFiles(SimHooks.defaults(), "11..20", 4, options);
    // Files in any order, or their directory.
    List<String> reversed = new ArrayList<>(files);
    java.util.Collections.reverse(reversed);
    Run merged = run(concat(new String[] {"merge"}, reversed.toArray(String[]::new)));
    assertEquals(0, merged.status(), merged.err());
    assertEquals(summary(whole.out()), summary(merged.out()));
    assertTrue(merged.out().startsWith("detraft-sim: seeds 11..20 (10), merged from 4"
        + " shard(s)\n"), merged.out());
    assertTrue(merged.out().contains("seeds: 10 passed, 0 failed, 0 unknown (of 10)"));
    // The swarm counts add up over the shards too: --voters 3 pins every seed's voters.
    assertTrue(merged.out().contains("swarm (how many seeds drew each):"), merged.out());
    assertTrue(java.util.regex.Pattern.compile("cluster: 3 voters +10 +100\\.0 %")
        .matcher(merged.out()).find(), merged.out());
    assertEquals(merged.out(), run("merge", dir.toString()).out());
  }

  /**
   * With a planted bug (a disk whose fsync lies, caught in some seeds only: 2, 4, 5 and 8 of
   * 1..8) the merged summary lists the same failing seeds, in seed order with their replay
   * commands, and exits 1 as the sweep does; the JSON holds each failing seed's options,
   * replay command and fingerprint.
   */
  @Test
  void aFailingSweepMergesToTheSameFailures() throws IOException {
    SimHooks planted = PlantedFaults.lyingDisk();
    String[] options = {"--safety-seconds", "2", "--voters", "3"};
    Run whole = run(planted, concat(new String[] {"--seeds", "1..8", "--parallel", "2"},
        options));
    assertEquals(1, whole.status(), whole.out());
    List<String> files = shardFiles(planted, "1..8", 4, options);
    Run merged = run("merge", dir.toString());
    assertEquals(1, merged.status(), merged.err());
    assertEquals(summary(whole.out()), summary(merged.out()));
    List<String> failing = merged.out().lines().filter(l -> l.startsWith("seed=")).toList();
    assertEquals(4, failing.size(), merged.out());
    assertTrue(failing.get(0).startsWith("seed=2 FAIL "), failing.get(0));
    assertTrue(failing.get(3).startsWith("seed=8 FAIL "), failing.get(3));
    assertTrue(failing.get(3).endsWith("[replay: java -jar sim/target/detraft-sim.jar --seed 8"
        + " --safety-seconds 2.0 --voters 3]"), failing.get(3));
    assertTrue(merged.out().contains("seeds: 4 passed, 4 failed, 0 unknown (of 8)"));

    Map<?, ?> shard0 = (Map<?, ?>) Json.parseAll(Files.readString(Path.of(files.get(0))))
        .get(0);
    List<?> notPassed = (List<?>) shard0.get("notPassed");
    assertEquals(1, notPassed.size(), "seed 2 of seeds 1 and 2 (shard 0 of 4)");
    Map<?, ?> seed2 = (Map<?, ?>) notPassed.get(0);
    assertEquals(2L, seed2.get("seed"));
    assertEquals("FAIL", seed2.get("verdict"));
    assertEquals("java -jar sim/target/detraft-sim.jar --seed 2 --safety-seconds 2.0"
        + " --voters 3", seed2.get("replay"));
    assertEquals(Main.optionsFor(2, 2, 3, false).describe(), seed2.get("options"));
    assertTrue(failing.get(0).contains("fingerprint=" + seed2.get("fingerprint") + " "));
    Map<?, ?> counts = (Map<?, ?>) shard0.get("counts");
    assertEquals(1L, counts.get("failed"));
    Map<?, ?> speed = (Map<?, ?>) shard0.get("speed");
    assertNotNull(speed.get("seedsPerCoreHour"));
    Map<?, ?> marks = (Map<?, ?>) ((Map<?, ?>) shard0.get("marks")).get("core");
    assertEquals(io.detraft.core.Mark.values().length, marks.size());
  }

  @Test
  void filesThatAreNotOneWholeSweepExit64() throws IOException {
    List<String> files = shardFiles(SimHooks.defaults(), "1..3", 3, "--safety-seconds", "1");
    Run missing = run("merge", files.get(0), files.get(2));
    assertEquals(Main.BAD_SHARD, missing.status());
    assertTrue(missing.err().contains("missing shard(s) 1/3 of seeds 1..3"), missing.err());
    Run twice = run("merge", files.get(0), files.get(1), files.get(2), files.get(1));
    assertEquals(Main.BAD_SHARD, twice.status());
    assertTrue(twice.err().contains("shard 1/3 twice"), twice.err());
    Path other = dir.resolve("other");
    Files.createDirectory(other);
    Run otherSweep = run("--seeds", "1..3", "--shard", "1/3", "--safety-seconds", "2",
        "--parallel", "1", "--quiet", "--json", other.resolve("s1.json").toString());
    assertEquals(0, otherSweep.status());
    Run mixed = run("merge", files.get(0), other.resolve("s1.json").toString(), files.get(2));
    assertEquals(Main.BAD_SHARD, mixed.status());
    assertTrue(mixed.err().contains("is from another sweep"), mixed.err());
    Path garbage = dir.resolve("garbage.txt");
    Files.writeString(garbage, "{\"format\": \"something else\"}");
    Run notOurs = run("merge", garbage.toString());
    assertEquals(Main.BAD_SHARD, notOurs.status());
    assertTrue(notOurs.err().contains("not a sweep summary"), notOurs.err());
    Files.writeString(garbage, "{");
    assertEquals(Main.BAD_SHARD, run("merge", garbage.toString()).status());
    assertEquals(Main.BAD_SHARD, run("merge").status());
    assertEquals(Main.BAD_SHARD, run("merge", dir.resolve("nothing.json").toString())
        .status());
    assertEquals(0, run("merge", "--help").status());
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
