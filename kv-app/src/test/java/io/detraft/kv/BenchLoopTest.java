package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator's clients ride out a leader's death: retried, never failed. */
class BenchLoopTest {
  @TempDir Path dir;

  @Test
  void clientsRetryThroughALeaderCrash() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      byte[][] keys = new byte[40][];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = ("key-" + i).getBytes(StandardCharsets.US_ASCII);
      }
      long start = System.nanoTime();
      long end = start + 4_000_000_000L;
      LongAdder done = new LongAdder();
      LongAdder errors = new LongAdder();
      BenchLoop loop = new BenchLoop(new BenchLoop.Plan(keys, "v".getBytes(
          StandardCharsets.US_ASCII), 0.3, false, start, end, false), cluster.endpoints(), 0, 8, done,
          errors);
      Thread thread = new Thread(loop, "bench-test");
      thread.start();
      TestCluster.await("some operations", () -> done.sum() > 50);
      long leader = cluster.leaderOf(1);
      assertNotEquals(0, leader);
      long before = done.sum();
      cluster.stop(leader);
      thread.join(30_000);
      assertNull(loop.firstError);
      assertEquals(0, errors.sum());
      assertTrue(done.sum() > before + 50, "kept going after the crash: " + done.sum());
      assertEquals(done.sum(), loop.samples.size);
    }
  }
}
