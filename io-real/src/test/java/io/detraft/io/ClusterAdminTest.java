package io.detraft.io;

import static io.detraft.io.ClusterTest.awaitSameHistory;
import static io.detraft.io.ClusterTest.proposeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.MembershipChange;
import io.detraft.core.MembershipChange.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Linearizable reads, membership changes and leadership transfer on real nodes. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterAdminTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final long GROUP = LocalCluster.GROUP;

  @TempDir Path dir;

  @Test
  void readsOnTheLeaderAndOnFollowersSeeEveryWriteAcknowledgedBeforeThem() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      cluster.propose("warm-up", WAIT);
      long leader = cluster.awaitLeader(WAIT);
      for (long id = 1; id <= 3; id++) {
        long node = id;
        LocalCluster.await(() -> cluster.runner(node).status(GROUP).leader() == leader, WAIT,
            "node " + node + " to know the leader");
      }
      for (int i = 0; i < 30; i++) {
        String write = "w-" + i;
        cluster.runner(leader).propose(GROUP, write.getBytes(StandardCharsets.UTF_8))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long reader = i % 3 + 1; // the leader and both followers in turn
        LocalCluster.RecordingStateMachine machine = cluster.machine(reader);
        // Runs on the Raft thread when the read index is applied: nothing applies meanwhile.
        boolean seen = cluster.runner(reader).readIndex(GROUP)
            .thenApply(index -> machine.applied().contains(write))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(seen, "node " + reader + " read before applying " + write);
      }
    }
  }

  @Test
  void aReadFailsWithNotLeaderOrTimeoutWhenNoLeaderAnswers() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      cluster.propose("warm-up", WAIT);
      long leader = cluster.awaitLeader(WAIT);
      long follower = leader == 1 ? 2 : 1;
      for (long id = 1; id <= 3; id++) {
        if (id != follower) {
          cluster.stop(id);
        }
      }
      var error = assertThrows(ExecutionException.class,
          () -> cluster.runner(follower).readIndex(GROUP).get(30, TimeUnit.SECONDS));
      ProposalException pe = assertInstanceOf(ProposalException.class, error.getCause());
      assertTrue(pe.reason() == ProposalException.Reason.TIMEOUT
          || pe.reason() == ProposalException.Reason.NOT_LEADER
          || pe.reason() == ProposalException.Reason.LEADERSHIP_LOST, pe.toString());
    }
  }

  @Test
  void aFourthNodeJoinsAsALearnerIsPromotedAndAnotherIsRemoved() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 10);
      cluster.restart(4); // a new node with an empty data directory, knowing voters 1-3

      change(cluster, new MembershipChange(Type.ADD_LEARNER, 4));
      LocalCluster.await(() -> cluster.machine(4).count() >= 10, WAIT, "the learner to catch up");
      change(cluster, new MembershipChange(Type.PROMOTE_LEARNER, 4));
      for (long id = 1; id <= 4; id++) {
        long node = id;
        LocalCluster.await(() -> cluster.runner(node).membership(GROUP).isVoter(4), WAIT,
            "node " + node + " to count 4 as a voter");
      }
      proposeAll(cluster, 10, 20);
      awaitSameHistory(cluster, 20);

      long leader = cluster.awaitLeader(WAIT);
      long victim = leader == 1 ? 2 : 1;
      change(cluster, new MembershipChange(Type.REMOVE, victim));
      cluster.forget(victim);
      proposeAll(cluster, 20, 30);
      awaitSameHistory(cluster, 30);
      long[] expected = victim == 1 ? new long[] {2, 3, 4} : new long[] {1, 3, 4};
      for (long id : cluster.running()) {
        long node = id;
        LocalCluster.await(() -> cluster.runner(node).membership(GROUP).voters().length == 3,
            WAIT, "node " + node + " to apply the removal");
        assertArrayEquals(expected, cluster.runner(node).membership(GROUP).voters());
      }

      // One change at a time, and only sensible ones: the leader says why not.
      long current = cluster.awaitLeader(WAIT);
      var error = assertThrows(ExecutionException.class, () -> cluster.runner(current)
          .changeMembership(GROUP, new MembershipChange(Type.PROMOTE_LEARNER, 4))
          .get(WAIT.toSeconds(), TimeUnit.SECONDS));
      ProposalException pe = assertInstanceOf(ProposalException.class, error.getCause());
      assertEquals(ProposalException.Reason.REJECTED, pe.reason());
      assertTrue(pe.getMessage().contains("not a learner"), pe.getMessage());
    }
  }

  @Test
  void leadershipMovesToTheChosenFollower() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10))) {
      long leader = cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 5);
      long target = leader == 3 ? 1 : leader + 1;
      cluster.runner(leader).transferLeadership(GROUP, target)
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(target, cluster.awaitLeader(WAIT));
      proposeAll(cluster, 5, 10);
      awaitSameHistory(cluster, 10);

      var notVoter = assertThrows(ExecutionException.class, () -> cluster.runner(target)
          .transferLeadership(GROUP, 9).get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertEquals(ProposalException.Reason.REJECTED,
          ((ProposalException) notVoter.getCause()).reason());
      var notLeader = assertThrows(ExecutionException.class, () -> cluster.runner(leader)
          .transferLeadership(GROUP, leader).get(WAIT.toSeconds(), TimeUnit.SECONDS));
      ProposalException pe = (ProposalException) notLeader.getCause();
      assertEquals(ProposalException.Reason.NOT_LEADER, pe.reason());
      assertEquals(target, pe.leaderHint());
    }
  }

  /** Applies a membership change through whichever node leads, retrying refusals. */
  private static void change(LocalCluster cluster, MembershipChange change) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long leader = cluster.awaitLeader(WAIT);
      CompletableFuture<Void> f = cluster.runner(leader).changeMembership(GROUP, change);
      try {
        f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof ProposalException pe) || pe.outcomeUnknown()
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50); // e.g. REJECTED: the learner has not caught up yet
      }
    }
  }
}
