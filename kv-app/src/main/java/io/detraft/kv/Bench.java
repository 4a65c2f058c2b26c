package io.detraft.kv;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

/**
 * {@code detraft bench}: closed-loop load through the HTTP API. Each client is a thread with
 * its own {@link KvClient} (own connections, own sessions), doing one operation at a time on
 * uniformly chosen keys; reads are linearizable unless {@code --stale}. Prints a progress line
 * every second, then throughput and latency percentiles (Commons Math).
 */
final class Bench {
  private Bench() {}

  /** Latencies of one client, in nanoseconds; grown by doubling. */
  private static final class Samples {
    long[] nanos = new long[1 << 14];
    int size;

    void add(long n) {
      if (size == nanos.length) {
        nanos = Arrays.copyOf(nanos, size * 2);
      }
      nanos[size++] = n;
    }
  }

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
    AtomicLong firstError = new AtomicLong();
    String[] errorText = new String[1];
    Samples[] samples = new Samples[clients];
    // The clients run through the warm-up too (JIT, connections, sessions); only what
    // completes after it counts.
    long start = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
    long end = start + Duration.ofSeconds(seconds).toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Samples mine = samples[c] = new Samples();
      long seed = c;
      Thread t = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        try (KvClient client = KvClient.connect(endpoints, options)) {
          while (System.nanoTime() < end) {
            byte[] key = keyBytes[random.nextInt(keyBytes.length)];
            boolean read = readRatio > 0 && random.nextDouble() < readRatio;
            long t0 = System.nanoTime();
            boolean counted = t0 - start >= 0;
            try {
              if (read) {
                client.get(key, stale);
              } else {
                client.put(key, value);
              }
              if (counted) {
                mine.add(System.nanoTime() - t0);
                done.increment();
              }
            } catch (KvClientException e) {
              if (!counted) {
                continue;
              }
              errors.increment();
              if (firstError.compareAndSet(0, 1)) {
                errorText[0] = e.getMessage();
              }
            }
          }
        }
      }, "bench-" + c);
      t.setDaemon(true);
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
    double elapsed = (System.nanoTime() - start) / 1e9;
    int n = 0;
    for (Samples s : samples) {
      n += s.size;
    }
    double[] millis = new double[n];
    int at = 0;
    for (Samples s : samples) {
      for (int i = 0; i < s.size; i++) {
        millis[at++] = s.nanos[i] / 1e6;
      }
    }
    Percentile p = new Percentile();
    p.setData(millis);
    out.printf("result: %,.0f ops/s (%,d ops in %.1f s, %,d errors)%n", n / elapsed, n,
        elapsed, errors.sum());
    if (n > 0) {
      out.printf("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
          p.evaluate(50), p.evaluate(99), p.evaluate(99.9),
          Arrays.stream(millis).max().orElse(0));
    }
    if (errorText[0] != null) {
      out.println("first error: " + errorText[0]);
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
