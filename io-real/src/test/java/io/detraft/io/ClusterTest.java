package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real nodes over TCP on 127.0.0.1, each with its own WAL directory. Catch-up by
 * snapshot after compaction: {@link SnapshotClusterTest}.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  void electsReplicatesSurvivesLeaderLossAndARestartedNodeCatchesUpByLog() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      long first = cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 40);
      awaitSameHistory(cluster, 40);

      cluster.stop(first); // the leader goes away, its WAL closed
      long second = cluster.awaitLeader(WAIT);
      assertTrue(second != first);
      proposeAll(cluster, 40, 80);

      cluster.restart(first); // recovers its log from disk, learns the rest from the leader
      proposeAll(cluster, 80, 100);
      awaitSameHistory(cluster, 100);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        expected.add("cmd-" + i);
      }
      assertEquals(expected, cluster.machine(first).applied());
    }
  }

  @Test
  void aRestartedClusterRecoversEverythingItCommitted() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 20);
      awaitSameHistory(cluster, 20);
      for (long id = 1; id <= 3; id++) {
        cluster.stop(id);
      }
      for (long id = 1; id <= 3; id++) {
        cluster.restart(id);
      }
      cluster.awaitLeader(WAIT);
      proposeAll(cluster, 20, 25);
      awaitSameHistory(cluster, 25);
    }
  }

  @Test
  void aFollowerAnswersNotLeaderWithTheLeadersId() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      long leader = cluster.awaitLeader(WAIT);
      cluster.propose("warm-up", WAIT); // the followers learn who leads
      long follower = leader == 1 ? 2 : 1;
      LocalCluster.await(() -> cluster.runner(follower).status(LocalCluster.GROUP).leader()
          == leader, WAIT, "follower to know the leader");
      CompletableFuture<byte[]> f = cluster.runner(follower).propose("x".getBytes());
      var error = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
      ProposalException pe = assertInstanceOf(ProposalException.class, error.getCause());
      assertEquals(ProposalException.Reason.NOT_LEADER, pe.reason());
      assertEquals(leader, pe.leaderHint());
      assertTrue(!pe.outcomeUnknown());
    }
  }

  @Test
  void pendingProposalsFailWhenTheRunnerStops() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      long leader = cluster.awaitLeader(WAIT);
      for (long id = 1; id <= 3; id++) {
        if (id != leader) {
          cluster.stop(id); // nothing can commit any more
        }
      }
      // CheckQuorum makes the leader step down only an election timeout (200 ms) or more
      // after it last heard from the others, so it still accepts this one.
      CompletableFuture<byte[]> f = cluster.runner(leader).propose("stranded".getBytes());
      cluster.stop(leader);
      var error = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
      ProposalException pe = assertInstanceOf(ProposalException.class, error.getCause());
      assertTrue(pe.outcomeUnknown(), pe.toString());
    }
  }

  /** Proposes cmd-from .. cmd-(to-1), many in flight at once, and checks every answer. */
  static void proposeAll(LocalCluster cluster, int from, int to) throws Exception {
    long leader = cluster.awaitLeader(WAIT);
    NodeRunner runner = cluster.runner(leader);
    List<CompletableFuture<byte[]>> futures = new ArrayList<>();
    for (int i = from; i < to; i++) {
      futures.add(runner.propose(("cmd-" + i).getBytes(StandardCharsets.UTF_8)));
    }
    for (CompletableFuture<byte[]> f : futures) {
      String answer = new String(f.get(WAIT.toSeconds(), TimeUnit.SECONDS),
          StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("ok:"), answer);
    }
    assertEquals(Role.LEADER, runner.status(LocalCluster.GROUP).role());
  }

  static void awaitSameHistory(LocalCluster cluster, int commands) throws InterruptedException {
    for (long id : cluster.running()) {
      LocalCluster.await(() -> cluster.machine(id).count() >= commands, WAIT,
          "node " + id + " to apply " + commands + " commands");
    }
    List<String> reference = null;
    for (long id : cluster.running()) {
      List<String> applied = cluster.machine(id).applied();
      if (reference == null) {
        reference = applied;
      }
      assertEquals(reference, applied, "node " + id + " applied a different history");
    }
  }
}
