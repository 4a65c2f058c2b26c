package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

/**
 * {@code detraft bench}: closed-loop load through the HTTP API. Each client has its own
 * connections and sessions and does one operation at a time on uniformly chosen keys (see
 * {@link BenchLoop}); reads are linearizable unless {@code --stale}. Prints a progress line
 * every second, then throughput and latency percentiles (Commons Math).
 */
final class Bench {
  private Bench() {}

  /**
   * Clients per selector thread of the load generator, at least; and no more threads than
   * cores. On a 2-core machine shared with the nodes under test, eight loops for 256 clients
   * took about a third of the machine; two served up to 30 % more writes (2026-12-04).
   */
  private static final int CLIENTS_PER_LOOP = 32;

  /**
   * One measurement: {@code clients} closed-loop clients on {@code keys} (16 B values, say),
   * against detraft's HTTP API or, with {@code etcd}, etcd's JSON gateway.
   */
  record Load(List<String> endpoints, boolean etcd, int clients, byte[][] keys, byte[] value,
      double readRatio, boolean stale, long seconds, long warmupSeconds) {}

  /** What a measurement saw; latencies in milliseconds. */
  record Result(long ops, double seconds, long errors, double p50, double p99, double p999,
      double max, String firstError, List<BenchLoop.Samples> samples, long startNanos,
      long endNanos) {
    double opsPerSecond() {
      return ops / seconds;
    }

    String table() {
      StringBuilder t = new StringBuilder();
      t.append(String.format("result: %,.0f ops/s (%,d ops in %.1f s, %,d errors)%n",
          opsPerSecond(), ops, seconds, errors));
      if (ops > 0) {
        t.append(String.format("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
            p50, p99, p999, max));
      }
      if (firstError != null) {
        t.append("first error: ").append(firstError).append(System.lineSeparator());
      }
      return t.toString();
    }
  }

