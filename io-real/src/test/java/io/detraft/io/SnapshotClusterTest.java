package io.detraft.io;

import static io.detraft.io.ClusterTest.awaitSameHistory;
import static io.detraft.io.ClusterTest.proposeAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.Snapshot;
import io.detraft.io.SnapshotStore.SnapshotId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots and log compaction on three real nodes: catch-up, restart, corruption. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SnapshotClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** A snapshot every 20 entries, 5 kept behind it. */
  private static final NodeRunner.SnapshotPolicy OFTEN = new NodeRunner.SnapshotPolicy(20, 5, 2);

  @TempDir Path dir;

  @Test
  void aRestartedFollowerCatchesUpBySnapshotAfterTheLeaderCompactedPastIt() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10), OFTEN)) {
      long leader = cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 10);
      awaitSameHistory(cluster, 10);
      long follower = leader == 1 ? 2 : 1;
      cluster.stop(follower);

      proposeAll(cluster, 10, 100); // the leader snapshots and compacts past the follower
      long current = cluster.awaitLeader(WAIT);
      // Taken right after the Ready that applied the last command, so maybe just after it.
      LocalCluster.await(() -> cluster.runner(current).snapshotsTaken(LocalCluster.GROUP) >= 1,
          WAIT, "the leader to take its snapshots");
      try (WriteAheadLog wal = openWalOf(cluster, follower)) {
        assertTrue(wal.recovered().get(LocalCluster.GROUP).entries().size() < 20,
            "the follower stopped early");
      }

      cluster.restart(follower); // replays its short log, then needs the leader's snapshot
      proposeAll(cluster, 100, 105);
      awaitSameHistory(cluster, 105);
      assertEquals(1, cluster.runner(follower).snapshotsInstalled(LocalCluster.GROUP));
      assertEquals(1, cluster.machine(follower).restores());
      assertEquals(cluster.machine(current).applied(), cluster.machine(follower).applied());
    }
  }

  @Test
  void everyNodeRestartsFromItsSnapshotAndTheLogAfterIt() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10), OFTEN)) {
      cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 55);
      awaitSameHistory(cluster, 55);
      long[] snapshotIndex = new long[4];
      for (long id = 1; id <= 3; id++) {
        cluster.stop(id);
        List<SnapshotId> snapshots = snapshotStore(cluster, id).list(LocalCluster.GROUP);
        assertTrue(!snapshots.isEmpty() && snapshots.size() <= OFTEN.filesKept(),
            snapshots.toString());
        snapshotIndex[(int) id] = snapshots.get(0).index();
        try (WriteAheadLog wal = openWalOf(cluster, id)) {
          long compacted = wal.recovered().get(LocalCluster.GROUP).compactedIndex();
          assertEquals(snapshotIndex[(int) id] - OFTEN.trailingEntries(), compacted);
        }
      }
      for (long id = 1; id <= 3; id++) {
        cluster.restart(id);
      }
      for (long id = 1; id <= 3; id++) {
        LocalCluster.RecordingStateMachine machine = cluster.machine(id);
        assertEquals(1, machine.restores(), "node " + id + " restores its snapshot");
        long firstApplied = machine.firstAppliedIndex();
        assertTrue(firstApplied == 0 || firstApplied > snapshotIndex[(int) id],
            "node " + id + " replayed entry " + firstApplied + ", covered by its snapshot at "
                + snapshotIndex[(int) id]);
      }
      cluster.awaitLeader(WAIT);
      proposeAll(cluster, 55, 60);
      awaitSameHistory(cluster, 60);
      for (int i = 0; i < 60; i++) {
        assertEquals("cmd-" + i, cluster.machine(1).applied().get(i));
      }
    }
  }

  @Test
  void aCorruptSnapshotRefusesToStartNamingTheFile() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, Duration.ofMillis(10), OFTEN)) {
      long leader = cluster.awaitLeader(WAIT);
      proposeAll(cluster, 0, 30);
      awaitSameHistory(cluster, 30);
      long follower = leader == 1 ? 2 : 1;
      cluster.stop(follower);
      SnapshotStore store = snapshotStore(cluster, follower);
      Path file = store.file(store.list(LocalCluster.GROUP).get(0));
      WriteAheadLogTest.flip(file, Files.size(file) / 2);

      var error = assertThrows(StorageCorruptionException.class, () -> cluster.restart(follower));
      assertEquals(file, error.file());
      assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
      // The others carry on without it.
      proposeAll(cluster, 30, 35);
    }
  }

  @Test
  void aReceivedSnapshotSavedJustBeforeACrashIsNotUndoneByTheOlderLog() throws Exception {
    Path data = dir.resolve("solo");
    WriteAheadLog.Options walOptions = new WriteAheadLog.Options(1 << 20);
    // What a crash leaves between saving a snapshot from the leader and syncing the WAL batch
    // that records its install (and the leader's newer term): the old log, and the file.
    try (WriteAheadLog wal = WriteAheadLog.open(data, walOptions)) {
      wal.append(LocalCluster.GROUP, WriteAheadLogTest.entries(1, 10, 1, 4));
      wal.saveHardState(LocalCluster.GROUP, new HardState(1, 1, 10));
    }
    LocalCluster.RecordingStateMachine image = new LocalCluster.RecordingStateMachine();
    image.apply(1, "a".getBytes(StandardCharsets.UTF_8));
    image.apply(2, "b".getBytes(StandardCharsets.UTF_8));
    new SnapshotStore(data.resolve("snapshots"), 2).save(LocalCluster.GROUP,
        new Snapshot(50, 3, Membership.of(1), image.snapshot()));

    LocalCluster.RecordingStateMachine machine = new LocalCluster.RecordingStateMachine();
    try (NodeRunner solo = startSolo(data, machine)) {
      assertEquals(List.of("a", "b"), machine.applied(), "restored, the old entries unused");
      assertEquals(3, solo.status(LocalCluster.GROUP).term());
      LocalCluster.await(() -> solo.status(LocalCluster.GROUP).role() == Role.LEADER, WAIT,
          "the single voter to lead");
      String answer = new String(solo.propose("c".getBytes(StandardCharsets.UTF_8))
          .get(WAIT.toSeconds(), TimeUnit.SECONDS), StandardCharsets.UTF_8);
      assertTrue(Long.parseLong(answer.substring(3)) > 50, answer);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(data, walOptions)) {
      assertEquals(50, wal.recovered().get(LocalCluster.GROUP).compactedIndex());
    }
    LocalCluster.RecordingStateMachine again = new LocalCluster.RecordingStateMachine();
    try (NodeRunner solo = startSolo(data, again)) {
      LocalCluster.await(() -> again.count() == 3, WAIT, "the restart to apply c");
      assertEquals(List.of("a", "b", "c"), again.applied());
    }
  }

  private static NodeRunner startSolo(Path data, LocalCluster.RecordingStateMachine machine)
      throws Exception {
    NodeRunner.Options options = NodeRunner.Options.defaults(1, data)
        .withStorage(new WriteAheadLog.Options(1 << 20), 1 << 18)
        .withSnapshots(OFTEN);
    return NodeRunner.start(options, TcpTransport.bind(TcpTransport.Options.defaults("solo", 1)),
        List.of(NodeRunner.Group.of(LocalCluster.GROUP, Membership.of(1), machine)));
  }

  private static SnapshotStore snapshotStore(LocalCluster cluster, long id) throws Exception {
    return new SnapshotStore(cluster.dataDir(id).resolve("snapshots"), OFTEN.filesKept());
  }

  private static WriteAheadLog openWalOf(LocalCluster cluster, long id) throws Exception {
    return WriteAheadLog.open(cluster.dataDir(id), new WriteAheadLog.Options(1 << 20));
  }
}
