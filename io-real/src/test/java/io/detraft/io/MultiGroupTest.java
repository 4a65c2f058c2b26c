package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two groups per node share one runner, one WAL (one fsync per batch) and one transport. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MultiGroupTest {
  private static final long[] GROUPS = {1, 2};

  @TempDir Path dir;
  private final TcpTransport[] transports = new TcpTransport[3];

  @Test
  void groupsReplicateIndependentlyAndRecoverFromTheSharedLog() throws Exception {
    RecordingStateMachine[][] machines = new RecordingStateMachine[3][GROUPS.length];
    NodeRunner[] runners = start(machines);
    try {
      proposeToEachGroup(runners, 0, 20);
      awaitApplied(machines, 20);
    } finally {
      for (NodeRunner r : runners) {
        r.close();
      }
    }
    // Every node restarts from its own WAL with fresh state machines: the committed entries
    // of both groups come back from the shared log and apply again in the same order.
    RecordingStateMachine[][] fresh = new RecordingStateMachine[3][GROUPS.length];
    runners = start(fresh);
    try {
      proposeToEachGroup(runners, 20, 25);
      awaitApplied(fresh, 25);
      for (int g = 0; g < GROUPS.length; g++) {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
          expected.add("g" + GROUPS[g] + "-" + i);
        }
        for (int node = 0; node < 3; node++) {
          assertEquals(expected, fresh[node][g].applied(), "node " + (node + 1));
        }
      }
    } finally {
      for (NodeRunner r : runners) {
        r.close();
      }
    }
  }

  private NodeRunner[] start(RecordingStateMachine[][] machines) throws Exception {
    return start(machines, 0);
  }

  private NodeRunner[] start(RecordingStateMachine[][] machines, int quiesce) throws Exception {
    for (int i = 0; i < 3; i++) {
      transports[i] = TcpTransport.bind(TcpTransport.Options.defaults("multi", i + 1));
    }
    NodeRunner[] runners = new NodeRunner[3];
    for (int i = 0; i < 3; i++) {
      List<NodeRunner.Group> groups = new ArrayList<>();
      for (int g = 0; g < GROUPS.length; g++) {
        machines[i][g] = new RecordingStateMachine();
        groups.add(NodeRunner.Group.of(GROUPS[g], Membership.of(1, 2, 3), machines[i][g]));
      }
      for (int j = 0; j < 3; j++) {
        if (i != j) {
          transports[i].setPeer(j + 1, transports[j].localAddress());
        }
      }
      runners[i] = NodeRunner.start(NodeRunner.Options.defaults(i + 1, dir.resolve("n" + i))
          .withStorage(new WriteAheadLog.Options(1 << 20), 1 << 18).withQuiesce(quiesce),
          transports[i], groups);
    }
    return runners;
  }

  /**
   * Idle groups go quiet: after a while no node sends anything (no heartbeats), and the next
   * proposal wakes its group and commits.
   */
  @Test
  void idleGroupsGoQuietAndWakeForTheNextProposal() throws Exception {
    RecordingStateMachine[][] machines = new RecordingStateMachine[3][GROUPS.length];
    NodeRunner[] runners = start(machines, 2); // quiet after 2 election timeouts (400 ms) idle
    try {
      proposeToEachGroup(runners, 0, 5);
      awaitApplied(machines, 5);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long before = sent();
      Thread.sleep(1000);
      // A loaded machine may delay a group's last heartbeats: wait for a silent second.
      while (sent() != before) {
        assertTrue(System.nanoTime() < deadline, "the idle groups never went quiet");
        before = sent();
        Thread.sleep(1000);
      }
      proposeToEachGroup(runners, 5, 10);
      awaitApplied(machines, 10);
    } finally {
      for (NodeRunner r : runners) {
        r.close();
      }
    }
  }

  private long sent() {
    long sent = 0;
    for (TcpTransport t : transports) {
      sent += t.stats().sent();
    }
    return sent;
  }

  private static void proposeToEachGroup(NodeRunner[] runners, int from, int to)
      throws Exception {
    for (long group : GROUPS) {
      NodeRunner leader = null;
      while (leader == null) {
        for (NodeRunner r : runners) {
          if (r.status(group).role() == Role.LEADER) {
            leader = r;
          }
        }
        Thread.sleep(10);
      }
      List<CompletableFuture<byte[]>> futures = new ArrayList<>();
      for (int i = from; i < to; i++) {
        futures.add(leader.propose(group, ("g" + group + "-" + i)
            .getBytes(StandardCharsets.UTF_8)));
      }
      for (CompletableFuture<byte[]> f : futures) {
        f.get(20, TimeUnit.SECONDS);
      }
    }
  }

  private static void awaitApplied(RecordingStateMachine[][] machines, int count)
      throws InterruptedException {
    for (RecordingStateMachine[] node : machines) {
      for (RecordingStateMachine m : node) {
        LocalCluster.await(() -> m.count() >= count, Duration.ofSeconds(20), count + " applied");
      }
    }
  }
}
