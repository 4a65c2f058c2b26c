package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the runner promises a state machine: batches for a {@link BatchingStateMachine}, and a
 * restart that trusts a state machine's own applied index over a lagging durable commit index.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StateMachineContractTest {
  private static final long GROUP = 1;

  @TempDir Path dir;

  /** Applies nothing twice: fails the test if an index comes again or out of order. */
  static class Counting implements StateMachine {
    final List<Long> indexes = new ArrayList<>();
    long last;

    Counting(long alreadyApplied) {
      this.last = alreadyApplied;
    }

    @Override
    public synchronized byte[] apply(long index, byte[] command) {
      if (index <= last) {
        throw new AssertionError("entry " + index + " applied again (last " + last + ")");
      }
      last = index;
      indexes.add(index);
      return ("ok:" + index).getBytes(StandardCharsets.UTF_8);
    }

    synchronized List<Long> indexes() {
      return new ArrayList<>(indexes);
    }

    @Override
    public byte[] snapshot() {
      return new byte[0];
    }

    @Override
    public void restore(byte[] snapshot) {
      throw new AssertionError("no snapshot expected");
    }
  }

  /** Records the batches; results must not escape before their batch ends. */
  static final class Batching extends Counting implements BatchingStateMachine {
    volatile boolean inBatch;
    /** Index of the last entry of the last batch that ended. */
    volatile long visible;
    final List<Integer> batchSizes = new ArrayList<>();
    int current;

    Batching() {
      super(0);
    }

    @Override
    public synchronized void beginBatch() {
      assertFalse(inBatch, "nested batch");
      inBatch = true;
      current = 0;
    }

    @Override
    public synchronized byte[] apply(long index, byte[] command) {
      assertTrue(inBatch, "apply outside a batch");
      current++;
      return super.apply(index, command);
    }

    @Override
    public synchronized void endBatch() {
      assertTrue(inBatch, "end without begin");
      inBatch = false;
      visible = last;
      if (current > 0) {
        batchSizes.add(current);
      }
    }

    synchronized List<Integer> batchSizes() {
      return new ArrayList<>(batchSizes);
    }
  }

  private NodeRunner start(StateMachine sm, long applied) throws Exception {
    TcpTransport transport = TcpTransport.bind(TcpTransport.Options.defaults("contract", 1));
    NodeRunner.Options options = NodeRunner.Options.defaults(1, dir.resolve("node"))
        .withTiming(Duration.ofMillis(5), 10, 2)
        .withStorage(new WriteAheadLog.Options(1 << 20), 1 << 18)
        .withSnapshots(new NodeRunner.SnapshotPolicy(0, 0, 1));
    NodeRunner runner = NodeRunner.start(options, transport,
        List.of(new NodeRunner.Group(GROUP, Membership.of(1), sm, applied)));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (runner.status(GROUP).role() != Role.LEADER) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no leader");
      }
      Thread.sleep(5);
    }
    return runner;
  }

  @Test
  void resultsOfABatchAreDeliveredOnlyAfterItEnds() throws Exception {
    Batching sm = new Batching();
    NodeRunner runner = start(sm, 0);
    try {
      List<CompletableFuture<Boolean>> checks = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        List<CompletableFuture<Boolean>> futures = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          // Runs on the Raft thread when the result is delivered.
          futures.add(runner.propose(GROUP, ("c" + i).getBytes(StandardCharsets.UTF_8))
              .thenApply(result -> {
                long index = Long.parseLong(new String(result, StandardCharsets.UTF_8)
                    .substring(3));
                return !sm.inBatch && sm.visible >= index;
              }));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
            .get(10, TimeUnit.SECONDS);
        checks.addAll(futures);
      }
      for (CompletableFuture<Boolean> c : checks) {
        assertTrue(c.get(), "a result was delivered before its batch ended");
      }
      int largest = sm.batchSizes().stream().mapToInt(Integer::intValue).max().orElse(0);
      assertTrue(largest > 1, "proposals queued together apply in one batch: "
          + sm.batchSizes());
    } finally {
      runner.close();
    }
  }

  @Test
  void aStateMachineAheadOfTheDurableCommitIndexResumesAfterItsOwnIndex() throws Exception {
    Counting first = new Counting(0);
    NodeRunner runner = start(first, 0);
    for (int i = 0; i < 10; i++) {
      runner.propose(GROUP, ("a" + i).getBytes(StandardCharsets.UTF_8)).get(10,
          TimeUnit.SECONDS);
    }
    runner.close();
    long applied = first.last; // the last command (the first term's no-op came before them)
    assertEquals(11, applied);

    // As after a crash right after applying: the log's durable commit index lags behind.
    try (WriteAheadLog wal = WriteAheadLog.open(dir.resolve("node"),
        new WriteAheadLog.Options(1 << 20))) {
      HardState hs = wal.recovered().get(GROUP).hardState();
      assertEquals(applied, hs.commit());
      wal.saveHardState(GROUP, new HardState(hs.term(), hs.vote(), applied - 6));
      wal.sync();
    }

    Counting second = new Counting(applied); // remembers everything up to `applied`
    runner = start(second, applied);
    try {
      assertTrue(runner.status(GROUP).commit() >= applied, runner.status(GROUP).toString());
      assertTrue(runner.status(GROUP).applied() >= applied); // and the new term's no-op
      byte[] result = runner.propose(GROUP, "b".getBytes(StandardCharsets.UTF_8))
          .get(10, TimeUnit.SECONDS);
      long index = Long.parseLong(new String(result, StandardCharsets.UTF_8).substring(3));
      assertTrue(index > applied);
      // Only what came after the state machine's own index was applied (the new leader's
      // no-op entry is not a command).
      assertEquals(List.of(index), second.indexes());
    } finally {
      runner.close();
    }

    // The raised commit index was recorded: a restart with a fresh state machine replays
    // every command.
    Counting third = new Counting(0);
    runner = start(third, 0);
    try {
      LocalCluster.await(() -> third.indexes().size() == 11, Duration.ofSeconds(10),
          "the replay");
    } finally {
      runner.close();
    }
    assertArrayEquals(first.indexes().toArray(), third.indexes().subList(0, 10).toArray());
  }

  @Test
  void aStateMachineAheadOfTheLogIsRefused() throws Exception {
    NodeRunner runner = start(new Counting(0), 0);
    runner.propose(GROUP, "x".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
    long last = runner.status(GROUP).commit();
    runner.close();
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalStateException.class, () -> start(new Counting(last + 5), last + 5));
    assertTrue(e.getMessage().contains("the log ends at"), e.getMessage());
  }
}
