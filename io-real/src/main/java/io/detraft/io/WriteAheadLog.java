package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.io.WalRecovery.GroupReplay;
import io.detraft.io.WalRecovery.SegmentInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A write-ahead log shared by any number of Raft groups: their entries, hard states and
 * compaction points go into one sequence of pre-allocated segment files, so one fsync makes a
 * whole batch durable for every group in it (group commit). See {@link WalFormat} for the
 * bytes and {@link WalRecovery} for what happens at open.
 *
 * <p>Writes are buffered until {@link #flush()} or {@link #sync()}; only {@link #sync()} makes
 * them durable. Not thread-safe: one thread (the Raft thread) owns a log. After an
 * {@link IOException} from a write or sync, what reached the disk is unknown: close the log
 * and reopen it, and let recovery decide (retrying an fsync can falsely report success).
 * A record (an entry with its data) may take at most half a segment.
 *
 * <p>Segment files are pre-allocated ({@link Disk#allocate}: zero-filled and synced ahead of
 * need), so an fsync never has to update file-size metadata. A compaction writes a checkpoint
 * (every group's hard state and compaction point) and syncs it before deleting the old
 * segments whose entries are all behind their groups' compaction points; so recovery never
 * needs a deleted segment.
 *
 * <p>All I/O goes through the {@link Disk} it is opened on: the real one in production, the
 * simulator's (with its crash and fault model) under test. This class is part of the node
 * layer: it reads no clock, starts no thread and touches no file but through that disk.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(WriteAheadLog.class.getName());

  /**
   * @param segmentBytes size of each pre-allocated segment file; a record may take at most
   *     half of it
   * @param tail {@link TailRule#CORRECT}, always, but in the simulator's canary tests
   */
  public record Options(int segmentBytes, TailRule tail) {
    public Options {
      if (segmentBytes < 4096 || segmentBytes > (1 << 30)) {
        throw new IllegalArgumentException("segmentBytes must be in [4 KiB, 1 GiB]");
      }
    }

    public Options(int segmentBytes) {
      this(segmentBytes, TailRule.CORRECT);
    }

    public static Options defaults() {
      return new Options(64 << 20);
    }
  }

  /**
   * How recovery treats a damaged last batch. Only {@link #CORRECT} is ever deployed; the
   * others are bugs planted for the simulator's canaries, which must catch them.
   */
  public enum TailRule {
    /** A torn batch is cut off; one that reached the disk whole and was damaged is refused. */
    CORRECT,
    /** Planted: the torn record stays in the log and new records follow it. */
    KEEPS_TORN_TAIL,
    /** Planted: any damage in the last batch is cut off as if torn (acknowledged or not). */
    CUTS_WHOLE_DAMAGED_BATCH
  }

  /** One group's durable state as found at open. Entries follow {@code compactedIndex}. */
  public record RecoveredGroup(
      long group, HardState hardState, long compactedIndex, long compactedTerm,
      List<Entry> entries) {}

  /** Bytes cut off the end of the last segment at open: an unsynced write torn by a crash. */
  public record TornTail(Path file, long offset, long bytes) {}

  /** Per-group bookkeeping, enough to write a checkpoint and to validate calls. */
  private static final class GroupMeta {
    HardState hardState = HardState.EMPTY;
    long compactedIndex;
    long compactedTerm;
    long lastIndex;
  }

  private final Disk disk;
  private final Path dir;
  /** Holds the directory's lock for as long as the log is open. */
  private final AutoCloseable lock;
  /** The disk, when {@link #open(Path, Options)} made it for this log alone; else null. */
  private AutoCloseable ownedDisk;
  private final Options options;
  private final SortedMap<Long, RecoveredGroup> recovered;
  private final TornTail tornTail;
  private final TreeMap<Long, GroupMeta> groups = new TreeMap<>();
  /** Oldest first; the last one is being written. */
  private final ArrayDeque<SegmentInfo> segments = new ArrayDeque<>();
  private final CRC32C crc = new CRC32C();

  private Disk.File channel;
  /** File offset in the current segment where the buffer's first byte goes. */
  private long fileOffset;
  /** Records not yet written to the file. */
  private ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10); // grows for large records
  private long batchSeq;
  /** The next record starts a new fsync batch and must be preceded by a BATCH record. */
  private boolean batchOpen;
  /** Bytes written to the file since the last fsync. */
  private boolean unsynced;
  private boolean closed;

  private WriteAheadLog(Disk disk, Path dir, Options options, WalRecovery recovery,
      AutoCloseable lock) throws IOException {
    this.disk = disk;
    this.dir = dir;
    this.lock = lock;
    this.options = options;
    this.tornTail = recovery.tornTail;
    TreeMap<Long, RecoveredGroup> found = new TreeMap<>();
    for (Map.Entry<Long, GroupReplay> e : recovery.groups.entrySet()) {
      GroupReplay replay = e.getValue();
      found.put(e.getKey(), new RecoveredGroup(e.getKey(), replay.hardState,
          replay.compactedIndex, replay.compactedTerm,
          Collections.unmodifiableList(replay.entries)));
      GroupMeta meta = new GroupMeta();
      meta.hardState = replay.hardState;
      meta.compactedIndex = replay.compactedIndex;
      meta.compactedTerm = replay.compactedTerm;
      meta.lastIndex = replay.lastIndex();
      groups.put(e.getKey(), meta);
    }
    this.recovered = Collections.unmodifiableSortedMap(found);
    this.segments.addAll(recovery.segments);
    this.batchSeq = recovery.lastBatchSeq;
    if (segments.isEmpty()) {
      startSegment(1);
    } else {
      channel = disk.open(segments.getLast().path);
      fileOffset = recovery.tailOffset;
      if (!recovery.lastBatchSealed) {
        // Recovery kept the last batch without an intact END (the crash tore it off, or a bit
        // flipped in it), and the node now acts on what the batch says. Without a seal, damage
        // to the batch found at a later start would pass for a torn write and be cut, losing a
        // vote or entries acted on since. An empty batch vouches for it and for itself.
        reserve(0);
        sync();
      }
    }
  }

  /**
   * Opens the log in {@code dir} (created if absent), recovering what it holds.
   *
   * @throws StorageCorruptionException if a record that may have been acknowledged fails its
   *     checks; the message names the file and offset
   */
  public static WriteAheadLog open(Disk disk, Path dir, Options options) throws IOException {
    disk.createDirectories(dir);
    // Two writers on one log would interleave records: refuse the second one.
    AutoCloseable lock = disk.lock(dir);
    try {
      for (String name : disk.list(dir)) {
        if (name.endsWith(Disk.SPARE_SUFFIX)) {
          disk.delete(dir.resolve(name)); // pre-allocated by a process that crashed
        }
      }
      return new WriteAheadLog(disk, dir, options,
          WalRecovery.run(disk, dir, options.tail()), lock);
    } catch (IOException | RuntimeException e) {
      closeQuietly(lock, e);
      throw e;
    }
  }

  /** Opens the log in {@code dir} on the real file system (a {@link RealDisk} of its own). */
  public static WriteAheadLog open(Path dir, Options options) throws IOException {
    RealDisk disk = new RealDisk();
    try {
      WriteAheadLog wal = open(disk, dir, options);
      wal.ownedDisk = disk;
      return wal;
    } catch (IOException | RuntimeException e) {
      closeQuietly(disk, e);
      throw e;
    }
  }

  private static void closeQuietly(AutoCloseable resource, Exception pending) {
    try {
      resource.close();
    } catch (Exception e) {
      pending.addSuppressed(e);
    }
  }

  /** What each group had durably at open, by group id. */
  public SortedMap<Long, RecoveredGroup> recovered() {
    return recovered;
  }

  /** What was cut off a torn tail at open, if anything. */
  public Optional<TornTail> tornTail() {
    return Optional.ofNullable(tornTail);
  }

  /**
   * Appends contiguous entries of {@code group}; entries stored at their indexes and above are
   * discarded (on recovery too).
   */
  public void append(long group, List<Entry> entries) throws IOException {
    if (entries.isEmpty()) {
      return;
    }
    checkOpen();
    GroupMeta meta = meta(group);
    long first = entries.get(0).index();
    if (first <= meta.compactedIndex || first > meta.lastIndex + 1) {
      throw new IllegalArgumentException("group " + group + ": append at " + first
          + " outside (" + meta.compactedIndex + ", " + (meta.lastIndex + 1) + "]");
    }
    long expected = first;
    for (Entry entry : entries) {
      if (entry.index() != expected++) {
        throw new IllegalArgumentException("entries not contiguous at " + entry.index());
      }
    }
    for (Entry entry : entries) {
      reserve(WalFormat.entryRecordBytes(entry));
      WalFormat.putEntry(buffer, group, entry, crc);
      segments.getLast().maxEntryIndex.merge(group, entry.index(), Math::max);
    }
    meta.lastIndex = entries.get(entries.size() - 1).index();
  }

  /** Records {@code group}'s hard state (term, vote, commit). */
  public void saveHardState(long group, HardState hardState) throws IOException {
    checkOpen();
    reserve(WalFormat.RECORD_HEADER_BYTES + WalFormat.HARD_STATE_BODY_BYTES);
    WalFormat.putHardState(buffer, group, hardState, crc);
    meta(group).hardState = hardState;
  }

  /**
   * Discards {@code group}'s entries up to {@code index} (whose term is {@code term}): the
   * caller has their effect durably elsewhere (a snapshot). Syncs, then deletes every old
   * segment whose entries are all behind their groups' compaction points.
   */
  public void compact(long group, long index, long term) throws IOException {
    checkOpen();
    GroupMeta meta = meta(group);
    if (index <= meta.compactedIndex || index > meta.lastIndex) {
      throw new IllegalArgumentException("group " + group + ": compaction point " + index
          + " outside (" + meta.compactedIndex + ", " + meta.lastIndex + "]");
    }
    meta.compactedIndex = index;
    meta.compactedTerm = term;
    writeCheckpoint(); // includes the new compaction point
    // The checkpoint must be durable before the segments it replaces disappear.
    sync();
    deleteObsoleteSegments();
  }

  /**
   * Discards every entry of {@code group}: its log now continues after {@code index} (whose
   * term is {@code term}), the last entry of a snapshot received from the leader and already
   * saved durably. Like an append, this is durable only after the next {@link #sync()}; entries
   * appended afterwards start at {@code index + 1}.
   */
  public void installSnapshot(long group, long index, long term) throws IOException {
    checkOpen();
    GroupMeta meta = meta(group);
    if (index < meta.compactedIndex) {
      throw new IllegalArgumentException("group " + group + ": snapshot at " + index
          + " is behind the compaction point " + meta.compactedIndex);
    }
    reset(group, index, term);
  }

  /**
   * As {@link #installSnapshot}, but {@code index} may lie behind the group's compaction
   * point: disaster recovery ({@link NodeStorage#importSnapshot}) moves a log back to an older
   * exported snapshot. Recovery replays the RESET record the same way whatever the direction;
   * old segments holding the discarded entries stay until later compaction passes them.
   */
  public void restartGroup(long group, long index, long term) throws IOException {
    checkOpen();
    reset(group, index, term);
  }

  private void reset(long group, long index, long term) throws IOException {
    GroupMeta meta = meta(group);
    reserve(WalFormat.RECORD_HEADER_BYTES + WalFormat.RESET_BODY_BYTES);
    WalFormat.putReset(buffer, group, index, term, crc);
    meta.compactedIndex = index;
    meta.compactedTerm = term;
    meta.lastIndex = index;
  }

  /** Writes buffered records to the file without waiting for the disk. */
  public void flush() throws IOException {
    checkOpen();
    buffer.flip();
    int bytes = buffer.remaining();
    if (bytes > 0) {
      channel.write(buffer, fileOffset);
      fileOffset += bytes;
      unsynced = true;
    }
    buffer.clear();
  }

  /** Makes everything appended so far durable: one write and one fsync for the whole batch. */
  public void sync() throws IOException {
    if (batchOpen) {
      ensureBuffer(WalFormat.END_RECORD_BYTES); // reserve() kept room for it in the segment
      WalFormat.putEnd(buffer, crc);
      batchOpen = false;
    }
    flush();
    if (unsynced) {
      // fdatasync is enough: the file is pre-allocated, so its size never changes.
      channel.force();
      unsynced = false;
    }
  }

  /** Syncs and closes. Idempotent. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      sync();
    } finally {
      closed = true;
      try {
        channel.close();
      } finally {
        try {
          lock.close(); // releases the directory for the next owner
        } catch (Exception e) {
          throw e instanceof IOException io ? io : new IOException(e);
        } finally {
          if (ownedDisk != null) {
            try {
              ownedDisk.close();
            } catch (Exception e) {
              LOG.log(System.Logger.Level.WARNING, "closing the disk failed: " + e, e);
            }
          }
        }
      }
    }
  }

  /** Number of segment files in use (for tests and monitoring). */
  int segmentCount() {
    return segments.size();
  }

  /** The file being written and the offset after its last written record (for tests). */
  Path currentSegment() {
    return segments.getLast().path;
  }

  long writtenOffset() {
    return fileOffset;
  }

  // ------------------------------------------------------------------ internals

  private GroupMeta meta(long group) {
    if (group <= 0) {
      throw new IllegalArgumentException("group must be positive: " + group);
    }
    return groups.computeIfAbsent(group, g -> new GroupMeta());
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("write-ahead log is closed");
    }
  }

  /**
   * Makes room for a record of {@code bytes}: opens a batch if needed, rolls over to a new
   * segment if the record does not fit in this one, grows or drains the buffer.
   */
  private void reserve(int bytes) throws IOException {
    int maxRecord = options.segmentBytes() / 2;
    if (bytes > maxRecord) {
      throw new IllegalArgumentException(
          "record of " + bytes + " bytes exceeds the limit of " + maxRecord);
    }
    int batchBytes = batchOpen ? 0 : WalFormat.RECORD_HEADER_BYTES + WalFormat.BATCH_BODY_BYTES;
    if (fileOffset + buffer.position() + batchBytes + bytes + WalFormat.END_RECORD_BYTES
        > options.segmentBytes()) {
      rollover();
      batchBytes = WalFormat.RECORD_HEADER_BYTES + WalFormat.BATCH_BODY_BYTES;
    }
    ensureBuffer(batchBytes + bytes);
    if (!batchOpen) {
      WalFormat.putBatch(buffer, ++batchSeq, crc);
      batchOpen = true;
    }
  }

  private void ensureBuffer(int bytes) throws IOException {
    if (buffer.remaining() >= bytes) {
      return;
    }
    flush();
    if (buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocateDirect(Integer.highestOneBit(bytes) << 1);
    }
  }

  /**
   * Seals the current segment (synced, so that only the last segment can ever hold a torn
   * write) and continues in a new one; its first record will be a BATCH.
   */
  private void rollover() throws IOException {
    sync();
    batchOpen = false;
    channel.close();
    startSegment(segments.getLast().seq + 1);
  }

  /**
   * Restates every group's hard state and compaction point, all in the current segment. Once
   * synced, no older segment is needed for them any more, only (perhaps) for entries.
   */
  private void writeCheckpoint() throws IOException {
    int bytes = groups.size() * (2 * WalFormat.RECORD_HEADER_BYTES
        + WalFormat.HARD_STATE_BODY_BYTES + WalFormat.COMPACT_BODY_BYTES);
    if (bytes > options.segmentBytes() / 4) {
      throw new IOException("too many groups (" + groups.size() + ") for segments of "
          + options.segmentBytes() + " bytes");
    }
    reserve(bytes); // one reservation: the whole checkpoint lands in one segment
    for (Map.Entry<Long, GroupMeta> e : groups.entrySet()) {
      GroupMeta meta = e.getValue();
      WalFormat.putHardState(buffer, e.getKey(), meta.hardState, crc);
      if (meta.compactedIndex > 0) {
        WalFormat.putCompact(buffer, e.getKey(), meta.compactedIndex, meta.compactedTerm, crc);
      }
    }
  }

  /** Turns a pre-allocated file into segment {@code seq}: header synced, then renamed. */
  private void startSegment(long seq) throws IOException {
    Path spare = disk.allocate(dir, options.segmentBytes());
    Path target = dir.resolve(WalFormat.segmentName(seq));
    try (Disk.File fresh = disk.open(spare)) {
      fresh.write(WalFormat.segmentHeader(seq), 0);
      fresh.force();
    }
    disk.rename(spare, target);
    disk.syncDirectory(dir); // the segment must survive a crash under its name
    channel = disk.open(target);
    fileOffset = WalFormat.SEGMENT_HEADER_BYTES;
    segments.addLast(new SegmentInfo(seq, target));
  }

  /** Deletes segments from the oldest while all their entries are compacted away. */
  private void deleteObsoleteSegments() throws IOException {
    List<Path> deleted = new ArrayList<>();
    while (segments.size() > 1 && obsolete(segments.getFirst())) {
      // Oldest first, so a crash in the middle leaves a contiguous run of segments.
      Path path = segments.removeFirst().path;
      disk.delete(path);
      deleted.add(path);
    }
    if (!deleted.isEmpty()) {
      disk.syncDirectory(dir);
      LOG.log(System.Logger.Level.DEBUG, "WAL deleted {0} compacted segments", deleted.size());
    }
  }

  private boolean obsolete(SegmentInfo segment) {
    for (Map.Entry<Long, Long> e : segment.maxEntryIndex.entrySet()) {
      GroupMeta meta = groups.get(e.getKey());
      if (meta == null || e.getValue() > meta.compactedIndex) {
        return false;
      }
    }
    return true;
  }
}
