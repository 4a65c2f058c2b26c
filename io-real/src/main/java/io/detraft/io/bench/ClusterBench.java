package io.detraft.io.bench;

import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.io.NodeRunner;
import io.detraft.io.TcpTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A 3-node cluster on loopback in one JVM (real WALs, real TCP): proposals/s and latency
 * percentiles with 1, 16 and 64 concurrent proposers and 16 B and 1 KiB commands. Not a test:
 * run it by hand.
 *
 * <pre>
 * java -cp core/target/classes:io-real/target/classes io.detraft.io.bench.ClusterBench \
 *     [dir] [seconds per case] [sizes, e.g. 16,1024] [proposers, e.g. 1,16,64]
 * </pre>
 *
 * <p>A proposer sends its next command as soon as the previous one applied on the leader, so
 * "N proposers" means N commands in flight. The state machine does nothing: this measures
 * the log, the network and the loop.
 */
public final class ClusterBench {
  private static final long GROUP = 1;

  private ClusterBench() {}

  public static void main(String[] args) throws Exception {
    Path base = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"));
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3.0;
    int[] sizes = args.length > 2 ? ints(args[2]) : new int[] {16, 1024};
    int[] concurrency = args.length > 3 ? ints(args[3]) : new int[] {1, 16, 64};
    Path dir = Files.createTempDirectory(base, "clusterbench");
    NodeRunner[] runners = new NodeRunner[3];
    try {
      TcpTransport[] transports = new TcpTransport[3];
      for (int i = 0; i < 3; i++) {
        transports[i] = TcpTransport.bind(TcpTransport.Options.defaults("bench", i + 1));
      }
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
          if (i != j) {
            transports[i].setPeer(j + 1, transports[j].localAddress());
          }
        }
        runners[i] = NodeRunner.start(
            NodeRunner.Options.defaults(i + 1, dir.resolve("node-" + (i + 1))), transports[i],
            List.of(NodeRunner.Group.of(GROUP, Membership.of(1, 2, 3), new Echo())));
      }
      NodeRunner leader = awaitLeader(runners);
      Thread.sleep(2000); // let the first segments' pre-allocation settle
      System.out.printf("ClusterBench: 3 nodes on loopback, %.1f s per case, WAL in %s%n",
          seconds, dir);
      for (int size : sizes) {
        for (int proposers : concurrency) {
          leader = awaitLeader(runners);
          new Load(leader, size, proposers).run(seconds);
        }
      }
    } finally {
      for (NodeRunner runner : runners) {
        if (runner != null) {
          runner.close();
        }
      }
      deleteTree(dir);
    }
  }

  /** N proposers, each with one command in flight; latencies recorded while measuring. */
  private static final class Load {
    private final NodeRunner leader;
    private final byte[] command;
    private final int proposers;
    private final CountDownLatch done;
    private long[] latencies = new long[1 << 20];
    private int count;
    private int failures;
    private volatile boolean measuring;
    private volatile boolean stopping;

    Load(NodeRunner leader, int size, int proposers) {
      this.leader = leader;
      this.command = new byte[size];
      Arrays.fill(command, (byte) 7);
      this.proposers = proposers;
      this.done = new CountDownLatch(proposers);
    }

    void run(double seconds) throws InterruptedException {
      for (int i = 0; i < proposers; i++) {
        next();
      }
      Thread.sleep(1000); // warm-up: JIT, batching settling
      long start = System.nanoTime();
      measuring = true;
      Thread.sleep((long) (seconds * 1000));
      measuring = false;
      long elapsed = System.nanoTime() - start;
      stopping = true;
      if (!done.await(30, TimeUnit.SECONDS)) {
        System.out.println("  (some proposals never finished)");
      }
      long[] sorted;
      int n;
      int failed;
      synchronized (this) {
        n = count;
        failed = failures;
        sorted = Arrays.copyOf(latencies, n);
      }
      Arrays.sort(sorted);
      System.out.printf("%5d B x %2d proposers: %8.0f proposals/s  p50 %6.3f ms  p99 %6.3f ms"
              + "  max %7.3f ms  (%d failed)%n",
          command.length, proposers, n / (elapsed / 1e9), percentile(sorted, 0.50),
          percentile(sorted, 0.99), n == 0 ? 0 : sorted[n - 1] / 1e6, failed);
    }

    private void next() {
      if (stopping) {
        done.countDown();
        return;
      }
      long sent = System.nanoTime();
      // Completes on the leader's Raft thread, which then queues the next proposal.
      leader.propose(GROUP, command).whenComplete((result, error) ->
          finished(System.nanoTime() - sent, error));
    }

    private void finished(long latencyNanos, Throwable error) {
      synchronized (this) {
        if (error != null) {
          failures++;
        } else if (measuring) {
          if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
          }
          latencies[count++] = latencyNanos;
        }
      }
      next();
    }

    private static double percentile(long[] sorted, double p) {
      return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1,
          Math.floor(p * sorted.length))] / 1e6;
    }
  }

  private static int[] ints(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private static NodeRunner awaitLeader(NodeRunner[] runners) throws InterruptedException {
    for (int i = 0; i < 1000; i++) {
      for (NodeRunner r : runners) {
        if (r.status(GROUP).role() == Role.LEADER) {
          return r;
        }
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("no leader elected");
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Answers each command with itself; keeps no state, so its snapshot is empty. */
  static final class Echo implements io.detraft.core.StateMachine {
    @Override
    public byte[] apply(long index, byte[] command) {
      return command;
    }

    @Override
    public byte[] snapshot() {
      return new byte[0];
    }

    @Override
    public void restore(byte[] snapshot) {}
  }
}
