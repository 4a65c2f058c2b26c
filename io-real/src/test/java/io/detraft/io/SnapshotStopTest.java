package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Config;
import io.detraft.core.Membership;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot being saved when its group is asked to stop is abandoned at its next block
 * (dragonboat closes a stop channel for this): the stop does not wait for a whole image to be
 * written, and nothing of the abandoned save stays for a restart to read. Driven by hand on the
 * node layer, as the simulator drives it; the stop request arrives in the middle of the file's
 * writes, as it does from another thread on a real node.
 */
class SnapshotStopTest {
  private static final long GROUP = 1;
  /** Several of the snapshot file's blocks ({@link SnapshotFormat#BLOCK_BYTES}). */
  private static final int IMAGE_BYTES = 6 * SnapshotFormat.BLOCK_BYTES;

  @TempDir Path dir;

  /** Counts commands; its image is the count followed by padding, {@link #IMAGE_BYTES} long. */
  static final class CountingStateMachine implements StateMachine {
    long count;

    @Override
    public byte[] apply(long index, byte[] command) {
      count++;
      return new byte[0];
    }

    @Override
    public byte[] snapshot() {
      return ByteBuffer.allocate(IMAGE_BYTES).putLong(count).array();
    }

    @Override
    public void restore(byte[] snapshot) {
      count = ByteBuffer.wrap(snapshot).getLong();
    }
  }

  private Node node;
  private int tempChunks;
  /** The temp-file chunk after which the stop is requested (0: never). */
  private int stopAfterChunk;

  @Test
  void aSnapshotSaveInProgressIsAbandonedWhenItsGroupIsStopping() throws Exception {
    try (RealDisk real = new RealDisk()) {
      Disk disk = watching(real);
      NodeStorage storage = NodeStorage.open(disk, dir, WriteAheadLog.Options.defaults(), 2);
      CountingStateMachine machine = new CountingStateMachine();
      node = Node.recover(1, storage, List.of(spec(machine)),
          new NodeRunner.SnapshotPolicy(0, 0, 2), true, 7, new Node.Observer() {});
      electAndPropose(10);
      long first = node.snapshot(GROUP); // a whole save: the snapshot the restart will use
      int chunksOfAWholeSave = tempChunks;
      assertTrue(chunksOfAWholeSave >= IMAGE_BYTES / SnapshotFormat.BLOCK_BYTES,
          "a whole save wrote " + chunksOfAWholeSave + " chunks");

      propose(10);
      tempChunks = 0;
      stopAfterChunk = 2; // after the header and the first block: the second block is due
      long latest = node.snapshot(GROUP);
      assertEquals(first, latest, "the abandoned snapshot is not the latest");
      assertEquals(1, node.snapshotsAbandoned(GROUP));
      assertEquals(2, tempChunks, "the save gave up at the chunk after the stop request");
      long term = node.status(GROUP).term();
      assertEquals(List.of(String.format("snap-%020d-%020d-%020d.snap", GROUP, first, term)),
          snapshotFiles(real), "only the previous snapshot; no temporary file");

      node.stopGroup(GROUP, "stopped by the test");
      CountingStateMachine fresh = new CountingStateMachine();
      stopAfterChunk = 0;
      node.startGroup(spec(fresh), 8); // from the previous snapshot and the log after it
      runRounds();
      electAndPropose(0);
      assertEquals(20, fresh.count, "restored from the snapshot at " + first + ", then the log");
      propose(5);
      assertTrue(node.snapshot(GROUP) > first, "the restarted replica saves snapshots again");
      assertEquals(0, node.snapshotsAbandoned(GROUP));
      storage.close();
    }
  }

  private List<String> snapshotFiles(RealDisk disk) throws IOException {
    return disk.list(dir.resolve("snapshots")).stream().sorted().toList();
  }

  private static Node.GroupSpec spec(StateMachine machine) {
    return new Node.GroupSpec(Config.defaults(1).withGroup(GROUP).withTimeouts(10, 1),
        Membership.of(1), machine, 0);
  }

  /** Ticks until this lone voter leads, then proposes {@code commands} and applies them. */
  private void electAndPropose(int commands) throws IOException {
    for (int tick = 0; tick < 100 && node.status(GROUP).role() != Role.LEADER; tick++) {
      node.tick(tick);
      runRounds();
    }
    assertEquals(Role.LEADER, node.status(GROUP).role());
    propose(commands);
  }

  private void propose(int commands) throws IOException {
    for (int i = 0; i < commands; i++) {
      CompletableFuture<byte[]> applied = new CompletableFuture<>();
      node.propose(GROUP, new byte[] {1}, applied, Long.MAX_VALUE);
      runRounds();
      assertTrue(applied.isDone() && !applied.isCompletedExceptionally());
    }
  }

  private void runRounds() throws IOException {
    while (node.hasReady()) {
      Node.Round round = node.persist();
      if (round.mustSync()) {
        node.sync();
      }
      node.finish(round);
    }
  }

  /** {@code real}, counting the writes to temporary snapshot files and requesting the stop. */
  private Disk watching(Disk real) {
    return (Disk) Proxy.newProxyInstance(Disk.class.getClassLoader(), new Class<?>[] {Disk.class},
        (proxy, method, args) -> {
          Object result = invoke(real, method, args);
          if (method.getName().equals("open")
              && ((Path) args[0]).getFileName().toString().endsWith(".snap.tmp")) {
            Disk.File file = (Disk.File) result;
            return Proxy.newProxyInstance(Disk.class.getClassLoader(),
                new Class<?>[] {Disk.File.class}, (p, m, a) -> {
                  Object r = invoke(file, m, a);
                  if (m.getName().equals("write") && ++tempChunks == stopAfterChunk) {
                    node.requestStop(GROUP); // as NodeRunner.stopGroup does from its caller
                  }
                  return r;
                });
          }
          return result;
        });
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
