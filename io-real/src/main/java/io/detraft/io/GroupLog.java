package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.LogStorage;
import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory image of one group's durable log, read by the core through {@link LogStorage}:
 * the latest saved snapshot and the entries the {@link WriteAheadLog} holds. The runner writes
 * it in step with the WAL and the {@link SnapshotStore} (same appends, same truncation rule,
 * same compaction points), so it never holds anything they do not hold durably.
 *
 * <p>Invariants: {@code compactedIndex <= snapshot.index() <= lastIndex()} once a snapshot
 * exists (entries behind the snapshot may be kept for slow followers, never the other way
 * round); without one, {@code compactedIndex == 0}.
 */
final class GroupLog implements LogStorage {
  /** The membership the group was bootstrapped with; the snapshot's takes over once one exists. */
  private final Membership bootstrap;
  private HardState hardState;
  /** The latest snapshot saved durably (metadata only: the image is in its file), or empty. */
  private Snapshot snapshot;
  /** Index and term of the last compacted entry; the stored entries follow it. */
  private long compactedIndex;
  private long compactedTerm;
  /** entries.get(i) has index compactedIndex + 1 + i. */
  private final ArrayList<Entry> entries = new ArrayList<>();
  /** Reads chunks of the snapshot's image from where the host keeps it. */
  interface ChunkSource {
    /** As {@link LogStorage#snapshotChunk}; the host deals with read errors itself. */
    byte[] chunk(Snapshot snapshot, long offset, int maxBytes);
  }

  private ChunkSource chunks = (s, offset, maxBytes) -> null;
  /** {@link #recover} restarted the log after the snapshot, which the WAL does not know yet. */
  private boolean resetOnRecovery;

  /** An empty log, for a group the WAL knows nothing about. */
  GroupLog(Membership bootstrap) {
    this.bootstrap = bootstrap;
    this.hardState = HardState.EMPTY;
    this.snapshot = Snapshot.empty(bootstrap);
  }

  /**
   * The log recovered from the WAL ({@code recovered}, null if the WAL has nothing of the group)
   * and the newest snapshot on disk ({@code snapshot}, empty if none). If the WAL's log does not
   * hold the snapshot's last entry, the snapshot came from the leader and the crash hit before
   * the WAL recorded its install: the log then restarts after the snapshot, as the install
   * would have left it, in at least the snapshot's term ({@link #needsReset()} tells the runner
   * to record that in the WAL).
   *
   * @throws IllegalStateException if the WAL was compacted past the snapshot (its entries are
   *     gone and nothing else holds their effect)
   */
  static GroupLog recover(Membership bootstrap, WriteAheadLog.RecoveredGroup recovered,
      Snapshot snapshot) {
    GroupLog log = new GroupLog(bootstrap);
    if (recovered != null) {
      if (recovered.compactedIndex() > snapshot.index()) {
        throw new IllegalStateException("group " + recovered.group() + ": the WAL is compacted"
            + " up to " + recovered.compactedIndex() + ", but the newest snapshot on disk is at "
            + snapshot.index() + " (a snapshot file was deleted?)");
      }
      log.hardState = recovered.hardState();
      log.compactedIndex = recovered.compactedIndex();
      log.compactedTerm = recovered.compactedTerm();
      log.entries.addAll(recovered.entries());
    }
    if (!snapshot.isEmpty()) {
      if (log.lastIndex() < snapshot.index() || log.term(snapshot.index()) != snapshot.term()) {
        log.resetTo(snapshot);
        log.resetOnRecovery = true;
        if (snapshot.term() > log.hardState.term()) {
          // The new term came in the same batch and was lost with it. Hearing of a higher
          // term is always safe, and no vote was cast in it (votes wait for the sync).
          log.hardState = new HardState(snapshot.term(), 0, log.hardState.commit());
        }
      }
      log.snapshot = snapshot.withoutData();
    }
    return log;
  }

  /**
   * Whether {@link #recover} restarted the log after the snapshot (and perhaps raised the
   * term), which the WAL must now record.
   */
  boolean needsReset() {
    return resetOnRecovery;
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
    return bootstrap;
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  void serveChunksFrom(ChunkSource chunks) {
    this.chunks = chunks;
  }

  @Override
  public byte[] snapshotChunk(Snapshot s, long offset, int maxBytes) {
    if (s.hasData()) {
      return s.chunk(offset, maxBytes);
    }
    return chunks.chunk(s, offset, maxBytes);
  }

  @Override
  public long firstIndex() {
    return compactedIndex + 1;
  }

  @Override
  public long lastIndex() {
    return compactedIndex + entries.size();
  }

  long compactedIndex() {
    return compactedIndex;
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
    if (first <= snapshot.index()) {
      throw new IllegalStateException("append at " + first + " would replace entries covered"
          + " by the snapshot at " + snapshot.index());
    }
    int keep = (int) (first - compactedIndex - 1);
    if (keep < entries.size()) {
      entries.subList(keep, entries.size()).clear();
    }
    entries.addAll(newEntries);
  }

  /** Records a snapshot this node saved durably of its own state machine (entries kept). */
  void setSnapshot(Snapshot taken) {
    if (taken.index() <= snapshot.index() || taken.index() > lastIndex()
        || term(taken.index()) != taken.term()) {
      throw new IllegalArgumentException("snapshot " + taken + " does not fit the log ("
          + compactedIndex + ", " + lastIndex() + "] after snapshot " + snapshot.index());
    }
    snapshot = taken.withoutData();
  }

  /** Drops entries up to {@code index}, which the snapshot must cover. */
  void compact(long index) {
    if (index <= compactedIndex || index > snapshot.index()) {
      throw new IllegalArgumentException("compaction point " + index + " outside ("
          + compactedIndex + ", " + snapshot.index() + "]");
    }
    long term = term(index);
    entries.subList(0, (int) (index - compactedIndex)).clear();
    compactedIndex = index;
    compactedTerm = term;
  }

  /** Replaces the whole log with a snapshot received from the leader and saved durably. */
  void installSnapshot(Snapshot received) {
    if (received.index() <= snapshot.index()) {
      throw new IllegalArgumentException("installed snapshot at " + received.index()
          + " is not newer than ours at " + snapshot.index());
    }
    resetTo(received);
    snapshot = received.withoutData();
  }

  private void resetTo(Snapshot s) {
    entries.clear();
    compactedIndex = s.index();
    compactedTerm = s.term();
  }

  private Entry entry(long index) {
    return entries.get((int) (index - compactedIndex - 1));
  }
}
