package io.detraft.sim;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code detraft sim merge FILES...}: the JSON summaries of a sharded sweep's shards ({@code
 * --json}), added up and printed as the sweep over the whole range would print them, with
 * the same exit status. A directory stands for the {@code *.json} files in it.
 */
final class SweepMerge {
  static final String USAGE = String.join("\n",
      "usage: detraft-sim merge FILE|DIR...",
      "  adds up the --json summaries of every shard of one sweep (a directory: its *.json",
      "  files) and prints the summary the unsharded sweep prints: each seed that did not",
      "  pass, with its replay command, verdict counts, speed (the shards' CPU time added up,",
      "  the longest shard's wall time) and every coverage mark's hit count",
      "exit status: 0 every seed passed, 1 a seed failed (or, with --require-marks, a mark",
      "             never fired), 64 files that are not every shard of one sweep exactly once");

  private SweepMerge() {}

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      out.println(USAGE);
      return 0;
    }
    List<SweepSummary> shards = new ArrayList<>();
    try {
      List<Path> files = files(args);
      for (Path file : files) {
        String text;
        try {
          text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new IllegalArgumentException("cannot read " + file + ": " + e);
        }
        try {
          shards.add(SweepJson.read(text));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
      }
      check(shards, files);
    } catch (IllegalArgumentException e) {
      err.println("detraft-sim merge: " + e.getMessage());
      err.println(USAGE);
      return Main.BAD_SHARD;
    }
    SweepSummary merged = SweepSummary.merge(shards);
    SweepSummary.Sweep sweep = merged.sweep;
    out.println("detraft-sim: seeds " + sweep.first() + ".." + sweep.last() + " ("
        + merged.seeds + "), merged from " + shards.size() + " shard(s)");
    for (SweepSummary.Seed seed : merged.notPassed) {
      out.println(SweepSummary.line(seed));
    }
    merged.print(out);
    return merged.failing() ? 1 : 0;
  }

  private static List<Path> files(String[] args) {
    if (args.length == 0) {
      throw new IllegalArgumentException("give the shards' JSON files (or their directory)");
    }
    List<Path> files = new ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("-")) {
        throw new IllegalArgumentException("unknown argument '" + arg + "'");
      }
      Path path = Path.of(arg);
      if (Files.isDirectory(path)) {
        try (Stream<Path> listing = Files.list(path)) {
          List<Path> json = listing.filter(p -> p.getFileName().toString().endsWith(".json"))
              .sorted().toList();
          if (json.isEmpty()) {
            throw new IllegalArgumentException("no *.json file in " + path);
          }
          files.addAll(json);
        } catch (IOException e) {
          throw new IllegalArgumentException("cannot list " + path + ": " + e);
        }
      } else if (Files.isRegularFile(path)) {
        files.add(path);
      } else {
        throw new IllegalArgumentException("no such file: " + path);
      }
    }
    return files;
  }

  /** The files must be every shard of one sweep, each once. */
  private static void check(List<SweepSummary> shards, List<Path> files) {
    SweepSummary.Sweep sweep = shards.get(0).sweep;
    Path[] seen = new Path[sweep.shardCount()];
    for (int i = 0; i < shards.size(); i++) {
      SweepSummary shard = shards.get(i);
      if (!shard.sweep.equals(sweep)) {
        throw new IllegalArgumentException(files.get(i) + " is from another sweep than "
            + files.get(0) + ": " + shard.sweep + " against " + sweep);
      }
      if (shard.shardIndex < 0 || shard.shardIndex >= seen.length) {
        throw new IllegalArgumentException(files.get(i) + ": shard " + shard.shardIndex
            + " of " + seen.length + " does not exist");
      }
      if (seen[shard.shardIndex] != null) {
        throw new IllegalArgumentException("shard " + shard.shardIndex + "/" + seen.length
            + " twice: " + seen[shard.shardIndex] + " and " + files.get(i));
      }
      seen[shard.shardIndex] = files.get(i);
    }
    List<String> missing = new ArrayList<>();
    for (int index = 0; index < seen.length; index++) {
      if (seen[index] == null) {
        missing.add(index + "/" + seen.length);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("missing shard(s) " + String.join(", ", missing)
          + " of seeds " + sweep.first() + ".." + sweep.last());
    }
  }
}
