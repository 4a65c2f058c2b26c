package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Reads every segment of a WAL directory in order and replays its records into per-group
 * state. Decides, for the first record that does not verify, between the two things it can
 * be:
 *
 * <ul>
 *   <li>a <b>torn tail</b>: the last fsync batch of the last segment, cut short by a crash.
 *       Nothing in it was acknowledged (acknowledgements wait for the fsync), so it is cut off
 *       and reported;
 *   <li><b>corruption</b>: anything else, in particular damage followed by a later batch, or
 *       damage in a segment that was synced before the next one began. Recovery refuses.
 * </ul>
 *
 * <p>The last batch has no later batch to vouch for it; its END record does instead
 * ({@link WalFormat}). Without the end marker, or with a sector of the damaged record still
 * all zeros (a disk may persist a write's sectors in any order), the write was torn by a crash
 * and nothing in it was acknowledged: it is cut. Other damage before an intact end marker (a
 * flipped bit, garbage) means the batch reached the disk whole and may have been
 * acknowledged: recovery refuses rather than cut it.
 *
 * <p>Only bytes that two reads agree on are judged: a read that flips a bit on its way from
 * the disk starts recovery over.
 */
final class WalRecovery {
  private static final System.Logger LOG = System.getLogger(WalRecovery.class.getName());

  /** Per-group state rebuilt from the records, in record order. */
  static final class GroupReplay {
    HardState hardState = HardState.EMPTY;
    long compactedIndex;
    long compactedTerm;
    /** entries.get(i) has index compactedIndex + 1 + i. */
    final ArrayList<Entry> entries = new ArrayList<>();
    /** Whether an entry of this group has been read yet. */
    boolean sawEntry;
    /**
     * The compaction point was inferred from the first entry read, because the segments
     * before it were deleted; a COMPACT record later in the log must confirm it.
     */
    boolean inferredBase;

    long lastIndex() {
      return compactedIndex + entries.size();
    }
  }

  /** A segment file and, per group, the highest entry index it holds (for deletion). */
  static final class SegmentInfo {
    final long seq;
    final Path path;
    final Map<Long, Long> maxEntryIndex = new HashMap<>();

    SegmentInfo(long seq, Path path) {
      this.seq = seq;
      this.path = path;
    }
  }

  final List<SegmentInfo> segments = new ArrayList<>();
  final TreeMap<Long, GroupReplay> groups = new TreeMap<>();
  /** Sequence of the last BATCH record read; 0 if none. */
  long lastBatchSeq;
  /**
   * Whether the last record kept is an intact END: the last batch is then vouched for. If not
   * (its end was torn off, or damaged and passed over), {@link WriteAheadLog} seals it at open.
   */
  boolean lastBatchSealed = true;
  /** Whether older segments were deleted (the first one left is not segment 1). */
  private boolean prefixDeleted;
  /** Where the next record goes in the last segment. */
  int tailOffset;
  /** What was cut off the last segment, or null. */
  WriteAheadLog.TornTail tornTail;

  private final CRC32C crc = new CRC32C();
  private final Disk disk;

  private final WriteAheadLog.TailRule tailRule;

  private WalRecovery(Disk disk, WriteAheadLog.TailRule tailRule) {
    this.disk = disk;
    this.tailRule = tailRule;
  }

  /** Replays the segments in {@code dir}; an empty result if there are none. */
  static WalRecovery run(Disk disk, Path dir) throws IOException {
    return run(disk, dir, WriteAheadLog.TailRule.CORRECT);
  }

  /**
   * A segment read twice gave different bytes: a transient read error (a flipped bit on the
   * way from the disk), which must not be mistaken for damage at rest.
   */
  private static final class ReadsDisagree extends IOException {
    ReadsDisagree(Path file) {
      super("two reads of " + file + " returned different bytes");
    }
  }

  /** How often recovery starts over after reads that disagreed before it gives up. */
  private static final int READ_ATTEMPTS = 3;

  /**
   * Replays with {@code tailRule} (anything but CORRECT plants a bug, for a canary). Damage is
   * judged only on bytes that two reads agree on; otherwise recovery starts over.
   */
  static WalRecovery run(Disk disk, Path dir, WriteAheadLog.TailRule tailRule)
      throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return runOnce(disk, dir, tailRule);
      } catch (ReadsDisagree e) {
        LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; reading the WAL again");
        if (attempt == READ_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private static WalRecovery runOnce(Disk disk, Path dir, WriteAheadLog.TailRule tailRule)
      throws IOException {
    WalRecovery recovery = new WalRecovery(disk, tailRule);
    List<Path> files = segmentFiles(disk, dir);
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      long seq = WalFormat.segmentSeq(file.getFileName().toString());
      if (i > 0 && seq != recovery.segments.get(i - 1).seq + 1) {
        throw new StorageCorruptionException(file, 0,
            "segment " + (recovery.segments.get(i - 1).seq + 1) + " is missing");
      }
      recovery.prefixDeleted |= i == 0 && seq != 1;
      recovery.readSegment(file, seq, i == files.size() - 1);
    }
    recovery.checkGroups();
    return recovery;
  }

  static List<Path> segmentFiles(Disk disk, Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String name : disk.list(dir)) { // sorted: segment names are zero-padded
      if (WalFormat.segmentSeq(name) >= 0) {
        files.add(dir.resolve(name));
      }
    }
    return files;
  }

  private void readSegment(Path file, long seq, boolean last) throws IOException {
    ByteBuffer buf = readFully(file);
    String headerProblem = WalFormat.checkSegmentHeader(buf, seq);
    if (headerProblem != null) {
      confirm(file, buf);
      throw new StorageCorruptionException(file, 0, headerProblem);
    }
    SegmentInfo segment = new SegmentInfo(seq, file);
    segments.add(segment);
    int pos = WalFormat.SEGMENT_HEADER_BYTES;
    boolean first = true;
    while (true) {
      int size = WalFormat.validRecordAt(buf, pos, crc);
      if (size == 0) {
        size = first ? 0 : damagedEndAt(buf, pos, file);
        if (size == 0) {
          break;
        }
        lastBatchSealed = false; // a damaged marker vouches for nothing the next time
        pos += size;
        continue;
      }
      if (first && WalFormat.type(buf, pos) != WalFormat.BATCH) {
        throw new StorageCorruptionException(file, pos, "segment does not start with a batch");
      }
      first = false;
      apply(buf, pos, size, segment, file);
      pos += size;
    }
    int damageEnd = WalFormat.endOfNonZero(buf, pos);
    if (damageEnd == pos) {
      tailOffset = pos; // Clean end: the rest is pre-allocated zeros.
      return;
    }
    confirm(file, buf);
    int later = WalFormat.findBatch(buf, pos, lastBatchSeq, crc);
    if (later >= 0) {
      throw new StorageCorruptionException(file, pos,
          "record fails its checksum, but batch written after it was synced starts at offset "
              + later);
    }
    if (!last) {
      throw new StorageCorruptionException(file, pos,
          "record fails its checksum in a segment that was synced before the next one began");
    }
    if (WalFormat.endMarkerBefore(buf, pos, damageEnd)
        && !WalFormat.staleSectorIn(buf, pos, WalFormat.recordEnd(buf, pos, damageEnd))
        && tailRule != WriteAheadLog.TailRule.CUTS_WHOLE_DAMAGED_BATCH) {
      throw new StorageCorruptionException(file, pos, "record fails its checksum in the last"
          + " batch, which reached the disk whole (its end marker is intact, and no sector of"
          + " the record is missing): it may have been acknowledged, so it is not cut off as a"
          + " torn write");
    }
    // The batch never reached the disk whole: its end is missing, or (sectors may land out of
    // order) a sector of the damaged record still holds the zeros it was pre-allocated with.
    // A write torn by a crash: nothing of it was acknowledged.
    tornTail = new WriteAheadLog.TornTail(file, pos, damageEnd - pos);
    tailOffset = pos;
    if (tailRule == WriteAheadLog.TailRule.KEEPS_TORN_TAIL) {
      tailOffset = damageEnd; // the planted bug: the torn record stays, new ones follow it
      return;
    }
    LOG.log(System.Logger.Level.WARNING, "WAL torn tail: cutting " + tornTail.bytes()
        + " bytes at offset " + tornTail.offset() + " of " + file
        + " (a write torn by a crash before its fsync; nothing in it was acknowledged)");
    zeroRange(file, pos, damageEnd);
  }

  /**
   * The size of an END record at {@code pos} that a flipped bit or two damaged, if that is
   * what it is (every record before it verified, and a valid record or nothing follows): the
   * batch it closes is intact, so it is passed over. 0 otherwise.
   */
  private int damagedEndAt(ByteBuffer buf, int pos, Path file) {
    int next = pos + WalFormat.END_RECORD_BYTES;
    if (!WalFormat.looksLikeEnd(buf, pos)
        || (WalFormat.validRecordAt(buf, next, crc) == 0
            && WalFormat.endOfNonZero(buf, next) != next)) {
      return 0;
    }
    LOG.log(System.Logger.Level.WARNING, "WAL: damaged end marker at offset " + pos + " of "
        + file + " passed over (the batch before it verified)");
    return WalFormat.END_RECORD_BYTES;
  }

  private void apply(ByteBuffer buf, int pos, int size, SegmentInfo segment, Path file)
      throws StorageCorruptionException {
    byte type = WalFormat.type(buf, pos);
    lastBatchSealed = type == WalFormat.END;
    if (type == WalFormat.BATCH) {
      long seq = WalFormat.longField(buf, pos, 0);
      if (lastBatchSeq != 0 && seq != lastBatchSeq + 1) {
        throw new StorageCorruptionException(file, pos,
            "batch " + seq + " follows batch " + lastBatchSeq + ": records are missing");
      }
      lastBatchSeq = seq;
      return;
    }
    if (type == WalFormat.END) {
      return; // closes its batch; only the judging of a damaged tail looks for it
    }
    long groupId = WalFormat.longField(buf, pos, 0);
    GroupReplay group = groups.computeIfAbsent(groupId, g -> new GroupReplay());
    switch (type) {
      case WalFormat.ENTRY:
        Entry entry = WalFormat.entry(buf, pos, size);
        if (entry == null) {
          throw new StorageCorruptionException(file, pos, "unknown entry type");
        }
        appendEntry(group, entry, file, pos);
        segment.maxEntryIndex.merge(groupId, entry.index(), Math::max);
        break;
      case WalFormat.HARD_STATE:
        group.hardState = new HardState(WalFormat.longField(buf, pos, 1),
            WalFormat.longField(buf, pos, 2), WalFormat.longField(buf, pos, 3));
        break;
      case WalFormat.COMPACT:
        compact(group, WalFormat.longField(buf, pos, 1), WalFormat.longField(buf, pos, 2));
        break;
      case WalFormat.RESET:
        reset(group, WalFormat.longField(buf, pos, 1), WalFormat.longField(buf, pos, 2));
        break;
      default:
        throw new StorageCorruptionException(file, pos, "unknown record type " + type);
    }
  }

  /** An append at index i discards every entry at i and above, as the Ready contract says. */
  private void appendEntry(GroupReplay group, Entry entry, Path file, int pos)
      throws StorageCorruptionException {
    long index = entry.index();
    if (index <= group.compactedIndex) {
      return; // Already covered by a compaction point.
    }
    if (index > group.lastIndex() + 1 && prefixDeleted && !group.sawEntry) {
      // The entries before it were in deleted segments. Segments are deleted only behind a
      // synced COMPACT record, which therefore comes later; checkGroups() insists on it.
      group.compactedIndex = index - 1;
      group.compactedTerm = -1;
      group.inferredBase = true;
    }
    group.sawEntry = true;
    if (index > group.lastIndex() + 1) {
      throw new StorageCorruptionException(file, pos, "entry " + index + " leaves a gap after "
          + group.lastIndex() + " (compacted up to " + group.compactedIndex + ")");
    }
    int keep = (int) (index - group.compactedIndex - 1);
    if (keep < group.entries.size()) {
      group.entries.subList(keep, group.entries.size()).clear();
    }
    group.entries.add(entry);
  }

  private static void compact(GroupReplay group, long index, long term) {
    if (index < group.compactedIndex || (index == group.compactedIndex && !group.inferredBase)) {
      return;
    }
    int drop = (int) Math.min(index - group.compactedIndex, group.entries.size());
    group.entries.subList(0, drop).clear();
    group.compactedIndex = index;
    group.compactedTerm = term;
    group.inferredBase = false;
  }

  /**
   * The group installed a snapshot at {@code index}: every entry before this record is gone,
   * whatever its index (entries after the snapshot's index came from an older leader and may
   * conflict with the snapshot's history). This record also settles where the log starts.
   */
  private static void reset(GroupReplay group, long index, long term) {
    group.entries.clear();
    group.compactedIndex = index;
    group.compactedTerm = term;
    group.inferredBase = false;
    group.sawEntry = true;
  }

  /** A commit index beyond the log means committed entries were lost: never start on that. */
  private void checkGroups() throws StorageCorruptionException {
    for (var e : groups.entrySet()) {
      GroupReplay group = e.getValue();
      Path last = segments.get(segments.size() - 1).path;
      if (group.inferredBase) {
        throw new StorageCorruptionException(segments.get(0).path, WalFormat.SEGMENT_HEADER_BYTES,
            "group " + e.getKey() + ": entries up to " + group.compactedIndex
                + " are missing and no compaction point covers them");
      }
      if (group.hardState.commit() > group.lastIndex()) {
        throw new StorageCorruptionException(last, tailOffset, "group " + e.getKey()
            + " has commit index " + group.hardState.commit() + " but its log ends at "
            + group.lastIndex());
      }
    }
  }

  /** Reads {@code file} again: damage is judged only if the disk returns the same bytes. */
  private void confirm(Path file, ByteBuffer read) throws IOException {
    if (!Arrays.equals(read.array(), disk.readAll(file))) {
      throw new ReadsDisagree(file);
    }
  }

  private ByteBuffer readFully(Path file) throws IOException {
    return ByteBuffer.wrap(disk.readAll(file));
  }

  /**
   * Zeroes the torn region and syncs it, so that records written after recovery are never
   * followed by stale bytes that a later recovery could mistake for data.
   */
  private void zeroRange(Path file, long from, long to) throws IOException {
    try (Disk.File channel = disk.open(file)) {
      ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
      long pos = from;
      while (pos < to) {
        int bytes = (int) Math.min(zeros.capacity(), to - pos);
        channel.write(zeros.clear().limit(bytes), pos);
        pos += bytes;
      }
      channel.force();
    }
  }
}
