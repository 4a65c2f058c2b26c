package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.io.LocalCluster.RecordingStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups started and stopped on running nodes (dragonboat's StartReplica/StopReplica): a
 * stopped replica keeps its data and catches up when it starts again; a group added to a
 * running cluster elects a leader and commits; the node's later restarts recover both.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GroupsAtRuntimeTest {
  private static final Membership VOTERS = Membership.of(1, 2, 3);

  @TempDir Path dir;
  private final NodeRunner[] runners = new NodeRunner[3];

  @AfterEach
  void closeAll() {
    for (NodeRunner r : runners) {
      if (r != null) {
        r.close();
      }
    }
  }

  @Test
  void aStoppedReplicaKeepsItsDataAndCatchesUpWhenStartedAgain() throws Exception {
    RecordingStateMachine[] machines = start(List.of(1L));
    propose(1, 0, 10);
    awaitApplied(machines, 10);

    // A proposal waiting on the replica fails when it stops (it may still commit elsewhere).
    NodeRunner third = runners[2];
    CompletableFuture<byte[]> waiting = third.propose(1, bytes("never-leader"));
    third.stopGroup(1).get(10, TimeUnit.SECONDS);
    assertTrue(waiting.isDone());
    assertEquals(List.of(), third.groups());

    // The other two go on; the stopped replica applies nothing meanwhile.
    propose(1, 10, 30);
    int before = machines[2].count();
    Thread.sleep(200);
    assertEquals(before, machines[2].count(), "a stopped replica applied");

    // Stopping twice, proposing to it, starting a running group: clear refusals.
    assertReason(ProposalException.Reason.UNKNOWN_GROUP, third.stopGroup(1));
    assertReason(ProposalException.Reason.UNKNOWN_GROUP, third.propose(1, bytes("x")));
    assertReason(ProposalException.Reason.REJECTED, runners[0].startGroup(
        NodeRunner.Group.of(1, VOTERS, new RecordingStateMachine())));

    // Started again with a fresh state machine, it rebuilds from its log and catches up.
    RecordingStateMachine fresh = new RecordingStateMachine();
    third.startGroup(NodeRunner.Group.of(1, VOTERS, fresh)).get(10, TimeUnit.SECONDS);
    assertEquals(List.of(1L), third.groups());
    LocalCluster.await(() -> fresh.count() >= 30, Duration.ofSeconds(30), "catch-up");
    assertEquals(machines[0].applied().subList(0, 30), fresh.applied().subList(0, 30));
  }

  @Test
  void aGroupAddedToARunningClusterElectsALeaderAndSurvivesARestart() throws Exception {
    start(List.of(1L));
    propose(1, 0, 5);
    RecordingStateMachine[] added = new RecordingStateMachine[3];
    for (int i = 0; i < 3; i++) {
      added[i] = new RecordingStateMachine();
      runners[i].startGroup(NodeRunner.Group.of(2, VOTERS, added[i])).get(10, TimeUnit.SECONDS);
      assertEquals(List.of(1L, 2L), runners[i].groups());
    }
    propose(2, 0, 20);
    awaitApplied(added, 20);

    // Group 2 is in each node's WAL: a restart that names it recovers it.
    closeAll();
    RecordingStateMachine[] recovered = start(List.of(1L, 2L), 2);
    awaitApplied(recovered, 20);
    propose(2, 20, 25);
    awaitApplied(recovered, 25);
    assertEquals(added[0].applied(), recovered[0].applied().subList(0, 20));
  }

  /** Starts three nodes hosting {@code groups}; returns the state machines of the last one. */
  private RecordingStateMachine[] start(List<Long> groups) throws Exception {
    return start(groups, groups.get(groups.size() - 1));
  }

  private RecordingStateMachine[] start(List<Long> groups, long watched) throws Exception {
    TcpTransport[] transports = new TcpTransport[3];
    for (int i = 0; i < 3; i++) {
      transports[i] = TcpTransport.bind(TcpTransport.Options.defaults("groups", i + 1));
    }
    RecordingStateMachine[] machines = new RecordingStateMachine[3];
    for (int i = 0; i < 3; i++) {
      List<NodeRunner.Group> hosted = new ArrayList<>();
      for (long g : groups) {
        RecordingStateMachine m = new RecordingStateMachine();
        if (g == watched) {
          machines[i] = m;
        }
        hosted.add(NodeRunner.Group.of(g, VOTERS, m));
      }
      for (int j = 0; j < 3; j++) {
        if (i != j) {
          transports[i].setPeer(j + 1, transports[j].localAddress());
        }
      }
      runners[i] = NodeRunner.start(NodeRunner.Options.defaults(i + 1, dir.resolve("n" + i))
          .withStorage(new WriteAheadLog.Options(1 << 20), 1 << 18), transports[i], hosted);
    }
    return machines;
  }

  /** Proposes commands from..to-1 of {@code group} on its leader among the first two nodes. */
  private void propose(long group, int from, int to) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int i = from; i < to; ) {
      NodeRunner leader = null;
      for (NodeRunner r : runners) {
        if (r.groups().contains(group) && r.status(group).role() == Role.LEADER) {
          leader = r;
        }
      }
      assertTrue(System.nanoTime() < deadline, "no leader of group " + group);
      if (leader == null) {
        Thread.sleep(10);
        continue;
      }
      try {
        leader.propose(group, bytes("g" + group + "-" + i)).get(20, TimeUnit.SECONDS);
        i++;
      } catch (ExecutionException e) {
        Thread.sleep(10); // leadership moved: ask the new leader
      }
    }
  }

  private static void awaitApplied(RecordingStateMachine[] machines, int count)
      throws InterruptedException {
    for (RecordingStateMachine m : machines) {
      LocalCluster.await(() -> m.count() >= count, Duration.ofSeconds(30), count + " applied");
    }
  }

  private static void assertReason(ProposalException.Reason reason, CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> f.get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof ProposalException p && p.reason() == reason,
        String.valueOf(e.getCause()));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
