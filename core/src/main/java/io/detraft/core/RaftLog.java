package io.detraft.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A replica's log: the part the host has persisted (read through {@link LogStorage}) followed
 * by the unstable part, entries this replica accepted that the host has not yet persisted.
 *
 * <p>Invariants: {@code applied <= committed <= lastIndex()}; the unstable entries are
 * contiguous from {@code unstableOffset}; {@code unstableOffset <= storage.lastIndex() + 1} (an
 * unstable suffix may replace stored entries that a new leader overwrote).
 */
final class RaftLog {
  final LogStorage storage;
  /** Entries not yet handed to the host for persistence, or handed out and not yet advanced. */
  private final ArrayList<Entry> unstable = new ArrayList<>();
  /** Index of unstable.get(0); equals storage.lastIndex() + 1 when nothing is unstable. */
  private long unstableOffset;
  /**
   * A snapshot received from the leader and not yet persisted by the host, or null. While set,
   * it replaces the stored log: nothing at or below its index is readable, and the unstable
   * entries follow it.
   */
  private Snapshot pendingSnapshot;
  /**
   * Membership takes effect when its entry is appended, committed or not (thesis §4.1), so
   * the log itself says who the members are: the membership of the snapshot (or bootstrap)
   * the log starts after, overridden by each CONFIG_CHANGE entry. A truncated entry's
   * change is undone with it.
   */
  private Membership baseMembership;
  /** CONFIG_CHANGE entries after the base, by index. */
  private final TreeMap<Long, Membership> configs = new TreeMap<>();
  private final Coverage coverage;
  /** Highest index known to be committed (replicated on a quorum with a current-term entry). */
  long committed;
  /** Highest index the host applied to its state machine. */
  long applied;

  RaftLog(LogStorage storage, long committed, long applied, Coverage coverage) {
    this.storage = storage;
    this.coverage = coverage;
    this.unstableOffset = storage.lastIndex() + 1;
    Invariants.check(
        committed <= storage.lastIndex(),
        "durable commit index %s is beyond the durable log (last index %s): storage lost data",
        committed, storage.lastIndex());
    // A snapshot covers only committed entries, even if the commit index was not yet synced.
    this.committed = Math.max(committed, storage.snapshot().index());
    Invariants.check(applied <= this.committed, "applied %s > committed %s", applied,
        this.committed);
    Invariants.check(
        applied >= storage.snapshot().index(),
        "applied %s is below the stored snapshot at %s: restore the snapshot first",
        applied, storage.snapshot().index());
    this.applied = applied;
    Snapshot snapshot = storage.snapshot();
    this.baseMembership = snapshot.isEmpty() ? storage.membership() : snapshot.membership();
    // Scan what follows the snapshot for membership changes (rare entries; the scan runs
    // once per start, over the uncompacted log).
    long from = Math.max(snapshot.index() + 1, storage.firstIndex());
    while (from <= storage.lastIndex()) {
      List<Entry> batch = storage.entries(from, storage.lastIndex() + 1, 1 << 20);
      recordConfigs(batch);
      from += batch.size();
    }
  }

  private void recordConfigs(List<Entry> entries) {
    for (Entry e : entries) {
      if (e.type() == EntryType.CONFIG_CHANGE) {
        configs.put(e.index(), Codec.decodeMembership(e.data()));
      }
    }
  }

  /** The membership in force: the one of the last CONFIG_CHANGE entry in the log. */
  Membership membership() {
    return configs.isEmpty() ? baseMembership : configs.lastEntry().getValue();
  }

  /** The membership in force at {@code index} (at or after the snapshot the log starts at). */
  Membership membershipAt(long index) {
    // Before the snapshot the log starts at, the configurations are gone: the answer would be
    // the snapshot's, silently wrong.
    Invariants.check(index >= firstIndex() - 1,
        "membership at %s, before the log's snapshot at %s", index, firstIndex() - 1);
    Map.Entry<Long, Membership> e = configs.floorEntry(index);
    return e == null ? baseMembership : e.getValue();
  }

