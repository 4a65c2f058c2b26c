package io.detraft.io;

import io.detraft.core.HardState;
import io.detraft.core.LogStorage;
import io.detraft.core.Membership;
import io.detraft.core.MemoryLogStorage;
import io.detraft.core.Ready;
import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotChunk;
import io.detraft.core.SnapshotSink;
import io.detraft.core.SnapshotSource;
import io.detraft.core.UnsafeRecovery;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One node's durable state for all of its groups: the {@link WriteAheadLog} they share, the
 * {@link SnapshotStore}, and each group's log image ({@link GroupLog}, what the core reads).
 * Recovery, the persist step of the Ready contract, and snapshot-then-compact are written here
 * once, and both worlds run this code: the threaded runner on a {@link RealDisk}, the
 * simulator on its own disk with crashes and storage faults. It reads no clock and starts no
 * thread; all I/O goes through the {@link Disk}.
 *
 * <p>Writes are buffered until {@link #flush()} (handed to the disk, not durable) or {@link
 * #sync()} (durable). After an {@link IOException} the node must stop: what reached the disk
 * is unknown, and only a restart's recovery may decide.
 */
public final class NodeStorage implements AutoCloseable {
  /**
   * A group as recovery found it.
   *
   * @param log what the core reads (hand it to {@code RaftHost#addGroup})
   * @param snapshot the newest snapshot (empty if none)
   * @param appliedIndex where applying resumes: the caller's applied index, or the snapshot's
   *     index when the state machine must first be restored from {@code snapshot}
   * @param restore whether the state machine must be restored from {@code snapshot}
   * @param commitRaised whether the state machine had applied past the commit index the log
   *     recorded durably (the commit index is written lazily), so recovery raised it
   */
  public record RecoveredGroup(LogStorage log, Snapshot snapshot, long appliedIndex,
      boolean restore, boolean commitRaised) {}

  private final WriteAheadLog wal;
  private final SnapshotStore snapshots;
  private final TreeMap<Long, GroupLog> logs = new TreeMap<>();
  /**
   * Groups whose replica was stopped ({@link #detach}): their log image stays, in step with the
   * WAL (which still holds their records), for the replica's restart.
   */
  private final TreeSet<Long> detached = new TreeSet<>();
  /**
   * Per group, the snapshot being received from its leader ({@link Ready#snapshotChunks}),
   * written to a temporary file as chunks arrive. In memory only: a crash loses the install
   * (the store deletes the temporary file when it opens) and the leader starts it over.
   */
  private final TreeMap<Long, SnapshotWriter> receiving = new TreeMap<>();
  /**
   * A snapshot file that failed while the core read chunks of it for a follower (inside a
   * step, which cannot throw it): the next {@link #persist} throws it, so the node stops.
   */
  private IOException chunkFailure;

  private NodeStorage(WriteAheadLog wal, SnapshotStore snapshots) {
    this.wal = wal;
    this.snapshots = snapshots;
  }

  /**
   * Opens the WAL in {@code dataDir} and the snapshots in {@code dataDir/snapshots} on {@code
   * disk}, recovering what they hold.
   *
   * @throws StorageCorruptionException if a record or the newest snapshot of a group holds
   *     damage a crash cannot explain; the message names the file and offset
   */
  public static NodeStorage open(Disk disk, Path dataDir, WriteAheadLog.Options walOptions,
      int snapshotFilesKept) throws IOException {
    WriteAheadLog wal = WriteAheadLog.open(disk, dataDir, walOptions);
    try {
      return new NodeStorage(wal,
          new SnapshotStore(disk, dataDir.resolve("snapshots"), snapshotFilesKept));
    } catch (IOException | RuntimeException e) {
      wal.close();
      throw e;
    }
  }

  /**
   * Rebuilds group {@code group}'s log from its newest snapshot and the WAL. {@code
   * appliedIndex} is what the caller's state machine already reflects (0 for one kept in
   * memory). Whatever the WAL must record to match (a snapshot install a crash cut short, a
   * commit index behind what a persistent state machine applied) is written, not synced: call
   * {@link #sync()} before the node speaks.
   */
  public RecoveredGroup recover(long group, Membership bootstrap, long appliedIndex)
      throws IOException {
    GroupLog log = logs.get(group);
    Snapshot snapshot;
    if (log != null) {
      if (!detached.remove(group)) {
        throw new IllegalStateException("group " + group + " recovered twice");
      }
      // A replica stopped while the node ran: its image is what the WAL holds since (the WAL
      // was opened before, so its recovered records are older than this image).
      snapshot = log.snapshot();
    } else {
      snapshot = snapshots.latest(group).orElse(Snapshot.empty(bootstrap));
      log = GroupLog.recover(bootstrap, wal.recovered().get(group), snapshot);
      log.serveChunksFrom((s, offset, maxBytes) -> {
        try {
          return snapshots.chunk(group, s, offset, maxBytes);
        } catch (IOException e) {
          chunkFailure = chunkFailure != null ? chunkFailure : e;
          return null; // nothing is sent; the node stops at its next persist
        }
      });
      if (log.needsReset()) {
        // The snapshot from the leader was saved, but the crash came before its WAL record.
        wal.installSnapshot(group, snapshot.index(), snapshot.term());
        wal.saveHardState(group, log.hardState());
      }
    }
    boolean restore = appliedIndex < snapshot.index();
    boolean commitRaised = false;
    if (restore) {
      appliedIndex = snapshot.index();
    } else if (appliedIndex > log.hardState().commit()) {
      // A state machine that keeps its own state may have applied entries whose commit
      // index was not yet durable (it is written lazily, with the next sync). Only committed
      // entries are ever applied, and a committed entry never leaves a log, so everything up
      // to the applied index is committed: say so, and apply only what comes after it.
      if (appliedIndex > log.lastIndex()) {
        throw new IllegalStateException("group " + group + ": the state machine applied"
            + " up to index " + appliedIndex + ", but the log ends at " + log.lastIndex()
            + " (a write-ahead log from another node or an older copy?)");
      }
      HardState hs = log.hardState();
      HardState raised = new HardState(hs.term(), hs.vote(), appliedIndex);
      log.setHardState(raised);
      wal.saveHardState(group, raised);
      commitRaised = true;
    }
    logs.put(group, log);
    return new RecoveredGroup(log, snapshot, appliedIndex, restore, commitRaised);
  }

  /**
   * Step 2 of the Ready contract for {@code group}: a snapshot from the leader is saved
   * (durably, at once) and replaces the log; entries and hard state go to the WAL's buffer,
   * made durable by the next {@link #sync()}. The order matters: the snapshot file exists
   * before the WAL says the log starts after it, and a crash that keeps a prefix of the
   * records never keeps a commit index without its entries.
   */
  public void persist(long group, Ready ready) throws IOException {
    checkChunkReads();
    GroupLog log = groupLog(group);
    Snapshot snapshot = ready.snapshot();
    Snapshot saved = null;
    for (SnapshotChunk chunk : ready.snapshotChunks()) {
      receive(group, chunk);
      if (chunk.done()) {
        // Ended here, not after the loop: the same Ready may start the next install (seed
        // 9000000000000001206), whose receive must survive.
        if (snapshot != null && !snapshot.hasData() && snapshot.index() == chunk.index()
            && snapshot.term() == chunk.term()) {
          saved = finishReceive(group, snapshot);
        } else {
          abandonReceive(group); // the follower's log already held its last entry: kept
        }
      }
    }
    if (snapshot != null) {
      if (snapshot.hasData()) {
        snapshots.save(group, snapshot);
        saved = snapshot.withoutData();
      } else if (saved == null) {
        saved = finishReceive(group, snapshot); // fails: it was not received whole
      }
      wal.installSnapshot(group, saved.index(), saved.term());
      log.installSnapshot(saved);
    }
    if (!ready.entries().isEmpty()) {
      wal.append(group, ready.entries());
      log.append(ready.entries());
    }
    if (ready.hardState() != null) {
      wal.saveHardState(group, ready.hardState());
      log.setHardState(ready.hardState());
    }
  }

  /**
   * The replica of {@code group} stopped: nothing is written for it until {@link #recover}
   * resumes it from its log image. Its records stay in the WAL and its snapshots on disk.
   */
  public void detach(long group) {
    groupLog(group);
    try {
      abandonReceive(group);
    } catch (IOException e) {
      // Its temporary file stays until the store next opens (which deletes such leftovers).
    }
    detached.add(group);
  }

  /** Writes one chunk of a snapshot from the leader to its receive file. */
  private void receive(long group, SnapshotChunk chunk) throws IOException {
    SnapshotWriter writer = receiving.get(group);
    if (chunk.offset() == 0) {
      abandonReceive(group); // an install starts (over)
      writer = snapshots.create(group, chunk.index(), chunk.term(), chunk.membership());
      receiving.put(group, writer);
    } else if (writer == null || writer.index() != chunk.index()
        || writer.term() != chunk.term() || writer.sizeBytes() != chunk.offset()) {
      throw new IllegalStateException("group " + group + ": snapshot chunk at " + chunk.offset()
          + " of " + chunk.index() + "@" + chunk.term() + " does not continue what was received");
    }
    writer.write(chunk.bytes());
  }

  /** The received snapshot {@code snapshot} is complete: its file is made durable. */
  private Snapshot finishReceive(long group, Snapshot snapshot) throws IOException {
    SnapshotWriter writer = receiving.remove(group);
    if (writer == null || writer.index() != snapshot.index() || writer.term() != snapshot.term()
        || writer.sizeBytes() != snapshot.sizeBytes()) {
      throw new IllegalStateException("group " + group + ": installing " + snapshot
          + ", which was not received whole");
    }
    return writer.finish();
  }

  private void abandonReceive(long group) throws IOException {
    SnapshotWriter writer = receiving.remove(group);
    if (writer != null) {
      writer.close();
    }
  }

  /** Whether reading a snapshot for a follower failed: the node must stop ({@link #persist}). */
  public boolean failed() {
    return chunkFailure != null;
  }

  /** Throws what reading a snapshot for a follower failed with, if it did. */
  public void checkChunkReads() throws IOException {
    if (chunkFailure != null) {
      throw chunkFailure;
    }
  }

  /** Hands what {@link #persist} buffered to the disk, without waiting for it. */
  public void flush() throws IOException {
    wal.flush();
  }

  /** Makes everything persisted so far durable, for every group: one fsync. */
  public void sync() throws IOException {
    wal.sync();
  }

  /**
   * Saves a snapshot of {@code group}'s own state machine at applied index {@code index},
   * streaming {@code image} to its file durably, then compacts the log up to {@code compactTo}
   * (at most the snapshot's index; entries kept behind it let lagging followers catch up from
   * the log). Syncs the WAL. Abandoned, with nothing saved or compacted, if {@code
   * stopRequested} turns true while the file is written (it is asked before every block and
   * before the rename).
   *
   * @throws SnapshotAbandonedException if abandoned
   */
  public Snapshot saveSnapshot(long group, long index, Membership membership,
      Consumer<SnapshotSink> image, long compactTo, BooleanSupplier stopRequested)
      throws IOException {
    GroupLog log = groupLog(group);
    if (compactTo > index) {
      throw new IllegalArgumentException("compaction point " + compactTo
          + " beyond the snapshot at " + index);
    }
    Snapshot taken;
    try (SnapshotWriter writer = snapshots.create(group, index, log.term(index), membership)
        .stoppedBy(stopRequested)) {
      try {
        image.accept(writer);
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      }
      taken = writer.finish();
    }
    log.setSnapshot(taken);
    if (compactTo > log.compactedIndex()) {
      wal.compact(group, compactTo, log.term(compactTo)); // syncs the WAL
      log.compact(compactTo);
    }
    return taken;
  }

  /**
   * Opens the image of {@code group}'s snapshot {@code snapshot} (one this storage holds) for
   * a state machine's restore; the caller closes it.
   */
  public SnapshotReader openSnapshot(long group, Snapshot snapshot) throws IOException {
    return snapshots.open(new SnapshotStore.SnapshotId(group, snapshot.index(),
        snapshot.term()));
  }

  /**
   * Opens the file of {@code group}'s latest snapshot as it lies in the store (format 3:
   * header, checksummed blocks, trailer), for a disaster recovery export that copies it out
   * byte for byte; null if the group has no snapshot. The caller closes it. The open file stays
   * readable if a newer snapshot prunes it meanwhile (POSIX keeps an unlinked open file).
   */
  public StoredSnapshotFile openLatestSnapshotFile(long group) throws IOException {
    Snapshot latest = groupLog(group).snapshot();
    if (latest.isEmpty()) {
      return null;
    }
    Path name = snapshots.file(new SnapshotStore.SnapshotId(group, latest.index(), latest.term()));
    return new StoredSnapshotFile(latest.withoutData(), name, snapshots.openRaw(name));
  }

  /**
   * A snapshot file of the store opened for copying out: its metadata, its name and the open
   * file (read it with {@link Disk.File#read}; its size is {@link Disk.File#size}).
   */
  public record StoredSnapshotFile(Snapshot snapshot, Path name, Disk.File file)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      file.close();
    }
  }

  /**
   * Disaster recovery for a group that lost its quorum for good (see core's {@link
   * UnsafeRecovery}, whose rules apply): replaces {@code group}'s whole log on this node with
   * {@code exported}, relabelled with {@code newMembership}, at a term above every term this
   * node's log saw for the group. Entries after the snapshot are discarded (lossy by design),
   * even if the log went further. Call it on storage that has not recovered {@code group}
   * (the node is stopped); every member of {@code newMembership} must import the same
   * snapshot before any of them starts.
   *
   * <p>Not atomic: a crash in the middle may leave a mix of the old and the new state (the
   * WAL compacted past the newest snapshot, or the new snapshot before the old log), which
   * this class cannot tell from a normal state. The caller records that an import is under
   * way and repeats it before the node starts (kv-app's import leaves a marker file); the
   * repeated import repairs every such mix ({@code ImportCrashTest} in sim crashes the disk
   * at each operation). Returns the snapshot as this node now holds it (metadata only).
   *
   * <p>The image streams from {@code image} into a new file of the snapshot store, block by
   * block; it is never whole in memory.
   *
   * @param exported the exported snapshot's index, term, membership and image size
   * @param image its image, read once from the start; its read errors (unchecked) propagate
   */
  public Snapshot importSnapshot(long group, Snapshot exported, SnapshotSource image,
      Membership newMembership) throws IOException {
    return importSnapshot(group, exported, image, newMembership, 0);
  }

  /**
   * As {@link #importSnapshot(long, Snapshot, SnapshotSource, Membership)}, at a term above
   * {@code minTerm} too: a node whose disk was replaced has no log to say which terms the group
   * used, and the rebuilt group should not reuse them (the simulator's oracles, and anything
   * that keys on terms, would take the new leaders for old ones).
   */
  public Snapshot importSnapshot(long group, Snapshot exported, SnapshotSource image,
      Membership newMembership, long minTerm) throws IOException {
    if (image.sizeBytes() != exported.sizeBytes()) {
      throw new IllegalArgumentException("an image of " + image.sizeBytes() + " bytes for a"
          + " snapshot of " + exported.sizeBytes());
    }
    if (logs.containsKey(group)) {
      throw new IllegalStateException("group " + group + " is running on this storage");
    }
    long highestTerm = Math.max(exported.term(), minTerm);
    WriteAheadLog.RecoveredGroup old = wal.recovered().get(group);
    if (old != null) {
      highestTerm = Math.max(highestTerm, Math.max(old.hardState().term(), old.compactedTerm()));
      for (io.detraft.core.Entry e : old.entries()) {
        highestTerm = Math.max(highestTerm, e.term());
      }
    }
    for (SnapshotStore.SnapshotId id : snapshots.list(group)) {
      highestTerm = Math.max(highestTerm, id.term());
    }
    // UnsafeRecovery checks the rules and says the hard state; the image is not its business.
    MemoryLogStorage rebuilt = UnsafeRecovery.rebuild(exported.withoutData(), newMembership,
        highestTerm + 1);
    Snapshot relabelled = Snapshot.metadata(exported.index(), exported.term(), newMembership,
        exported.sizeBytes());
    // Newer snapshot files would win over the import at the next start: they go first. The
    // store prunes older ones itself.
    for (SnapshotStore.SnapshotId id : snapshots.list(group)) {
      if (id.index() >= relabelled.index()) {
        snapshots.delete(id);
      }
    }
    try (SnapshotWriter writer = snapshots.create(group, relabelled.index(), relabelled.term(),
        newMembership)) {
      byte[] piece = new byte[SnapshotFormat.BLOCK_BYTES];
      long copied = 0;
      for (int n; (n = image.read(piece, 0, piece.length)) > 0; copied += n) {
        writer.write(piece, 0, n);
      }
      if (copied != relabelled.sizeBytes()) {
        throw new IOException("the exported image ended after " + copied + " of "
            + relabelled.sizeBytes() + " bytes");
      }
      writer.finish();
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause(); // a write error of the writer, or a read error of the image
    }
    wal.restartGroup(group, relabelled.index(), relabelled.term());
    wal.saveHardState(group, rebuilt.hardState());
    wal.sync();
    return relabelled;
  }

  /** Group {@code group}'s log image, as the core reads it. */
  public LogStorage log(long group) {
    return groupLog(group);
  }

  /** What was cut off a torn WAL tail at open, if anything. */
  public Optional<WriteAheadLog.TornTail> tornTail() {
    return wal.tornTail();
  }

  /** Syncs and closes the WAL. */
  @Override
  public void close() throws IOException {
    for (SnapshotWriter writer : receiving.values()) {
      writer.close();
    }
    receiving.clear();
    wal.close();
  }

  private GroupLog groupLog(long group) {
    GroupLog log = logs.get(group);
    if (log == null) {
      throw new IllegalArgumentException("group " + group + " was not recovered");
    }
    if (detached.contains(group)) {
      throw new IllegalStateException("group " + group + " is stopped on this node");
    }
    return log;
  }
}
