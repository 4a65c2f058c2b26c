package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A whole node on real files and sockets: refusing a damaged WAL, timeouts, group commit. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class NodeRunnerTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir Path dir;

  @Test
  void aNodeRefusesToStartOnAWalFlippedBeforeItsTailNamingFileAndOffset() throws Exception {
    Path segment;
    long damaged;
    try (LocalCluster cluster = new LocalCluster(dir, 1, Duration.ofMillis(10))) {
      for (int i = 0; i < 20; i++) {
        cluster.propose("cmd-" + i, WAIT); // one fsync batch each
      }
      cluster.stop(1);
      List<Path> segments = WalRecovery.segmentFiles(new RealDisk(), cluster.dataDir(1));
      assertEquals(1, segments.size());
      segment = segments.get(0);
      List<long[]> entries = entryRecords(segment); // {offset, size} of entries with data
      assertTrue(entries.size() >= 20, "entries with data: " + entries.size());
      long[] middle = entries.get(entries.size() / 2); // many later batches follow it
      damaged = middle[0];
      WriteAheadLogTest.flip(segment, middle[0] + middle[1] - 1); // a byte of the command

      var error = assertThrows(StorageCorruptionException.class, () -> cluster.restart(1));
      assertEquals(segment, error.file());
      assertEquals(damaged, error.offset());
      assertTrue(error.getMessage().contains(segment.toString()), error.getMessage());
      assertTrue(error.getMessage().contains("offset " + damaged), error.getMessage());
      assertTrue(cluster.runner(1) == null, "no node runs on that directory");
    }
  }

  @Test
  void aProposalWithoutAQuorumTimesOutOnceAfterTheProposalTimeout() throws Exception {
    Duration timeout = Duration.ofMillis(300);
    // Elections (and CheckQuorum step-downs) every 800 ms: the leader stays leader for at
    // least that long after losing its followers, so the answer is TIMEOUT, not a lost lead.
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10),
        o -> o.withTiming(Duration.ofMillis(10), 80, 3).withProposalTimeout(timeout))) {
      long leader = cluster.awaitLeader(WAIT);
      cluster.propose("warm-up", WAIT);
      List<Long> followers = new ArrayList<>();
      for (long id : cluster.running()) {
        if (id != leader) {
          followers.add(id);
        }
      }
      followers.forEach(cluster::stop);

      AtomicInteger completions = new AtomicInteger();
      long start = System.nanoTime();
      CompletableFuture<byte[]> f = cluster.runner(leader).propose(
          "lonely".getBytes(StandardCharsets.UTF_8));
      f.whenComplete((r, e) -> completions.incrementAndGet());
      var error = assertThrows(ExecutionException.class, () -> f.get(3, TimeUnit.SECONDS));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      ProposalException pe = assertInstanceOf(ProposalException.class, error.getCause());
      assertEquals(ProposalException.Reason.TIMEOUT, pe.reason(), pe.getMessage());
      assertTrue(pe.outcomeUnknown());
      assertTrue(millis >= timeout.toMillis() - 30 && millis < timeout.toMillis() + 500,
          "timed out after " + millis + " ms");

      // The followers come back and the entry commits after all: the future stays as it was.
      for (long id : followers) {
        cluster.restart(id);
      }
      LocalCluster.await(() -> cluster.machine(leader).applied().contains("lonely"), WAIT,
          "the timed-out entry to apply");
      cluster.close();
      assertEquals(1, completions.get());
      assertEquals(ProposalException.Reason.TIMEOUT, assertInstanceOf(ProposalException.class,
          assertThrows(ExecutionException.class, f::get).getCause()).reason());
    }
  }

  /**
   * The Raft thread is held inside the state machine while 200 proposals queue up; once
   * released, it must make all of them durable with one fsync. Every data fsync of the WAL
   * closes exactly one BATCH record, so the batch count on disk counts them.
   */
  @Test
  void oneFsyncCoversManyQueuedProposals() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    StateMachine gate = new StateMachine() {
      @Override
      public byte[] apply(long index, byte[] command) {
        if (new String(command, StandardCharsets.UTF_8).equals("gate")) {
          entered.countDown();
          try {
            release.await(5, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return command;
      }

      @Override
      public byte[] snapshot() {
        return new byte[0];
      }

      @Override
      public void restore(byte[] snapshot) {}
    };
    int proposals = 200;
    TcpTransport transport = TcpTransport.bind(TcpTransport.Options.defaults("gc", 1));
    NodeRunner.Options options = NodeRunner.Options.defaults(1, dir)
        .withStorage(new WriteAheadLog.Options(1 << 20), 1 << 18);
    RealDisk.Syncs syncs;
    try (NodeRunner runner = NodeRunner.start(options, transport,
        List.of(NodeRunner.Group.of(1, Membership.of(1), gate)))) {
      LocalCluster.await(() -> runner.status(1).role() == Role.LEADER, WAIT, "a leader");
      CompletableFuture<byte[]> held = runner.propose("gate".getBytes(StandardCharsets.UTF_8));
      assertTrue(entered.await(5, TimeUnit.SECONDS), "the gate entry never applied");
      List<CompletableFuture<byte[]>> all = new ArrayList<>();
      for (int i = 0; i < proposals; i++) {
        all.add(runner.propose(("p-" + i).getBytes(StandardCharsets.UTF_8)));
      }
      release.countDown();
      held.get(5, TimeUnit.SECONDS);
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
      assertFalse(runner.failure().isPresent());
      syncs = runner.syncs();
    } // closes the WAL: nothing is left unsynced
    long fsyncs = WalRecovery.run(new RealDisk(), dir).lastBatchSeq; // the whole run, election included
    assertTrue(fsyncs < proposals / 10, fsyncs + " fsyncs for " + proposals + " proposals");
    // The runner's fsync metric counted every batch's fdatasync (and a few directory fsyncs).
    assertTrue(syncs.count() >= fsyncs - 1 && syncs.count() < fsyncs + 10, syncs.count()
        + " fsyncs counted, " + fsyncs + " batches");
    assertTrue(syncs.seconds() > 0 && syncs.atMost()[RealDisk.SYNC_BUCKETS.length - 1]
        <= syncs.count(), String.valueOf(syncs));
  }

  /** {offset, size} of every ENTRY record with a command in {@code segment}, in order. */
  private static List<long[]> entryRecords(Path segment) throws Exception {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(segment));
    CRC32C crc = new CRC32C();
    List<long[]> out = new ArrayList<>();
    int pos = WalFormat.SEGMENT_HEADER_BYTES;
    for (int size; (size = WalFormat.validRecordAt(buf, pos, crc)) > 0; pos += size) {
      if (WalFormat.type(buf, pos) == WalFormat.ENTRY
          && size > WalFormat.RECORD_HEADER_BYTES + WalFormat.ENTRY_FIXED_BODY_BYTES) {
        out.add(new long[] {pos, size});
      }
    }
    return out;
  }
}