  /** Index of the last CONFIG_CHANGE entry in the log, 0 if none. */
  long lastConfigIndex() {
    return configs.isEmpty() ? 0 : configs.lastKey();
  }

  long firstIndex() {
    return pendingSnapshot != null ? pendingSnapshot.index() + 1 : storage.firstIndex();
  }

  long lastIndex() {
    if (!unstable.isEmpty()) {
      return unstableOffset + unstable.size() - 1;
    }
    return pendingSnapshot != null ? pendingSnapshot.index() : storage.lastIndex();
  }

  long lastTerm() {
    return term(lastIndex());
  }

  /** The last index the host has persisted and that no unstable entry replaces. */
  long stableLastIndex() {
    return unstableOffset - 1;
  }

  /** The term of the entry at {@code index}, or -1 if it is unknown (compacted or absent). */
  long term(long index) {
    if (index < firstIndex() - 1 || index > lastIndex()) {
      return -1;
    }
    if (index >= unstableOffset) {
      return unstable.get((int) (index - unstableOffset)).term();
    }
    if (pendingSnapshot != null) {
      return pendingSnapshot.term(); // index == pendingSnapshot.index() by the range check.
    }
    return storage.term(index);
  }

  boolean matchTerm(long index, long term) {
    return term(index) == term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  boolean isUpToDate(long lastIndex, long lastTerm) {
    long ourLastTerm = lastTerm();
    return lastTerm > ourLastTerm || (lastTerm == ourLastTerm && lastIndex >= lastIndex());
  }

  /**
   * The follower side of AppendEntries (§5.3): if our log has {@code prevIndex} at
   * {@code prevTerm}, appends what is new in {@code entries} (truncating a conflicting suffix),
   * advances the commit index and returns the last index now known to match the leader; else
   * returns -1.
   */
  long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> entries) {
    if (!matchTerm(prevIndex, prevTerm)) {
      return -1;
    }
    long lastNew = prevIndex + entries.size();
    long conflict = findConflict(entries);
    if (conflict != 0) {
      Invariants.check(
          conflict > committed,
          "entry %s conflicts with committed entry (commit %s)", conflict, committed);
      append(entries.subList((int) (conflict - prevIndex - 1), entries.size()));
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** The index of the first entry that is new or whose term differs from ours; 0 if none. */
  private long findConflict(List<Entry> entries) {
    for (Entry e : entries) {
      if (!matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * The conflict hint: the largest index at or below {@code index} whose term is at most
   * {@code term}, as {index, term}. The leader may skip everything after it, because an entry
   * of a larger term there cannot match, and one of an equal term matches by log matching.
   */
  long[] findConflictByTerm(long index, long term) {
    long i = Math.min(index, lastIndex());
    while (i > 0) {
      long t = term(i);
      if (t == -1) {
        return new long[] {i, 0};
      }
      if (t <= term) {
        return new long[] {i, t};
      }
      i--;
    }
    return new long[] {0, 0};
  }

  /** Appends entries starting at most one past the end; a suffix from their index is replaced. */
  void append(List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    long first = entries.get(0).index();
    Invariants.check(first > committed, "append at %s would overwrite commit %s", first, committed);
    Invariants.check(first <= lastIndex() + 1, "append at %s leaves a gap after %s", first,
        lastIndex());
    Map<Long, Membership> undone = configs.tailMap(first, true);
    if (!undone.isEmpty()) {
      coverage.hit(Mark.MEMBERSHIP_CHANGE_UNDONE);
      undone.clear();
    }
    recordConfigs(entries);
    if (first <= unstableOffset) {
      // Replaces the whole unstable part, and stored entries from `first` on.
      unstable.clear();
      unstableOffset = first;
    } else {
      while (unstableOffset + unstable.size() > first) {
        unstable.remove(unstable.size() - 1);
      }
    }
    unstable.addAll(entries);
  }

  boolean hasUnstableEntries() {
    return !unstable.isEmpty();
  }

  List<Entry> unstableEntries() {
    return List.copyOf(unstable);
  }

  /** The host persisted entries up to {@code index} (in {@code term}). */
  void stableTo(long index, long term) {
    if (index < unstableOffset || !matchTerm(index, term)) {
      return; // A later append replaced what was persisted; it stays unstable.
    }
    int count = (int) (index - unstableOffset + 1);
    unstable.subList(0, count).clear();
    unstableOffset = index + 1;
  }

  /**
   * Replaces the whole log with a snapshot from the leader (§7): everything up to its index is
   * committed, and nothing of the old log is kept, because the caller checked that the old log
   * does not hold the snapshot's last entry.
   */
  void restore(Snapshot snapshot) {
    Invariants.check(snapshot.index() > committed, "restore at %s does not advance commit %s",
        snapshot.index(), committed);
    pendingSnapshot = snapshot;
    configs.clear();
    baseMembership = snapshot.membership();
    unstable.clear();
    unstableOffset = snapshot.index() + 1;
    committed = snapshot.index();
  }

  Snapshot pendingSnapshot() {
    return pendingSnapshot;
  }

  /** The host persisted the pending snapshot and restored its state machine from it. */
  void snapshotStable(Snapshot snapshot) {
    if (pendingSnapshot == snapshot) {
      pendingSnapshot = null;
      applied = Math.max(applied, snapshot.index());
    }
  }

  /** Bytes of a snapshot's image, as {@link LogStorage#snapshotChunk}. */
  byte[] snapshotChunk(Snapshot snapshot, long offset, int maxBytes) {
    return snapshot.hasData() ? snapshot.chunk(offset, maxBytes)
        : storage.snapshotChunk(snapshot, offset, maxBytes);
  }

  /** The snapshot a leader sends: pending (rare) or the stored one. */
  Snapshot latestSnapshot() {
    return pendingSnapshot != null ? pendingSnapshot : storage.snapshot();
  }

  /** Entries in {@code [lo, lastIndex()]} up to about {@code maxBytes} (at least one). */
  List<Entry> entriesFrom(long lo, long maxBytes) {
    return slice(lo, lastIndex() + 1, maxBytes);
  }

  /**
   * Committed entries the host has not applied yet. With a pending snapshot, the entries after
   * it: the host restores the snapshot first.
   */
  List<Entry> nextCommittedEntries() {
    long from = pendingSnapshot != null ? pendingSnapshot.index() + 1 : applied + 1;
    return slice(from, committed + 1, Long.MAX_VALUE);
  }

  boolean hasNextCommittedEntries() {
    long appliedOrSnapshot = pendingSnapshot != null ? pendingSnapshot.index() : applied;
    return committed > appliedOrSnapshot;
  }

  private List<Entry> slice(long lo, long hi, long maxBytes) {
    if (lo >= hi) {
      return List.of();
    }
    Invariants.check(lo >= firstIndex() && hi <= lastIndex() + 1, "slice [%s, %s) out of range",
        lo, hi);
    List<Entry> out = new ArrayList<>();
    if (lo < unstableOffset) {
      out.addAll(storage.entries(lo, Math.min(hi, unstableOffset), maxBytes));
      if (out.size() < Math.min(hi, unstableOffset) - lo) {
        return out; // Size limit reached inside the stored part.
      }
    }
    long bytes = 0;
    for (Entry e : out) {
      bytes += e.sizeBytes();
    }
    for (long i = Math.max(lo, unstableOffset); i < hi; i++) {
      Entry e = unstable.get((int) (i - unstableOffset));
      bytes += e.sizeBytes();
      if (!out.isEmpty() && bytes > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  /** Commits {@code index} if it holds an entry of {@code term} (§5.4.2); true if it advanced. */
  boolean maybeCommit(long index, long term) {
    if (index > committed && matchTerm(index, term)) {
      commitTo(index);
      return true;
    }
    return false;
  }

  void commitTo(long index) {
    if (index > committed) {
      Invariants.check(index <= lastIndex(), "commit %s beyond last index %s", index, lastIndex());
      committed = index;
    }
  }

  void appliedTo(long index) {
    Invariants.check(index <= committed && index >= applied && pendingSnapshot == null,
        "applied %s outside [%s, %s]", index, applied, committed);
    applied = index;
  }
}
