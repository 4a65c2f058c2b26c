package io.detraft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LogStorage} held in memory, with the write side a host needs. Used by tests, by the
 * simulator (which rebuilds one from its simulated disk after a crash) and as a write-through
 * cache by real adapters.
 */
public final class MemoryLogStorage implements LogStorage {
  private HardState hardState = HardState.EMPTY;
  private Membership membership;
  /** Index and term of the entry the stored entries follow (0, 0 for a fresh log). */
  private long baseIndex;
  private long baseTerm;
  /** entries.get(i) has index baseIndex + 1 + i. */
  private final ArrayList<Entry> entries = new ArrayList<>();
  private Snapshot snapshot;

  public MemoryLogStorage(Membership membership) {
    Invariants.check(membership != null, "membership is null");
    this.membership = membership;
    this.snapshot = Snapshot.empty(membership);
  }

  @Override
  public HardState hardState() {
    return hardState;
  }

  public void setHardState(HardState hardState) {
    Invariants.check(hardState != null, "hard state is null");
    this.hardState = hardState;
  }

  @Override
  public Membership membership() {
    return membership;
  }

  public void setMembership(Membership membership) {
    Invariants.check(membership != null, "membership is null");
    this.membership = membership;
  }

  @Override
  public long firstIndex() {
    return baseIndex + 1;
  }

  @Override
  public long lastIndex() {
    return baseIndex + entries.size();
  }

  @Override
  public long term(long index) {
    Invariants.check(
        index >= baseIndex && index <= lastIndex(),
        "term(%s) outside [%s, %s]", index, baseIndex, lastIndex());
    return index == baseIndex ? baseTerm : entries.get((int) (index - baseIndex - 1)).term();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    Invariants.check(
        lo >= firstIndex() && lo <= hi && hi <= lastIndex() + 1,
        "entries(%s, %s) outside [%s, %s]", lo, hi, firstIndex(), lastIndex() + 1);
    List<Entry> out = new ArrayList<>();
    long bytes = 0;
    for (long i = lo; i < hi; i++) {
      Entry e = entries.get((int) (i - baseIndex - 1));
      bytes += e.sizeBytes();
      if (!out.isEmpty() && bytes > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  /**
   * Appends entries that must be contiguous; entries already stored at their indexes and
   * above are discarded first (a new leader may overwrite an uncommitted suffix).
   */
  public void append(List<Entry> newEntries) {
    if (newEntries.isEmpty()) {
      return;
    }
    long first = newEntries.get(0).index();
    Invariants.check(
        first > baseIndex && first <= lastIndex() + 1,
        "append at %s leaves a gap after %s (base %s)", first, lastIndex(), baseIndex);
    truncateFrom(first);
    for (Entry e : newEntries) {
      Invariants.check(e.index() == lastIndex() + 1, "entries not contiguous at %s", e.index());
      entries.add(e);
    }
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  /**
   * Records a snapshot the host took of its state machine at {@code index} (applied, so
   * committed and stored), with the membership in force there. The log is not compacted;
   * see {@link #compact}.
   */
  public Snapshot createSnapshot(long index, Membership membershipAtIndex, byte[] data) {
    Invariants.check(index > snapshot.index(), "snapshot at %s is not newer than %s", index,
        snapshot.index());
    Invariants.check(index <= lastIndex(), "snapshot at %s beyond last index %s", index,
        lastIndex());
    snapshot = new Snapshot(index, term(index), membershipAtIndex, data);
    return snapshot;
  }

  /** Discards entries up to {@code index}, which must be covered by the snapshot. */
  public void compact(long index) {
    Invariants.check(index <= snapshot.index(), "compact(%s) beyond snapshot at %s", index,
        snapshot.index());
    if (index <= baseIndex) {
      return;
    }
    long newBaseTerm = term(index);
    entries.subList(0, (int) (index - baseIndex)).clear();
    baseIndex = index;
    baseTerm = newBaseTerm;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  public void installSnapshot(Snapshot received) {
    Invariants.check(received.index() > snapshot.index() || snapshot.isEmpty(),
        "installed snapshot at %s is older than ours at %s", received.index(), snapshot.index());
    entries.clear();
    baseIndex = received.index();
    baseTerm = received.term();
    snapshot = received;
    membership = received.membership();
  }

  /** Drops every entry at {@code index} and above. */
  public void truncateFrom(long index) {
    Invariants.check(index > baseIndex, "cannot truncate into the compacted prefix");
    while (lastIndex() >= index) {
      entries.remove(entries.size() - 1);
    }
  }
}
