package io.detraft.kv;

import io.detraft.checker.Keyword;
import io.detraft.checker.Kv;
import io.detraft.checker.Txn;
import io.detraft.checker.Verdict;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code detraft test}: starts real {@code detraft server} processes (one JVM and data
 * directory each; each in its own network namespace when this process may create them),
 * drives the clients of {@link JepsenWorkload} against them while {@link JepsenNemesis}
 * injects faults from the seed's schedule, heals, lets the cluster recover under load, then
 * judges: the checker on the history, and the read-back through every node ({@link
 * JepsenCheck}). Everything lands in the run directory, as in Jepsen's store.
 *
 * <p>Where namespaces are not allowed (or with {@code --net relays}), the nodes' Raft links go
 * through {@link JepsenRelays} in this JVM instead, which partitions cut.
 *
 * <p>A run leaves nothing behind: the servers, the namespaces and the bridge (or the relays)
 * are removed at the end, by a shutdown hook if the run is interrupted, and, if it was killed with SIGKILL,
 * the servers halt by themselves ({@link JepsenNodeMain}) and the next run sweeps the
 * namespaces ({@link JepsenNet#sweepStale}).
 */
final class JepsenRun {
  static final int VALID = 0;
  static final int INVALID = 1;
  static final int UNKNOWN = 2;
  /** EX_USAGE: bad flags. */
  static final int USAGE = 64;
  /** EX_SOFTWARE: the run could not be made (the cluster never came up), so no verdict. */
  static final int NO_RUN = 70;

  private final JepsenOptions options;
  private final PrintStream out;
  private JepsenNet net;
  private JepsenRelays relays;
  private JepsenNodes nodes;

  private JepsenRun(JepsenOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Runs the command on the words after {@code test}; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
      out.println(JepsenOptions.USAGE_TEXT);
      return VALID;
    }
    JepsenOptions options;
    try {
      options = JepsenOptions.parse(args);
    } catch (Flags.UsageException e) {
      err.println("detraft test: " + e.getMessage());
      err.println(JepsenOptions.USAGE_TEXT);
      return USAGE;
    }
    JepsenRun run = new JepsenRun(options, out);
    Thread hook = new Thread(run::cleanUp, "detraft-test-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return run.execute();
    } catch (IOException | RuntimeException e) {
      err.println("detraft test: the run failed: " + e);
      return NO_RUN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("detraft test: interrupted");
      return NO_RUN;
    } finally {
      run.cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook runs cleanUp, which is idempotent.
      }
    }
  }

  private synchronized void cleanUp() {
    if (nodes != null) {
      nodes.close();
    }
    if (net != null) {
      net.close();
    }
    if (relays != null) {
      relays.close();
    }
  }

  private int execute() throws IOException, InterruptedException {
    Path dir = options.dir();
    Files.createDirectories(dir);
    out.println("detraft test: " + options.nodes() + " nodes, " + options.timeLimitSeconds()
        + " s, workload " + String.join("+", options.workloads()) + ", nemesis "
        + (options.nemeses().isEmpty() ? "none" : String.join(",", options.nemeses()))
        + ", seed " + options.seed() + ", dir " + dir
        + (options.plantBug() != null ? ", PLANTED BUG " + options.plantBug() : ""));
    List<String> swept = JepsenNet.sweepStale();
    if (!swept.isEmpty()) {
      out.println("removed what killed runs left behind: " + String.join(" ", swept));
    }
    String netReason = options.net().equals("relays") ? "--net relays"
        : JepsenNet.unavailableReason();
    if (netReason != null && options.net().equals("namespaces")) {
      out.println("detraft test: --net namespaces, but namespaces cannot be used here: "
          + netReason);
      return NO_RUN;
    }
    synchronized (this) {
      if (netReason == null) {
        net = JepsenNet.create(options.nodes());
      } else {
        relays = JepsenRelays.create(options.nodes(), dir);
      }
    }
    out.println(net != null ? "network: namespaces, one per node (" + net.prefix() + "*),"
        + " veth pairs to a bridge; partitions are blackhole routes"
        : "network: tcp relays (" + netReason + "), one per ordered pair of nodes on "
        + relays.network() + "; partitions cut them (Raft traffic; HTTP goes direct)");
    synchronized (this) {
      nodes = new JepsenNodes(dir, options.nodes(), options.groups(), net, relays,
          options.plantBug());
    }
    long startedAt = System.nanoTime();
    nodes.startAll();
    while (!nodes.ready()) {
      if (System.nanoTime() - startedAt > 120_000_000_000L) {
        out.println("detraft test: the cluster had no leader in every group after 120 s;"
            + " see " + dir + "/n*/node.log");
        return NO_RUN;
      }
      Thread.sleep(200);
    }
    out.printf(Locale.ROOT, "cluster up in %.1f s%n", (System.nanoTime() - startedAt) / 1e9);

    JepsenHistory history = new JepsenHistory();
    JepsenWorkload workload = new JepsenWorkload(options, nodes, history,
        new Partitioner(options.groups()));
    JepsenNemesis nemesis = new JepsenNemesis(options, nodes, net != null ? net : relays, net,
        history, out);
    long limitNanos = options.timeLimitSeconds() * 1_000_000_000L;
    // The faults stop a recovery window before the end; the clients run on through it.
    long recoveryNanos = Math.max(5_000_000_000L, limitNanos / 6);
    workload.start();
    nemesis.start(limitNanos - recoveryNanos);
    long nextProgress = 5_000_000_000L;
    long finalHeal = -1;
    while (history.now() < limitNanos) {
      Thread.sleep(100);
      if (finalHeal < 0 && history.now() >= limitNanos - recoveryNanos) {
        finalHeal = nemesis.stopAndHeal();
        out.printf(Locale.ROOT, "[%4.0fs] healed everything; the clients go on for %d s%n",
            finalHeal / 1e9, recoveryNanos / 1_000_000_000L);
      }
      if (history.now() >= nextProgress) {
        long[] c = history.counts();
        out.printf(Locale.ROOT, "[%4.0fs] ops %d (ok %d, fail %d, info %d)  fault: %s%n",
            history.now() / 1e9, c[0] + c[1] + c[2], c[0], c[1], c[2], nemesis.current());
        nextProgress += 5_000_000_000L;
      }
    }
    if (finalHeal < 0) {
      finalHeal = nemesis.stopAndHeal();
    }
    long loadEnd = history.now();
    workload.stop();
    out.println("clients stopped; checking");

    long readyFrom = System.nanoTime();
    while (!nodes.ready() && System.nanoTime() - readyFrom < 60_000_000_000L) {
      Thread.sleep(100);
    }
    List<JepsenCheck.Part> parts = new ArrayList<>();
    if (options.register()) {
      parts.add(JepsenCheck.registers(history));
    }
    if (options.listAppend()) {
      parts.add(JepsenCheck.listAppend(history));
    }
    parts.add(JepsenCheck.readBack(history, workload, nodes, options.register(),
        options.listAppend()));
    Verdict verdict = JepsenCheck.overall(parts);
    Map<String, Object> recovery = JepsenCheck.recovery(nemesis.periods(), finalHeal, loadEnd,
        history.samples(), workload.groupsInUse());

    history.writeEdn(dir.resolve("history.edn"));
    // One file per workload too: `detraft check` takes one model per history.
    if (options.register()) {
      history.writeEdn(dir.resolve("history-register.edn"), Set.of(Kv.GET, Kv.PUT, Kv.CAS));
    }
    if (options.listAppend()) {
      history.writeEdn(dir.resolve("history-list-append.edn"), Set.of(Txn.F));
    }
    Files.writeString(dir.resolve("nemesis.txt"), "# start_s end_s family what\n"
        + nemesis.timeline());
    Map<Object, Object> results = results(verdict, parts, history, nemesis, recovery);
    Files.writeString(dir.resolve("results.edn"), JepsenHistory.edn(results) + "\n");
    Files.writeString(dir.resolve("results.json"), json(results) + "\n");
    try {
      JepsenPlots.write(dir, history.samples(), nemesis.periods(), loadEnd / 1e9);
    } catch (IOException | RuntimeException | Error e) {
      out.println("no plots: " + e);
    }

    for (JepsenCheck.Part p : parts) {
      out.println(p.name() + ": " + p.verdict().name().toLowerCase(Locale.ROOT));
      if (p.verdict() != Verdict.VALID) {
        out.println("  " + p.explanation().replace("\n", "\n  "));
      }
    }
    long[] c = history.counts();
    out.printf(Locale.ROOT, "ops %d (ok %d, fail %d, info %d); faults %s; recovery after"
        + " healing p50 %s ms, max %s ms (%s of %s heals measured)%n", c[0] + c[1] + c[2],
        c[0], c[1], c[2], nemesis.counts(), recovery.get("p50-ms"), recovery.get("max-ms"),
        recovery.get("measured"), recovery.get("heals"));
    if (relays != null) {
      out.println("relays: " + relays.cutConnections() + " Raft connections reset or refused by"
          + " cuts");
    }
    out.println("run directory: " + dir + " (history.edn and one per workload, results.edn,"
        + " results.json, nemesis.txt, latency.png, throughput.png, n*/node.log)");
    out.println(switch (verdict) {
      case VALID -> "VALID: no anomaly found";
      case INVALID -> "INVALID: see above and " + dir.resolve("results.edn");
      case UNKNOWN -> "UNKNOWN: a check gave up; see " + dir.resolve("results.edn");
    });
    return switch (verdict) {
      case VALID -> VALID;
      case INVALID -> INVALID;
      case UNKNOWN -> UNKNOWN;
    };
  }

  private Map<Object, Object> results(Verdict verdict, List<JepsenCheck.Part> parts,
      JepsenHistory history, JepsenNemesis nemesis, Map<String, Object> recovery) {
    Map<Object, Object> r = new LinkedHashMap<>();
    r.put(Keyword.of("valid?"), verdict == Verdict.UNKNOWN ? Keyword.of("unknown")
        : verdict == Verdict.VALID);
    r.put(Keyword.of("seed"), options.seed());
    r.put(Keyword.of("nodes"), (long) options.nodes());
    r.put(Keyword.of("time-limit-s"), (long) options.timeLimitSeconds());
    r.put(Keyword.of("workloads"), List.copyOf(options.workloads()));
    r.put(Keyword.of("network"), net != null ? "namespaces" : "relays");
    r.put(Keyword.of("planted-bug"), options.plantBug());
    long[] c = history.counts();
    r.put(Keyword.of("ops"), Map.of(Keyword.of("ok"), c[0], Keyword.of("fail"), c[1],
        Keyword.of("info"), c[2]));
    Map<Object, Object> faults = new LinkedHashMap<>();
    nemesis.counts().forEach((k, v) -> faults.put(k, (long) v));
    r.put(Keyword.of("faults"), faults);
    Map<Object, Object> rec = new LinkedHashMap<>();
    recovery.forEach((k, v) -> rec.put(Keyword.of(k), v));
    r.put(Keyword.of("recovery"), rec);
    List<Object> checks = new ArrayList<>();
    for (JepsenCheck.Part p : parts) {
      Map<Object, Object> m = new LinkedHashMap<>();
      m.put(Keyword.of("name"), p.name());
      m.put(Keyword.of("verdict"), Keyword.of(p.verdict().name().toLowerCase(Locale.ROOT)));
      m.put(Keyword.of("explanation"), p.explanation());
      checks.add(m);
    }
    r.put(Keyword.of("checks"), checks);
    return r;
  }

  /** The results as JSON: keywords become their names. */
  static String json(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Keyword k) {
      return Json.quote(k.name());
    }
    if (value instanceof String s) {
      return Json.quote(s);
    }
    if (value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    if (value instanceof List<?> list) {
      List<String> items = new ArrayList<>();
      list.forEach(o -> items.add(json(o)));
      return "[" + String.join(",", items) + "]";
    }
    Map<?, ?> map = (Map<?, ?>) value;
    List<String> items = new ArrayList<>();
    map.forEach((k, v) -> items.add(json(k instanceof Keyword kw ? kw.name() : String.valueOf(k))
        + ":" + json(v)));
    return "{" + String.join(",", items) + "}";
  }
}
