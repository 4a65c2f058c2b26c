package io.detraft.sim;

import io.detraft.sim.report.SimReports;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The simulator's command line: runs one seed or a range of seeds and reports.
 *
 * <pre>
 * java -jar sim/target/detraft-sim.jar --seed 42            # one seed, full report
 * java -jar sim/target/detraft-sim.jar --seeds 1..1000      # a sweep
 * </pre>
 *
 * <p>Each seed runs single-threaded and alone; threads only run several seeds side by side.
 * Output is printed in seed order whatever the thread count, and a seed prints the same
 * lines every time (the summary's timings aside).
 */
public final class Main {
  static final String USAGE = String.join("\n",
      "usage: detraft-sim (--seed N | --seeds A..B) [--parallel K] [--safety-seconds S]",
      "                   [--voters V] [--all-nemeses] [--recheck R] [--trace E]",
      "                   [--require-marks] [--quiet | --verbose] [--report DIR]",
      "                   [--history FILE] [--shard I/N] [--json FILE] [--state-machine M]",
      "       detraft-sim merge FILE|DIR...      (the shards' --json files; merge --help)",
      "  --seed N            run one seed and print its options, result and (on failure) trace",
      "  --seeds A..B        run seeds A to B inclusive; print one line per failing seed, then",
      "                      a summary: verdicts, speed, and every coverage mark's hit count",
      "  --parallel K        seeds run side by side (default: number of cores)",
      "  --safety-seconds S  override the seed's safety-phase length (virtual seconds)",
      "  --voters V          every seed starts one group of V voters (1..7; default: the seed's",
      "                      own choice of 1 to 7, mostly 3 or 5, in 1 to 8 groups)",
      "  --all-nemeses       every seed runs every fault and protocol nemesis: those it switched",
      "                      off are switched on, with the seed's own rates where it drew them",
      "                      and rates drawn from the seed otherwise (see SimOptions)",
      "  --recheck R         run every R-th seed twice; a different fingerprint is a failure",
      "  --trace E           a failing seed shows its last E events (default 50)",
      "  --require-marks     a sweep in which some coverage mark never fired exits 1",
      "  --quiet             print only failing seeds and the summary",
      "  --verbose           print every seed's options and result, full reports on failure",
      "  --report DIR        write DIR/seed-N.html, the run drawn over virtual time (nodes,",
      "                      roles, terms, messages, faults, clients, the broken invariant):",
      "                      for --seed, that seed; for a sweep, each failing seed (re-run)",
      "  --history FILE      with --seed: write the clients' histories as Jepsen EDN, the",
      "                      list-append transactions to FILE (detraft check --model",
      "                      list-append FILE) and the key/value operations to FILE with -kv",
      "                      before its extension (detraft check --model kv-linearizable)",
      "  --shard I/N         run only shard I (0 to N-1) of the --seeds range: the range is cut",
      "                      into N contiguous slices, each seed in exactly one (Kubernetes:",
      "                      --shard $JOB_COMPLETION_INDEX/N)",
      "  --state-machine M   what the seeds replicate: sim (the default, the simulator's own",
      "                      KV machine) or kv (kv-app's KvStateMachine and its sessions,",
      "                      fed the RESP front end's commands; only in ./detraft sim)",
      "  --json FILE         with --seeds: also write the summary as JSON to FILE (options,",
      "                      every seed that did not pass with its options, replay command and",
      "                      fingerprint, mark counts, speed); `merge` adds shards' files up",
      "exit status: 0 all seeds passed (unknown verdicts are warnings), 1 a seed failed (or",
      "             with --require-marks a mark never fired), 2 bad usage, 64 a bad --shard");

  /** Exit status for a bad {@code --shard} value, or merge files that are not one sweep. */
  static final int BAD_SHARD = 64;

  private Main() {}

  /**
   * The node's storage logs a torn WAL tail as a warning, as an operator should see it; in a
   * sweep it is routine (marks count it), so only errors are printed. Kept here so that the
   * logger, and its level, is not collected.
   */
  private static final java.util.logging.Logger NODE_LOG =
      java.util.logging.Logger.getLogger("io.detraft.io");

  public static void main(String[] args) {
    NODE_LOG.setLevel(java.util.logging.Level.SEVERE);
    System.exit(run(args, System.out, System.err));
  }

  /** Parsed command line. */
  private record Arguments(long first, long last, boolean single, int parallel,
      double safetySeconds, int voters, boolean allNemeses, int recheck, int traceEvents,
      boolean requireMarks, boolean quiet, boolean verbose, String report, String history,
      Shard shard, String json, String stateMachine, List<String> raw) {}

  /** The state machine every seed replicates unless {@code --state-machine} names another. */
  public static final String OWN_STATE_MACHINE = "sim";

  /** Runs the command line; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, SimHooks.defaults());
  }

  /**
   * Test seam: as above, but every run uses {@code hooks} instead of the correct host, so a
   * test can plant a broken host part (see PlantedFaults) and watch the CLI's failure path.
   * The command line itself always passes {@link SimHooks#defaults()}.
   */
  static int run(String[] args, PrintStream out, PrintStream err, SimHooks hooks) {
    return run(args, out, err, Map.of(OWN_STATE_MACHINE, options -> hooks));
  }

  /**
   * As {@link #run(String[], PrintStream, PrintStream)}, with more state machines that {@code
   * --state-machine NAME} may pick: each gives the hooks a seed's run uses, from its options
   * (kv-app's {@code detraft sim} adds its own key/value state machine as {@code kv}).
   */
  public static int run(String[] args, PrintStream out, PrintStream err,
      Map<String, Function<SimOptions, SimHooks>> stateMachines) {
    if (args.length > 0 && args[0].equals("merge")) {
      return SweepMerge.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
    }
    Arguments arguments;
    try {
      arguments = parse(args);
    } catch (IllegalArgumentException e) {
      err.println("detraft-sim: " + e.getMessage());
      err.println(USAGE);
      return e instanceof Shard.BadShardException ? BAD_SHARD : 2;
    }
    if (arguments == null) {
      out.println(USAGE);
      return 0;
    }
    Function<SimOptions, SimHooks> hooks = stateMachines.get(arguments.stateMachine());
    if (hooks == null) {
      err.println("detraft-sim: --state-machine: no state machine '" + arguments.stateMachine()
          + "' here (known: " + String.join(", ", new java.util.TreeSet<>(stateMachines.keySet()))
          + "; kv-app's is 'kv', in ./detraft sim)");
      err.println(USAGE);
      return 2;
    }
    SimReports reports = SimReports.open(arguments.report(), err);
    return arguments.single() ? runOne(arguments, hooks, out, err, reports)
        : sweep(arguments, hooks, out, err, reports);
  }

  private static Arguments parse(String[] args) {
    Long first = null;
    Long last = null;
    boolean single = false;
    int parallel = Runtime.getRuntime().availableProcessors();
    double safetySeconds = -1;
    int voters = 0;
    boolean allNemeses = false;
    boolean requireMarks = false;
    int recheck = 0;
    int traceEvents = Simulation.TRACE_SHOWN;
    boolean quiet = false;
    boolean verbose = false;
    String report = null;
    String history = null;
    Shard shard = null;
    String json = null;
    String stateMachine = OWN_STATE_MACHINE;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--help", "-h" -> {
          return null;
        }
        case "--seed" -> {
          requireNoSeedsYet(first);
          first = parseLong(value(args, ++i, arg), arg);
          last = first;
          single = true;
        }
        case "--seeds" -> {
          requireNoSeedsYet(first);
          String range = value(args, ++i, arg);
          int dots = range.indexOf("..");
          if (dots <= 0) {
            throw new IllegalArgumentException("--seeds wants A..B, got '" + range + "'");
          }
          first = parseLong(range.substring(0, dots), arg);
          last = parseLong(range.substring(dots + 2), arg);
          if (last < first) {
            throw new IllegalArgumentException("--seeds range is empty: " + range);
          }
        }
        case "--parallel" -> {
          parallel = (int) parseLong(value(args, ++i, arg), arg);
          if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1");
          }
        }
        case "--safety-seconds" -> {
          String text = value(args, ++i, arg);
          try {
            safetySeconds = Double.parseDouble(text);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--safety-seconds wants a number, got '" + text
                + "'");
          }
          if (!(safetySeconds >= 0 && safetySeconds <= 3600)) {
            throw new IllegalArgumentException("--safety-seconds must be in [0, 3600]");
          }
        }
        case "--voters" -> {
          voters = (int) parseLong(value(args, ++i, arg), arg);
          if (voters < 1 || voters > 7) {
            throw new IllegalArgumentException("--voters must be in [1, 7]");
          }
        }
        case "--recheck" -> {
          recheck = (int) parseLong(value(args, ++i, arg), arg);
          if (recheck < 1) {
            throw new IllegalArgumentException("--recheck must be at least 1");
          }
        }
        case "--trace" -> {
          traceEvents = (int) parseLong(value(args, ++i, arg), arg);
          if (traceEvents < 1 || traceEvents > 1_000_000) {
            throw new IllegalArgumentException("--trace must be in [1, 1000000]");
          }
        }
        case "--all-nemeses" -> allNemeses = true;
        case "--require-marks" -> requireMarks = true;
        case "--quiet" -> quiet = true;
        case "--verbose" -> verbose = true;
        case "--report" -> report = value(args, ++i, arg);
        case "--history" -> history = value(args, ++i, arg);
        case "--shard" -> {
          if (shard != null) {
            throw new Shard.BadShardException("--shard given twice");
          }
          if (i + 1 >= args.length) {
            throw new Shard.BadShardException("--shard needs a value I/N");
          }
          shard = Shard.parse(args[++i]);
        }
        case "--json" -> json = value(args, ++i, arg);
        case "--state-machine" -> stateMachine = value(args, ++i, arg);
        default -> throw new IllegalArgumentException("unknown argument '" + arg + "'");
      }
    }
    if (first == null) {
      throw new IllegalArgumentException("give --seed N or --seeds A..B");
    }
    if (quiet && verbose) {
      throw new IllegalArgumentException("--quiet and --verbose exclude each other");
    }
    if (requireMarks && single) {
      // One seed never reaches every mark; the flag judges a sweep's coverage.
      throw new IllegalArgumentException("--require-marks needs a sweep (--seeds A..B)");
    }
    if (history != null && !single) {
      throw new IllegalArgumentException("--history needs one seed (--seed N)");
    }
    if (shard != null && single) {
      throw new Shard.BadShardException("--shard needs a sweep (--seeds A..B)");
    }
    if (json != null && single) {
      throw new IllegalArgumentException("--json needs a sweep (--seeds A..B)");
    }
    requireDirectory("--history", history);
    requireDirectory("--json", json);
    return new Arguments(first, last, single, parallel, safetySeconds, voters, allNemeses,
        recheck, traceEvents, requireMarks, quiet, verbose, report, history,
        shard != null ? shard : Shard.WHOLE, json, stateMachine, List.of(args));
  }

  /** A file to write must have an existing directory, checked before any seed runs. */
  private static void requireDirectory(String flag, String file) {
    if (file != null) {
      java.nio.file.Path parent = java.nio.file.Path.of(file).toAbsolutePath().getParent();
      if (parent == null || !java.nio.file.Files.isDirectory(parent)) {
        throw new IllegalArgumentException(flag + ": no such directory: " + parent);
      }
    }
  }

  private static void requireNoSeedsYet(Long first) {
    if (first != null) {
      throw new IllegalArgumentException("give either --seed or --seeds, once");
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static long parseLong(String text, String flag) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants an integer, got '" + text + "'");
    }
  }

  /** The options a seed runs with, after command-line overrides. */
  static SimOptions optionsFor(long seed, double safetySeconds) {
    return optionsFor(seed, safetySeconds, 0, false);
  }

  /**
   * As above; {@code voters > 0} pins each seed to one group of that many voters, {@code
   * allNemeses} switches every nemesis on.
   */
  static SimOptions optionsFor(long seed, double safetySeconds, int voters,
      boolean allNemeses) {
    SimOptions options = SimOptions.derive(seed);
    if (allNemeses) {
      options = options.withAllNemeses();
    }
    if (voters > 0) {
      options = options.withVoters(voters);
    }
    return safetySeconds >= 0 ? options.withSafetySeconds(safetySeconds) : options;
  }

  private static int runOne(Arguments arguments, Function<SimOptions, SimHooks> hooks,
      PrintStream out, PrintStream err, SimReports reports) {
    SimOptions options = optionsFor(arguments.first(), arguments.safetySeconds(),
        arguments.voters(), arguments.allNemeses());
    out.println("options: " + options.describe());
    if (!arguments.stateMachine().equals(OWN_STATE_MACHINE)) {
      out.println("state machine: " + arguments.stateMachine());
    }
    long wallStart = System.nanoTime();
    Simulation simulation = new Simulation(options, hooks.apply(options),
        arguments.traceEvents());
    SimResult result = reports.run(simulation);
    double wall = (System.nanoTime() - wallStart) / 1e9;
    out.println(result.line());
    if (result.verdict() != SimResult.Verdict.PASS) {
      out.print(result.report());
    }
    out.println(String.format(Locale.ROOT, "wall: %.2fs (%.0f simulated s per wall s)", wall,
        result.simulatedNanos() / 1e9 / Math.max(wall, 1e-9)));
    reports.written(out);
    if (arguments.history() != null) {
      try {
        for (java.nio.file.Path file : HistoryExport.write(simulation,
            java.nio.file.Path.of(arguments.history()))) {
          out.println("history: " + file.toAbsolutePath());
        }
      } catch (java.io.IOException | RuntimeException e) {
        err.println("detraft-sim: cannot write the history: " + e);
        return 2;
      }
    }
    return result.failed() ? 1 : 0;
  }

  /** The command that runs {@code seed} alone with the sweep's overrides, hence the same run. */
  private static String replayCommand(Arguments arguments, long seed) {
    if (arguments.stateMachine().equals(OWN_STATE_MACHINE)) {
      return replayCommand(SIM_JAR, seed, arguments.safetySeconds(), arguments.voters(),
          arguments.allNemeses());
    }
    // Another state machine is kv-app's, which only its launcher has.
    return replayCommand("./detraft sim", seed, arguments.safetySeconds(), arguments.voters(),
        arguments.allNemeses()) + " --state-machine " + arguments.stateMachine();
  }

  /** How the simulator's own jar is run from the repository's root. */
  private static final String SIM_JAR = "java -jar sim/target/detraft-sim.jar";

  private static String replayCommand(String program, long seed, double safetySeconds,
      int voters, boolean allNemeses) {
    StringBuilder command = new StringBuilder(program).append(" --seed ").append(seed);
    if (safetySeconds >= 0) {
      command.append(" --safety-seconds ").append(safetySeconds);
    }
    if (voters > 0) {
      command.append(" --voters ").append(voters);
    }
    if (allNemeses) {
      command.append(" --all-nemeses");
    }
    return command.toString();
  }

  /**
   * The command line that runs exactly {@code options}: the flags are searched for the
   * combination that {@link #optionsFor} turns into these very options. Null when no
   * combination does (options built through the API, as the tests' tuned mixes).
   */
  static String replayCommand(SimOptions options) {
    long seed = options.seed();
    double safety = options.phases().safetyNanos() / 1e9;
    for (boolean allNemeses : new boolean[] {false, true}) {
      for (int voters = 0; voters <= 7; voters++) {
        if (optionsFor(seed, -1, voters, allNemeses).equals(options)) {
          return replayCommand(SIM_JAR, seed, -1, voters, allNemeses);
        }
        if (optionsFor(seed, safety, voters, allNemeses).equals(options)) {
          return replayCommand(SIM_JAR, seed, safety, voters, allNemeses);
        }
      }
    }
    return null;
  }

  /** The first run of a seed, or a failure if its second run took another course. */
  private static SimResult recheck(SimResult first, SimResult second) {
    if (first.fingerprint() == second.fingerprint()) {
      return first;
    }
    return new SimResult(first.options(), SimResult.Verdict.FAIL, "determinism",
        "determinism: two runs of seed " + first.seed() + " ended with fingerprints "
            + first.fingerprintHex() + " and " + second.fingerprintHex(), first.fingerprint(),
        first.simulatedNanos(), first.traceTail(), first.stats(), first.marks());
  }

  /** CPU time of the whole JVM so far, or 0 where the platform does not say. */
  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
  }

  /** One seed's result and the CPU time its thread spent on it. */
  private record Timed(SimResult result, long cpuNanos) {}

  private static int sweep(Arguments arguments, Function<SimOptions, SimHooks> hooks,
      PrintStream out, PrintStream err, SimReports reports) {
    int threads = arguments.parallel();
    Shard shard = arguments.shard();
    long first = shard.first(arguments.first(), arguments.last());
    long last = shard.last(arguments.first(), arguments.last());
    long count = last - first + 1;
    if (!arguments.quiet()) {
      out.println("detraft-sim: seeds " + arguments.first() + ".." + arguments.last()
          + (shard.count() > 1 ? ", shard " + shard + ": seeds " + first + ".." + last : "")
          + " (" + count + "), " + threads + " thread(s)"
          + (arguments.stateMachine().equals(OWN_STATE_MACHINE) ? ""
              : ", state machine " + arguments.stateMachine()));
    }
    SweepSummary summary = new SweepSummary(new SweepSummary.Sweep(arguments.first(),
        arguments.last(), shard.count(), arguments.safetySeconds() >= 0
            ? Math.round(arguments.safetySeconds() * 1e9) : -1, arguments.voters(),
        arguments.allNemeses(), arguments.recheck(), arguments.requireMarks()), shard.index());
    ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "detraft-sim");
      thread.setDaemon(true);
      return thread;
    });
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    boolean cpuTimed = cpu.isCurrentThreadCpuTimeSupported();
    long cpuNanos = 0;
    long wallStart = System.nanoTime();
    long processCpuStart = processCpuNanos();
    // A bounded window of seeds in flight: results print in seed order, memory stays flat.
    ArrayDeque<Future<Timed>> window = new ArrayDeque<>();
    long next = first;
    try {
      while (next <= last || !window.isEmpty()) {
        while (next <= last && window.size() < threads * 4) {
          long seed = next++;
          window.add(pool.submit(() -> {
            long cpuStart = cpuTimed ? cpu.getCurrentThreadCpuTime() : 0;
            SimOptions options = optionsFor(seed, arguments.safetySeconds(),
                arguments.voters(), arguments.allNemeses());
            SimResult result = new Simulation(options, hooks.apply(options),
                arguments.traceEvents()).run();
            if (arguments.recheck() > 0 && Math.floorMod(seed, arguments.recheck()) == 0) {
              result = recheck(result, new Simulation(options, hooks.apply(options)).run());
            }
            long cpuUsed = cpuTimed ? cpu.getCurrentThreadCpuTime() - cpuStart : 0;
            return new Timed(result, cpuUsed);
          }));
        }
        Timed timed = window.poll().get();
        SimResult result = timed.result();
        cpuNanos += timed.cpuNanos();
        summary.add(result, replayCommand(arguments, result.seed()));
        if (arguments.verbose()) {
          out.println("options: " + result.options().describe());
          out.println(result.line());
          if (result.verdict() != SimResult.Verdict.PASS) {
            out.print(result.report());
          }
        } else if (result.verdict() != SimResult.Verdict.PASS) {
          out.println(SweepSummary.line(summary.notPassed.get(summary.notPassed.size() - 1)));
        }
        if (result.failed()) {
          // The same seed again, recorded: deterministic, so the page shows this very run.
          reports.run(new Simulation(result.options(), hooks.apply(result.options()),
              arguments.traceEvents()));
          reports.written(out);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a run threw outside its own failure handling",
          e.getCause());
    } finally {
      pool.shutdownNow();
    }
    summary.speed = new SweepSummary.Speed(summary.speed.simulatedNanos(),
        System.nanoTime() - wallStart, threads,
        Math.min(threads, Runtime.getRuntime().availableProcessors()),
        cpuTimed ? cpuNanos : 0, processCpuNanos() - processCpuStart);
    summary.print(out);
    if (arguments.json() != null) {
      try {
        SweepJson.write(summary, first, last, arguments.raw(),
            java.nio.file.Path.of(arguments.json()));
      } catch (java.io.IOException | RuntimeException e) {
        err.println("detraft-sim: cannot write " + arguments.json() + ": " + e);
        return 2;
      }
    }
    return summary.failing() ? 1 : 0;
  }
}
