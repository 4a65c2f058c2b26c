package io.detraft.checker.bench;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.EdnHistory;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.LinearizabilityChecker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures the checkers on generated histories (a benchmark, not a test): list-append
 * transactions checked per second for strict serializability, and linearizability of a
 * key/value history. Prints generation time, check time, throughput, the heap the history
 * holds, and the peak heap during the check (history included).
 *
 * <pre>
 * java -Xmx8g -cp checker/target/classes:CLOJURE_JARS io.detraft.checker.bench.ElleBench \
 *     [--sizes 10000,100000,1000000] [--kv-ops 100000] [--repeat 2]
 * java -cp ... io.detraft.checker.bench.ElleBench --write-edn FILE [--sizes 100000]
 * </pre>
 *
 * <p>{@code --write-edn} writes the list-append history of the first size (default 100,000
 * transactions: about 38 MB) as Jepsen EDN and exits, so that the whole CLI, parsing
 * included, can be timed on it: {@code time ./detraft check --model list-append FILE}.
 *
 * <p>Each size is checked {@code repeat} times; the best time is reported (the first run
 * includes JIT warm-up).
 */
public final class ElleBench {
  private ElleBench() {}

  public static void main(String[] args) {
    List<Integer> sizes = List.of(10_000, 100_000, 1_000_000);
    int kvOperations = 100_000;
    int repeat = 2;
    Path writeEdn = null;
    boolean sizesGiven = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" -> {
          sizes = parseSizes(args[++i]);
          sizesGiven = true;
        }
        case "--kv-ops" -> kvOperations = Integer.parseInt(args[++i]);
        case "--repeat" -> repeat = Integer.parseInt(args[++i]);
        case "--write-edn" -> writeEdn = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (writeEdn != null) {
      writeEdn(sizesGiven ? sizes.get(0) : 100_000, writeEdn);
      return;
    }
    System.out.printf(Locale.ROOT, "cores=%d max-heap=%d MiB%n",
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
    for (int size : sizes) {
      listAppend(size, repeat);
    }
    if (kvOperations > 0) {
      linearizability(kvOperations, repeat);
    }
  }

  private static void listAppend(int transactions, int repeat) {
    long start = System.nanoTime();
    History history = ListAppendGenerator.generate(42, ListAppendGenerator.Options.benchmark(
        transactions));
    double generateSeconds = seconds(start);
    long historyBytes = settledHeap();
    double best = Double.MAX_VALUE;
    long peak = 0;
    ElleResult result = null;
    for (int run = 0; run < repeat; run++) {
      resetPeaks();
      start = System.nanoTime();
      result = ElleChecker.checkListAppend(history, ConsistencyModel.STRICT_SERIALIZABLE);
      best = Math.min(best, seconds(start));
      peak = Math.max(peak, peakHeap());
    }
    System.out.printf(Locale.ROOT, "list-append %,d txns (%,d ops): generate %.2f s, check "
            + "%.2f s = %,.0f txns/s; history heap %d MiB, peak heap %d MiB; %s%n",
        transactions, history.size(), generateSeconds, best, transactions / best,
        historyBytes >> 20, peak >> 20, result.verdict());
  }

  private static void writeEdn(int transactions, Path file) {
    long start = System.nanoTime();
    History history = ListAppendGenerator.generate(42, ListAppendGenerator.Options.benchmark(
        transactions));
    try {
      EdnHistory.write(history, file);
      System.out.printf(Locale.ROOT, "wrote %,d txns (%,d ops), %,d bytes, to %s in %.1f s%n",
          transactions, history.size(), Files.size(file), file, seconds(start));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void linearizability(int operations, int repeat) {
    long start = System.nanoTime();
    History history = KvGenerator.generate(7, operations, 100, 20, 5);
    double generateSeconds = seconds(start);
    long historyBytes = settledHeap();
    double best = Double.MAX_VALUE;
    long peak = 0;
    LinearizabilityChecker.Result result = null;
    for (int run = 0; run < repeat; run++) {
      resetPeaks();
      start = System.nanoTime();
      result = LinearizabilityChecker.check(history);
      best = Math.min(best, seconds(start));
      peak = Math.max(peak, peakHeap());
    }
    System.out.printf(Locale.ROOT, "linearizability %,d ops, 100 keys, 20 clients, 5%% info: "
            + "generate %.2f s, check %.2f s = %,.0f ops/s; history heap %d MiB, peak heap "
            + "%d MiB; %s, %,d search steps%n",
        operations, generateSeconds, best, operations / best, historyBytes >> 20, peak >> 20,
        result.verdict(), result.steps());
  }

  private static List<Integer> parseSizes(String text) {
    List<Integer> sizes = new ArrayList<>();
    for (String part : text.split(",")) {
      sizes.add(Integer.parseInt(part.trim().replace("_", "")));
    }
    return sizes;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Heap in use after a full collection: what the history itself holds. */
  private static long settledHeap() {
    System.gc();
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /**
   * The sum of the heap pools' peaks since the reset: an upper bound on the peak heap in use
   * (pools peak at different moments).
   */
  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
