package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code detraft bench --against etcd}: a 3-member etcd and a 3-node detraft cluster on this
 * machine, on the same disk, measured by the same load generator ({@link Bench#measure}) over
 * each one's HTTP/JSON API, in alternating order over several rounds so that noise shows as
 * ranges. fsync stays on in both: etcd's defaults, detraft's defaults.
 *
 * <p>A third system, {@code no-op}, is the ceiling: an HTTP server (detraft's own, in this JVM)
 * that answers every etcd-shaped request at once and does nothing else. No system measured
 * here can serve more than it: it is what this machine's loopback sockets, HTTP and the load
 * generator itself allow, with nothing left for consensus, disks or state.
 *
 * <p>Both clusters run for the whole comparison, idle while the other is measured. Each is
 * measured at its leader: detraft's clients send every request to its group's leader, etcd's
 * to the etcd leader (a follower would forward it, one more hop). Every process started here
 * stops with the comparison, and also when this JVM is killed (the servers watch it).
 */
final class BenchCompare {
  private BenchCompare() {}

  /** One cell of the table: a system under one load in one round. */
  private record Cell(String system, String workload, int clients, Bench.Result result) {}

  static int run(Flags f, PrintStream out) {
    if (!"etcd".equals(f.get("against"))) {
      throw new Flags.UsageException("--against: only etcd is known, not '" + f.get("against")
          + "'");
    }
    int rounds = (int) f.number("rounds", 3, 1, 100);
    List<Integer> groupCounts = counts(f, "groups", "8", 4096);
    long seconds = f.number("duration", 5, 1, 3600);
    long warmup = f.number("warmup", 2, 0, 600);
    int keyCount = (int) f.number("keys", 10_000, 1, 10_000_000);
    int valueSize = (int) f.number("value-size", 16, 0, KvCommand.MAX_STORED_VALUE_BYTES);
    List<Integer> clientCounts = counts(f, "clients", "1,64,256", 4096);
    String etcdBinary = f.get("etcd-binary", "etcd");
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("bench takes no arguments");
    }
    if (!runs(etcdBinary)) {
      out.println("bench: cannot run '" + etcdBinary + " --version': install etcd (Debian: "
          + "apt-get install etcd-server) or give --etcd-binary PATH");
      return Main.FAILED;
    }
    Path dir;
    boolean own = !f.has("dir");
    try {
      dir = own ? Files.createTempDirectory("detraft-vs-etcd") : Path.of(f.get("dir"));
      Files.createDirectories(dir);
    } catch (IOException e) {
      out.println("bench: cannot create the run directory: " + e.getMessage());
      return Main.FAILED;
    }
    byte[][] keys = Bench.keys(keyCount, 16);
    byte[] value = "v".repeat(valueSize).getBytes(StandardCharsets.US_ASCII);
    List<Process> processes = new ArrayList<>();
    Thread cleanup = new Thread(() -> stop(processes));
    Runtime.getRuntime().addShutdownHook(cleanup);
    try (HttpServer noOp = startNoOp()) {
      out.printf("bench: detraft (%s groups) and etcd, 3 nodes each on loopback, data in %s;"
          + " and the ceiling, an HTTP server that does nothing (" + NO_OP + ")%n",
          groupCounts.stream().map(String::valueOf).collect(Collectors.joining(", ")), dir);
      // Every cluster runs throughout; each is idle while another is measured.
      Map<String, List<String>> systems = new LinkedHashMap<>();
      for (int groups : groupCounts) {
        String name = groupCounts.size() == 1 ? "detraft" : "detraft/" + groups;
        systems.put(name, startDetraft(dir, name.replace('/', '-'), groups, processes));
        out.println("bench: " + name + " (" + groups + " groups) at " + systems.get(name));
      }
      List<String> etcd = List.of(startEtcd(dir, etcdBinary, processes));
      systems.put("etcd", etcd);
      out.println("bench: etcd leader at " + etcd.get(0) + " (" + etcdVersion(etcdBinary)
          + ")");
      systems.put(NO_OP, List.of(noOp.address().getHostString() + ":"
          + noOp.address().getPort()));
      for (var s : systems.entrySet()) {
        // Every key written once (reads find values), which also warms detraft's JIT up.
        Bench.preload(new Bench.Load(s.getValue(), speaksEtcd(s.getKey()), 64, keys, value,
            0, false, 1, 0), out);
      }
      List<Cell> cells = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        List<String> order = new ArrayList<>(systems.keySet());
        if (round % 2 == 0) {
          java.util.Collections.reverse(order);
        }
        for (String workload : List.of("write", "read")) {
          for (int clients : clientCounts) {
            for (String system : order) {
              Bench.Result r = Bench.measure(new Bench.Load(systems.get(system),
                  speaksEtcd(system), clients, keys, value, workload.equals("read") ? 1 : 0,
                  false, seconds, warmup), null);
              out.printf("round %d  %-10s %-5s %4d clients  %,9.0f ops/s  p50 %6.2f ms  p99 "
                  + "%6.2f ms  p99.9 %6.2f ms  %d errors%s%n", round, system, workload, clients,
                  r.opsPerSecond(), r.p50(), r.p99(), r.p999(), r.errors(),
                  r.firstError() == null ? "" : " (first: " + r.firstError() + ")");
              cells.add(new Cell(system, workload, clients, r));
            }
          }
        }
      }
      out.print(table(cells, rounds, clientCounts, List.copyOf(systems.keySet())));
      return Main.OK;
    } catch (IOException e) {
      out.println("bench: " + e.getMessage() + " (logs in " + dir + ")");
      return Main.FAILED;
    } finally {
      stop(processes);
      Runtime.getRuntime().removeShutdownHook(cleanup);
      if (own) {
        delete(dir);
      }
    }
  }

  /**
   * The comparison as a Markdown table: each figure as the range over the rounds, and each
   * system's throughput over etcd's per round (paired, so a noisy round moves both).
   */
  static String table(List<Cell> cells, int rounds, List<Integer> clientCounts,
      List<String> systems) {
    StringBuilder t = new StringBuilder();
    t.append(String.format("%n%d rounds; ranges are min-max over the rounds; latency in ms%s%n%n",
        rounds, systems.contains(NO_OP) ? "; " + NO_OP + ": an HTTP server that answers at once"
            + " and does nothing (the ceiling of this machine and load generator)" : ""));
    t.append("| load | clients | system | ops/s | vs etcd | p50 | p99 | p99.9 |\n"
        + "|---|---|---|---|---|---|---|---|\n");
    for (String workload : List.of("write", "read")) {
      for (int clients : clientCounts) {
        List<Bench.Result> etcd = results(cells, "etcd", workload, clients);
        for (String system : systems) {
          List<Bench.Result> r = results(cells, system, workload, clients);
          List<Double> ratios = new ArrayList<>();
          for (int i = 0; i < Math.min(r.size(), etcd.size()); i++) {
            ratios.add(r.get(i).opsPerSecond() / etcd.get(i).opsPerSecond());
          }
          t.append(String.format("| %s | %d | %s | %s | %s | %s | %s | %s |%n",
              workload.equals("write") ? "writes" : "linearizable reads", clients, system,
              range(r, Bench.Result::opsPerSecond, "%,.0f"),
              system.equals("etcd") ? "" : range(ratios, x -> x, "%.1f") + "x",
              range(r, Bench.Result::p50, "%.2f"), range(r, Bench.Result::p99, "%.1f"),
              range(r, Bench.Result::p999, "%.1f")));
        }
      }
    }
    return t.toString();
  }

  /** {@code --NAME a,b,c}: counts from 1 to {@code max}. */
  private static List<Integer> counts(Flags f, String name, String fallback, int max) {
    List<Integer> counts = new ArrayList<>();
    for (String c : f.get(name, fallback).split(",")) {
      try {
        int n = Integer.parseInt(c.trim());
        if (n < 1 || n > max) {
          throw new NumberFormatException();
        }
        counts.add(n);
      } catch (NumberFormatException e) {
        throw new Flags.UsageException("--" + name + ": a list of counts 1.." + max + ", not '"
            + c + "'");
      }
    }
    return List.copyOf(new java.util.LinkedHashSet<>(counts));
  }

  private static List<Bench.Result> results(List<Cell> cells, String system, String workload,
      int clients) {
    return cells.stream().filter(c -> c.system().equals(system) && c.workload().equals(workload)
        && c.clients() == clients).map(Cell::result).toList();
  }

  private static <T> String range(List<T> items, java.util.function.ToDoubleFunction<T> f,
      String format) {
    double lo = items.stream().mapToDouble(f).min().orElse(Double.NaN);
    double hi = items.stream().mapToDouble(f).max().orElse(Double.NaN);
    String a = String.format(format, lo);
    String b = String.format(format, hi);
    return a.equals(b) ? a : a + "-" + b;
  }

  // ------------------------------------------------------------------ the clusters

  /** The ceiling's name in the table. */
  static final String NO_OP = "no-op";

  /** etcd and the no-op server are sent etcd's JSON gateway requests. */
  private static boolean speaksEtcd(String system) {
    return !system.startsWith("detraft");
  }

  /** An HTTP server that answers every request with an etcd-shaped 200 at once. */
  private static HttpServer startNoOp() throws IOException {
    HttpServer server = new HttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(),
        0), 1024, 1 << 20, 60_000, "detraft-bench-no-op");
    byte[] answer = "{\"header\":{}}".getBytes(StandardCharsets.US_ASCII);
    server.route("/", exchange -> exchange.respond(200, "application/json", answer, 0));
    server.start();
    return server;
  }

  /**
   * Three {@code detraft server} JVMs (the launcher's JVM flags), data in {@code
   * dir/PREFIX-i}; their HTTP endpoints.
   */
  private static List<String> startDetraft(Path dir, String prefix, int groups,
      List<Process> processes) throws IOException {
    String[] raft = new String[3];
    String[] http = new String[3];
    StringJoiner peers = new StringJoiner(",");
    for (int i = 0; i < 3; i++) {
      raft[i] = "127.0.0.1:" + Ports.free();
      http[i] = "127.0.0.1:" + Ports.free();
      peers.add((i + 1) + "=" + raft[i]);
    }
    Map<Path, Process> started = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      List<String> cmd = new ArrayList<>(JepsenNodeMain.command(List.of())); // JVM defaults
      cmd.addAll(List.of("server", "--id", String.valueOf(i + 1), "--data-dir",
          dir.resolve(prefix + "-" + (i + 1)).toString(), "--raft", raft[i], "--http", http[i],
          "--peers", peers.toString(), "--groups", String.valueOf(groups)));
      start(cmd, dir.resolve(prefix + "-" + (i + 1) + ".log"), started, processes);
    }
    return await("detraft did not elect every group's leader", started, pool -> {
      Map<String, Object> status = Json.parseObject(pool.send(Peers.address(http[0]), "GET",
          "/v1/status", Map.of(), null).text());
      return ((List<?>) status.get("groups")).stream().allMatch(
          g -> ((Number) ((Map<?, ?>) g).get("leader")).longValue() != 0)
          ? Arrays.asList(http) : null;
    });
  }

  /** A 3-member etcd with its defaults (fsync on); the leader's client endpoint. */
  private static String startEtcd(Path dir, String binary, List<Process> processes)
      throws IOException {
    String[] client = new String[3];
    String[] peer = new String[3];
    StringJoiner cluster = new StringJoiner(",");
    Map<Path, Process> started = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      client[i] = "http://127.0.0.1:" + Ports.free();
      peer[i] = "http://127.0.0.1:" + Ports.free();
      cluster.add("e" + (i + 1) + "=" + peer[i]);
    }
    for (int i = 0; i < 3; i++) {
      List<String> etcd = List.of(binary, "--name", "e" + (i + 1), "--data-dir",
          dir.resolve("etcd-" + (i + 1)).toString(), "--listen-client-urls", client[i],
          "--advertise-client-urls", client[i], "--listen-peer-urls", peer[i],
          "--initial-advertise-peer-urls", peer[i], "--initial-cluster", cluster.toString(),
          "--initial-cluster-token", "detraft-bench", "--initial-cluster-state", "new",
          "--logger", "zap", "--log-level", "warn");
      // etcd cannot watch this JVM: a shell does, and stops etcd when either is gone.
      List<String> cmd = new ArrayList<>(List.of("sh", "-c", "\"$@\" & e=$!; trap 'kill $e' "
          + "TERM; while kill -0 " + ProcessHandle.current().pid() + " 2>/dev/null && kill -0 $e"
          + " 2>/dev/null; do sleep 1; done; kill $e 2>/dev/null; wait $e", "etcd"));
      cmd.addAll(etcd);
      start(cmd, dir.resolve("etcd-" + (i + 1) + ".log"), started, processes);
    }
    return await("etcd did not elect a leader", started, pool -> {
      for (String c : client) {
        String member = c.substring("http://".length());
        try {
          Map<String, Object> status = Json.parseObject(pool.send(Peers.address(member),
              "POST", "/v3/maintenance/status", Map.of(),
              "{}".getBytes(StandardCharsets.US_ASCII)).text());
          Object me = ((Map<?, ?>) status.get("header")).get("member_id");
          if (me != null && me.equals(status.get("leader"))) {
            return member;
          }
        } catch (IOException | Json.ParseException | RuntimeException e) {
          // this member is not up yet; another may be the leader
        }
      }
      return null;
    });
  }

  private interface Probe<T> {
    /** The answer once there is one; null, or any exception, while not there yet. */
    T poll(HttpPool pool) throws Exception;
  }

  /**
   * Polls {@code probe} every 200 ms until it answers; gives up after 60 s, or at once, with the
   * end of its log, when one of the servers just {@code started} (by log) has exited.
   */
  private static <T> T await(String failure, Map<Path, Process> started, Probe<T> probe)
      throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(2), 1)) {
      while (true) {
        for (var server : started.entrySet()) {
          if (!server.getValue().isAlive()) {
            throw new IOException(server.getKey().getFileName() + ": the server exited (status "
                + server.getValue().exitValue() + ") while starting; its log ends: "
                + tail(server.getKey()));
          }
        }
        try {
          T answer = probe.poll(pool);
          if (answer != null) {
            return answer;
          }
        } catch (Exception e) {
          // not up yet
        }
        if (System.nanoTime() > deadline) {
          throw new IOException(failure + " within 60 s");
        }
        sleep(200);
      }
    }
  }

  /** Starts {@code cmd}, its output appended to {@code log}, and records it in both. */
  private static void start(List<String> cmd, Path log, Map<Path, Process> started,
      List<Process> processes) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    synchronized (processes) {
      processes.add(p);
    }
    started.put(log, p);
  }

  /** The last lines of a server's log, on one line. */
  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
          .filter(l -> !l.isBlank()).toList();
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static void stop(List<Process> processes) {
    synchronized (processes) {
      processes.forEach(Process::destroy);
      for (Process p : processes) {
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      processes.clear();
    }
  }

  private static boolean runs(String binary) {
    try {
      Process p = new ProcessBuilder(binary, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String etcdVersion(String binary) throws IOException {
    Process p = new ProcessBuilder(binary, "--version").redirectErrorStream(true).start();
    String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .lines().findFirst().orElse("etcd");
    return first.trim();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: a temp directory
    }
  }
}
