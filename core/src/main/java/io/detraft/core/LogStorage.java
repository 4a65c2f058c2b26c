package io.detraft.core;

import java.util.List;

/**
 * The narrow, read-only seam through which the core reads what the host has persisted. The
 * host writes through its own implementation (see {@link MemoryLogStorage}) while following
 * the Ready contract; the core never writes here.
 *
 * <p>Indexes: stored entries are {@code [firstIndex(), lastIndex()]}; {@code term(firstIndex()
 * - 1)} is also known (the term of the entry a snapshot or the empty log starts after, 0 for
 * an empty log at index 0).
 */
public interface LogStorage {
  /** The hard state persisted last, {@link HardState#EMPTY} for a new replica. */
  HardState hardState();

  /** The membership this replica starts with. */
  Membership membership();

  long firstIndex();

  long lastIndex();

  /** The term of the entry at {@code index}, for {@code firstIndex()-1 <= index <= lastIndex()}. */
  long term(long index);

  /**
   * Entries in {@code [lo, hi)} whose sizes add up to at most {@code maxBytes}, but always at
   * least one entry when {@code lo < hi}. Requires {@code firstIndex() <= lo <= hi <=
   * lastIndex()+1}.
   */
  List<Entry> entries(long lo, long hi, long maxBytes);

  /**
   * The latest snapshot, {@link Snapshot#empty} if none. Its index is {@code firstIndex() - 1}
   * or higher (a host may keep some entries behind its snapshot for slow followers), and
   * {@code term(snapshot().index())} is its term whenever that index is still in range.
   */
  Snapshot snapshot();

  /**
   * Up to {@code maxBytes} bytes of {@code snapshot}'s image from {@code offset} (at least one
   * when {@code offset < snapshot.sizeBytes()}), for a leader streaming it to a follower; null
   * if this storage no longer holds that snapshot (a newer one replaced it): the leader then
   * starts over with the latest. The default serves snapshots that carry their data.
   */
  default byte[] snapshotChunk(Snapshot snapshot, long offset, int maxBytes) {
    return snapshot.hasData() ? snapshot.chunk(offset, maxBytes) : null;
  }
}
