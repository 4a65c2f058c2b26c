package io.detraft.kv;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

  /** Clients per selector thread of the load generator. */
  private static final int CLIENTS_PER_LOOP = 32;

  static int run(Flags f, PrintStream out) {
    List<String> endpoints = Commands.endpoints(f);
    int clients = (int) f.number("clients", 64, 1, 4096);
    int keySize = (int) f.number("key-size", 16, 4, 1024);
    int valueSize = (int) f.number("value-size", 16, 0, KvCommand.MAX_STORED_VALUE_BYTES);
    int keys = (int) f.number("keys", 10_000, 1, 10_000_000);
    double readRatio = f.decimal("read-ratio", 0.0, 0.0, 1.0);
    long seconds = f.number("duration", 10, 1, 3600);
    long warmupSeconds = f.number("warmup", 3, 0, 600);
    boolean stale = f.has("stale");
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("bench takes no arguments");
    }
    // --report DIR: charts and the table. A bad directory is said now; the bench still runs.
    BenchReport report = f.has("report") ? BenchReport.open(f.get("report"), System.err) : null;
    out.printf("bench: %d clients, %d B keys, %d B values, %d keys, read ratio %.2f%s, %d s "
        + "(after %d s of warm-up) against %s%n", clients, keySize, valueSize, keys, readRatio,
        stale ? " (stale reads)" : "", seconds, warmupSeconds, endpoints);
    byte[][] keyBytes = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      String k = "k" + i;
      keyBytes[i] = (k + "_".repeat(Math.max(0, keySize - k.length())))
          .getBytes(StandardCharsets.US_ASCII);
    }
    byte[] value = "v".repeat(valueSize).getBytes(StandardCharsets.US_ASCII);
    KvClient.Options options = KvClient.Options.defaults()
        .withOperationTimeout(Duration.ofSeconds(10));
    if (readRatio > 0) {
      preload(endpoints, keyBytes, value, clients, out);
    }

    LongAdder done = new LongAdder();
    LongAdder errors = new LongAdder();
    // The clients run through the warm-up too (JIT, connections, sessions); only what
    // completes after it counts.
    long start = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
    long end = start + Duration.ofSeconds(seconds).toNanos();
    BenchLoop.Plan plan = new BenchLoop.Plan(keyBytes, value, readRatio, stale, start, end);
    List<BenchLoop> loops = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int first = 0; first < clients; first += CLIENTS_PER_LOOP) {
      BenchLoop loop = new BenchLoop(plan, endpoints, first,
          Math.min(CLIENTS_PER_LOOP, clients - first), done, errors);
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
      out.printf("  %3d s  %,9d ops/s  (%,d ops, %,d errors)%n", second, total - last, total,
          errors.sum());
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
    for (BenchLoop loop : loops) {
      for (int i = 0; i < loop.samples.size; i++) {
        millis[at++] = loop.samples.nanos[i] / 1e6;
      }
      firstError = firstError != null ? firstError : loop.firstError;
    }
    Percentile p = new Percentile();
    p.setData(millis);
    StringBuilder table = new StringBuilder();
    table.append(String.format("result: %,.0f ops/s (%,d ops in %.1f s, %,d errors)%n",
        n / elapsed, n, elapsed, errors.sum()));
    if (n > 0) {
      table.append(String.format("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
          p.evaluate(50), p.evaluate(99), p.evaluate(99.9),
          Arrays.stream(millis).max().orElse(0)));
    }
    if (firstError != null) {
      table.append("first error: ").append(firstError).append(System.lineSeparator());
    }
    out.print(table);
    if (report != null) {
      List<BenchLoop.Samples> all = new ArrayList<>();
      loops.forEach(loop -> all.add(loop.samples));
      report.write(String.format("bench: %d clients, %d B keys, %d B values, %d keys, read "
          + "ratio %.2f%s, %d s against %s", clients, keySize, valueSize, keys, readRatio,
          stale ? " (stale reads)" : "", seconds, endpoints), all, start, end, table.toString(),
          out);
    }
    return errors.sum() > 0 && n == 0 ? Main.FAILED : Main.OK;
  }

  /** Writes every key once, so reads find values. */
  private static void preload(List<String> endpoints, byte[][] keys, byte[] value,
      int clients, PrintStream out) {
    long t0 = System.nanoTime();
    AtomicLong next = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < Math.min(clients, 32); c++) {
      Thread t = new Thread(() -> {
        try (KvClient client = KvClient.connect(endpoints)) {
          for (long i; (i = next.getAndIncrement()) < keys.length; ) {
            client.put(keys[(int) i], value);
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
