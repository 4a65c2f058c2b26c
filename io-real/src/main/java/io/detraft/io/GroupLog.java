package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.LogStorage;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory image of one group's durable log, read by the core through {@link LogStorage}.
 * The runner writes it in step with the {@link WriteAheadLog} (same appends, same truncation
 * rule), so it never holds anything the WAL does not. Unlike {@code MemoryLogStorage} it starts
 * from a compaction point, which is what a WAL with deleted segments recovers to.
 */
final class GroupLog implements LogStorage {
  private final Membership membership;
  private HardState hardState;
  /** Index and term of the last compacted entry; the stored entries follow it. */
  private long compactedIndex;
  private long compactedTerm;
  /** entries.get(i) has index compactedIndex + 1 + i. */
  private final ArrayList<Entry> entries;

  GroupLog(Membership membership, WriteAheadLog.RecoveredGroup recovered) {
    this.membership = membership;
    if (recovered == null) {
      this.hardState = HardState.EMPTY;
      this.entries = new ArrayList<>();
    } else {
      if (recovered.compactedIndex() != 0) {
        throw new IllegalStateException("group log compacted at " + recovered.compactedIndex()
            + ", but this runner cannot load snapshots yet");
      }
      this.hardState = recovered.hardState();
      this.compactedIndex = recovered.compactedIndex();
      this.compactedTerm = recovered.compactedTerm();
      this.entries = new ArrayList<>(recovered.entries());
    }
  }

  @Override
  public HardState hardState() {
    return hardState;
  }

  void setHardState(HardState hardState) {
    this.hardState = hardState;
  }

  @Override
  public Membership membership() {
    return membership;
  }

  /**
   * The runner does not take snapshots yet, so its log is never compacted and the snapshot is
   * always the empty one; a WAL recovered with a compaction point is refused in the
   * constructor rather than read wrongly.
   */
  @Override
  public Snapshot snapshot() {
    return Snapshot.empty(membership);
  }

  @Override
  public long firstIndex() {
    return compactedIndex + 1;
  }

  @Override
  public long lastIndex() {
    return compactedIndex + entries.size();
  }

  @Override
  public long term(long index) {
    if (index < compactedIndex || index > lastIndex()) {
      throw new IllegalArgumentException(
          "term(" + index + ") outside [" + compactedIndex + ", " + lastIndex() + "]");
    }
    return index == compactedIndex ? compactedTerm : entry(index).term();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    if (lo < firstIndex() || lo > hi || hi > lastIndex() + 1) {
      throw new IllegalArgumentException("entries(" + lo + ", " + hi + ") outside ["
          + firstIndex() + ", " + (lastIndex() + 1) + "]");
    }
    List<Entry> out = new ArrayList<>();
    long bytes = 0;
    for (long i = lo; i < hi; i++) {
      Entry e = entry(i);
      bytes += e.sizeBytes();
      if (!out.isEmpty() && bytes > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  /** Appends contiguous entries; stored entries at their indexes and above are discarded. */
  void append(List<Entry> newEntries) {
    if (newEntries.isEmpty()) {
      return;
    }
    long first = newEntries.get(0).index();
    if (first <= compactedIndex || first > lastIndex() + 1) {
      throw new IllegalArgumentException("append at " + first + " outside ("
          + compactedIndex + ", " + (lastIndex() + 1) + "]");
    }
    int keep = (int) (first - compactedIndex - 1);
    if (keep < entries.size()) {
      entries.subList(keep, entries.size()).clear();
    }
    entries.addAll(newEntries);
  }

  /** Drops entries up to {@code index}, which must be stored. */
  void compact(long index) {
    if (index <= compactedIndex || index > lastIndex()) {
      throw new IllegalArgumentException("compaction point " + index + " outside ("
          + compactedIndex + ", " + lastIndex() + "]");
    }
    long term = term(index);
    entries.subList(0, (int) (index - compactedIndex)).clear();
    compactedIndex = index;
    compactedTerm = term;
  }

  private Entry entry(long index) {
    return entries.get((int) (index - compactedIndex - 1));
  }
}