  static int run(Flags f, PrintStream out) {
    if (f.has("against")) {
      return BenchCompare.run(f, out);
    }
    List<String> endpoints = Commands.endpoints(f);
    int clients = (int) f.number("clients", 64, 1, 4096);
    int keySize = (int) f.number("key-size", 16, 4, 1024);
    int valueSize = (int) f.number("value-size", 16, 0, KvCommand.MAX_STORED_VALUE_BYTES);
    int keys = (int) f.number("keys", 10_000, 1, 10_000_000);
    double readRatio = f.decimal("read-ratio", 0.0, 0.0, 1.0);
    long seconds = f.number("duration", 10, 1, 3600);
    long warmupSeconds = f.number("warmup", 3, 0, 600);
    boolean stale = f.has("stale");
    boolean etcd = f.has("etcd");
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("bench takes no arguments");
    }
    // --report DIR: charts and the table. A bad directory is said now; the bench still runs.
    BenchReport report = f.has("report") ? BenchReport.open(f.get("report"), System.err) : null;
    String what = String.format("%d clients, %d B keys, %d B values, %d keys, read ratio %.2f%s,"
        + " %d s", clients, keySize, valueSize, keys, readRatio,
        stale ? " (stale reads)" : "", seconds);
    out.printf("bench: %s (after %d s of warm-up) against %s%s%n", what, warmupSeconds,
        etcd ? "etcd at " : "", endpoints);
    Load load = new Load(endpoints, etcd, clients, keys(keys, keySize),
        "v".repeat(valueSize).getBytes(StandardCharsets.US_ASCII), readRatio, stale, seconds,
        warmupSeconds);
    if (readRatio > 0) {
      preload(load, out);
    }
    Result r = measure(load, out);
    out.print(r.table());
    if (report != null) {
      report.write("bench: " + what + " against " + endpoints, r.samples(), r.startNanos(),
          r.endNanos(), r.table(), out);
    }
    return r.errors() > 0 && r.ops() == 0 ? Main.FAILED : Main.OK;
  }

  /** {@code count} keys of {@code size} bytes: k0___, k1___, ... */
  static byte[][] keys(int count, int size) {
    byte[][] keys = new byte[count][];
    for (int i = 0; i < count; i++) {
      String k = "k" + i;
      keys[i] = (k + "_".repeat(Math.max(0, size - k.length())))
          .getBytes(StandardCharsets.US_ASCII);
    }
    return keys;
  }

  /** Runs the load; {@code progress} (or null) gets a line per second. */
  static Result measure(Load load, PrintStream progress) {
    LongAdder done = new LongAdder();
    LongAdder errors = new LongAdder();
    // The clients run through the warm-up too (JIT, connections, sessions); only what
    // completes after it counts.
    long start = System.nanoTime() + Duration.ofSeconds(load.warmupSeconds()).toNanos();
    long end = start + Duration.ofSeconds(load.seconds()).toNanos();
    BenchLoop.Plan plan = new BenchLoop.Plan(load.keys(), load.value(), load.readRatio(),
        load.stale(), start, end, load.etcd());
    List<BenchLoop> loops = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    int loopCount = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(),
        (load.clients() + CLIENTS_PER_LOOP - 1) / CLIENTS_PER_LOOP));
    int perLoop = (load.clients() + loopCount - 1) / loopCount;
    for (int first = 0; first < load.clients(); first += perLoop) {
      BenchLoop loop = new BenchLoop(plan, load.endpoints(), first,
          Math.min(perLoop, load.clients() - first), done, errors);
      Thread t = new Thread(loop, "bench-" + loops.size());
      t.setDaemon(true);
      loops.add(loop);
      threads.add(t);
      t.start();
    }
    sleepUntil(start);
    long last = 0;
    for (int second = 1; System.nanoTime() < end; second++) {
      sleepUntil(start + Duration.ofSeconds(second).toNanos());
      long total = done.sum();
      if (progress != null) {
        progress.printf("  %3d s  %,9d ops/s  (%,d ops, %,d errors)%n", second, total - last,
            total, errors.sum());
      }
      last = total;
    }
    for (Thread t : threads) {
      try {
        t.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    double elapsed = Math.min(System.nanoTime() - start, end - start) / 1e9;
    int n = 0;
    for (BenchLoop loop : loops) {
      n += loop.samples.size;
    }
    double[] millis = new double[n];
    int at = 0;
    String firstError = null;
    List<BenchLoop.Samples> samples = new ArrayList<>();
    for (BenchLoop loop : loops) {
      for (int i = 0; i < loop.samples.size; i++) {
        millis[at++] = loop.samples.nanos[i] / 1e6;
      }
      firstError = firstError != null ? firstError : loop.firstError;
      samples.add(loop.samples);
    }
    Percentile p = new Percentile();
    p.setData(millis);
    return new Result(n, elapsed, errors.sum(), n > 0 ? p.evaluate(50) : 0,
        n > 0 ? p.evaluate(99) : 0, n > 0 ? p.evaluate(99.9) : 0,
        Arrays.stream(millis).max().orElse(0), firstError, samples, start, end);
  }

  /** Writes every key once, so reads find values. */
  static void preload(Load load, PrintStream out) {
    long t0 = System.nanoTime();
    byte[][] keys = load.keys();
    AtomicLong next = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < Math.min(load.clients(), 32); c++) {
      Thread t = new Thread(() -> {
        if (load.etcd()) {
          InetSocketAddress member = Peers.address(load.endpoints().get(0));
          try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1)) {
            for (long i; (i = next.getAndIncrement()) < keys.length; ) {
              HttpPool.Response r = pool.send(member, "POST", "/v3/kv/put", Map.of(),
                  BenchLoop.etcdPut(keys[(int) i], load.value())
                      .getBytes(StandardCharsets.US_ASCII));
              if (r.status() != 200) {
                throw new IllegalStateException("etcd refused a put: " + r.text());
              }
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        } else {
          try (KvClient client = KvClient.connect(load.endpoints())) {
            for (long i; (i = next.getAndIncrement()) < keys.length; ) {
              client.put(keys[(int) i], load.value());
            }
          }
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    out.printf("preloaded %,d keys in %.1f s%n", keys.length, (System.nanoTime() - t0) / 1e9);
  }

  private static void sleepUntil(long nanos) {
    long wait;
    while ((wait = nanos - System.nanoTime()) > 0) {
      try {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
