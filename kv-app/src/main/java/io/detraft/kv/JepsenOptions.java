package io.detraft.kv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The flags of {@code detraft test}, checked. Every bad value is a {@link Flags.UsageException}
 * with a message naming the flag; the command turns it into exit status 64 (EX_USAGE).
 *
 * @param nodes server processes (3 to 7)
 * @param timeLimitSeconds how long the clients run; the faults stop a recovery window earlier
 * @param concurrency client threads
 * @param rate operations per second over all clients (a target, not a promise)
 * @param workloads {@code register}, {@code list-append} or both
 * @param nemeses the fault families the schedule draws from (empty: no faults)
 * @param seed draws the fault schedule and the operations
 * @param dir the run directory (created; must not exist, or be empty)
 * @param groups Raft groups per node
 * @param plantBug a bug planted in every server, for tests of this command (null: none)
 * @param net {@code namespaces}, {@code relays} or {@code auto} (namespaces where allowed)
 */
record JepsenOptions(int nodes, int timeLimitSeconds, int concurrency, double rate,
    Set<String> workloads, List<String> nemeses, long seed, Path dir, int groups,
    String plantBug, String net) {

  static final List<String> WORKLOADS = List.of("register", "list-append");
  /** Every fault family, in the order the usage lists them. */
  static final List<String> NEMESES = List.of("kill", "pause", "partition", "member",
      "transfer", "snapshot", "netem");
  /** What runs when --nemesis is not given: every family but netem (no kernel module here). */
  static final List<String> DEFAULT_NEMESES = List.of("kill", "pause", "partition", "member",
      "transfer", "snapshot");
  static final List<String> NETS = List.of("auto", "namespaces", "relays");
  static final Set<String> PLANTABLE = Set.of("stale-reads");

  static final String USAGE_TEXT = String.join("\n",
      "usage: detraft test [flags]   real server processes under faults, judged like Jepsen",
      "  --nodes N            server processes, 3 to 7 (default 3)",
      "  --time-limit S       seconds of client load (default 60; 10 to 86400; '60s' works)",
      "  --concurrency C      client threads (default 2 per node)",
      "  --rate R             target operations per second over all clients (default 100)",
      "  --workload W         register | list-append | both (default both)",
      "  --nemesis F,...      fault families (default " + String.join(",", DEFAULT_NEMESES) + "):",
      "                       kill       kill -9 a random node, a group's leader or a majority,",
      "                                  then restart them from their data directories",
      "                       pause      SIGSTOP a group's leader (or a node), SIGCONT later",
      "                       partition  majority/minority, leader isolated, bridge, one-way",
      "                                  (network namespaces, or TCP relays: see --net)",
      "                       member     remove a node (DELETE /v1/members), wipe its data,",
      "                                  add it back under a new id (POST /v1/members, --join)",
      "                       transfer   move a group's leadership to another node",
      "                       snapshot   ask a node to snapshot every group mid-load",
      "                       netem      delay and loss with tc netem (skipped without it)",
      "                       none       no faults; all: every family",
      "  --seed N             draws the schedule and the operations (default: random, printed)",
      "  --dir D              run directory, new or empty (default detraft-test/<time>)",
      "  --groups G           Raft groups per node (default 2)",
      "  --net M              namespaces: a network namespace per node (root, `ip netns`);",
      "                       relays: Raft links through TCP relays on loopback, one per",
      "                       ordered pair of nodes; auto (default): namespaces if allowed",
      "  --plant-bug NAME     test-only: plant a bug in every server (stale-reads: reads",
      "                       served without ReadIndex), to show that a run catches it",
      "exit status: 0 valid, 1 invalid, 2 unknown, 64 bad flags, 70 the run itself failed");

  /** Parses {@code args} (the words after {@code test}). */
  static JepsenOptions parse(String[] args) {
    Flags f = new Flags(args, 0, Set.of("nodes", "time-limit", "concurrency", "rate",
        "workload", "nemesis", "seed", "dir", "groups", "plant-bug", "net"), Set.of());
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("unexpected argument " + f.positional().get(0));
    }
    if (f.has("nodes")) {
      long asked = parseLong(f.get("nodes"), "--nodes");
      if (asked < 3) {
        throw new Flags.UsageException("--nodes must be at least 3 (a majority must survive"
            + " one fault): " + asked);
      }
    }
    int nodes = (int) f.number("nodes", 3, 3, 7);
    String limit = f.get("time-limit", "60");
    if (limit.endsWith("s")) {
      limit = limit.substring(0, limit.length() - 1);
    }
    long timeLimit = parseLong(limit, "--time-limit");
    if (timeLimit < 10 || timeLimit > 86_400) {
      throw new Flags.UsageException("--time-limit must be 10 to 86400 seconds: " + timeLimit);
    }
    int concurrency = (int) f.number("concurrency", 2L * nodes, 1, 256);
    double rate = f.decimal("rate", 100, 1, 100_000);
    Set<String> workloads = workloads(f.get("workload", "both"));
    List<String> nemeses = nemeses(f.get("nemesis", String.join(",", DEFAULT_NEMESES)));
    long seed = f.has("seed") ? parseLong(f.get("seed"), "--seed")
        : new java.security.SecureRandom().nextLong() & Long.MAX_VALUE;
    int groups = (int) f.number("groups", 2, 1, 64);
    String plant = f.get("plant-bug");
    if (plant != null && !PLANTABLE.contains(plant)) {
      throw new Flags.UsageException("--plant-bug: unknown bug " + plant + " (known: "
          + String.join(", ", PLANTABLE) + ")");
    }
    String net = f.get("net", "auto");
    if (!NETS.contains(net)) {
      throw new Flags.UsageException("--net: unknown mode " + net + " (known: "
          + String.join(", ", NETS) + ")");
    }
    Path dir = f.has("dir") ? Path.of(f.get("dir")) : Path.of("detraft-test", LocalDateTime.now()
        .format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss", Locale.ROOT)));
    checkDirectory(dir);
    return new JepsenOptions(nodes, (int) timeLimit, concurrency, rate, workloads, nemeses,
        seed, dir, groups, plant, net);
  }

  boolean register() {
    return workloads.contains("register");
  }

  boolean listAppend() {
    return workloads.contains("list-append");
  }

  private static Set<String> workloads(String spec) {
    return switch (spec) {
      case "both" -> new LinkedHashSet<>(WORKLOADS);
      case "register", "list-append" -> Set.of(spec);
      default -> throw new Flags.UsageException("--workload: unknown workload " + spec
          + " (known: register, list-append, both)");
    };
  }

  private static List<String> nemeses(String spec) {
    Set<String> chosen = new LinkedHashSet<>();
    for (String name : spec.split(",")) {
      String n = name.trim();
      if (n.isEmpty()) {
        continue;
      }
      switch (n) {
        case "none" -> { }
        case "all" -> chosen.addAll(NEMESES);
        default -> {
          if (!NEMESES.contains(n)) {
            throw new Flags.UsageException("--nemesis: unknown fault " + n + " (known: "
                + String.join(", ", NEMESES) + ", none, all)");
          }
          chosen.add(n);
        }
      }
    }
    return List.copyOf(new ArrayList<>(chosen));
  }

  /** A run directory must be new or empty, so a run never mixes its files with another's. */
  private static void checkDirectory(Path dir) {
    if (Files.isRegularFile(dir)) {
      throw new Flags.UsageException("--dir " + dir + " is a file");
    }
    if (Files.isDirectory(dir)) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new Flags.UsageException("--dir " + dir + " exists and is not empty (a run"
              + " directory must be new or empty)");
        }
      } catch (IOException e) {
        throw new Flags.UsageException("--dir " + dir + ": " + e.getMessage());
      }
    }
  }

  private static long parseLong(String value, String flag) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new Flags.UsageException(flag + " is not a number: " + value);
    }
  }
}
