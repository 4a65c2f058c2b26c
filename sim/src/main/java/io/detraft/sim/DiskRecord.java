package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Snapshot;
import java.util.List;

/**
 * One write to a node's simulated write-ahead log, for one Raft group: a hard state, an append
 * of entries (an append at index {@code i} also truncates the log from {@code i}, as {@link
 * io.detraft.core.MemoryLogStorage#append} does), or a snapshot. A snapshot the host took of
 * its own state machine ({@link Type#SNAPSHOT_TAKEN}) compacts the log up to its index and
 * keeps what follows; one received from a leader ({@link Type#SNAPSHOT_INSTALLED}) replaces
 * the whole log.
 *
 * <p>{@code torn} marks a write that a crash cut in half. A real log detects that with a
 * per-record checksum (io-real uses CRC32C); here the flag plays the checksum's part, and
 * recovery must drop the record, never use it.
 */
public record DiskRecord(long group, Type type, HardState hardState, List<Entry> entries,
    Snapshot snapshot, boolean torn) {

  /** What a record holds. */
  public enum Type { HARD_STATE, ENTRIES, SNAPSHOT_TAKEN, SNAPSHOT_INSTALLED }

  public DiskRecord {
    entries = entries == null ? List.of() : entries;
    boolean valid = switch (type) {
      case HARD_STATE -> hardState != null && entries.isEmpty() && snapshot == null;
      case ENTRIES -> hardState == null && !entries.isEmpty() && snapshot == null;
      case SNAPSHOT_TAKEN, SNAPSHOT_INSTALLED ->
          hardState == null && entries.isEmpty() && snapshot != null && !snapshot.isEmpty();
    };
    if (!valid || group < 1) {
      throw new IllegalArgumentException("malformed " + type + " record for group " + group);
    }
  }

  public static DiskRecord of(long group, HardState hardState) {
    return new DiskRecord(group, Type.HARD_STATE, hardState, List.of(), null, false);
  }

  public static DiskRecord of(long group, List<Entry> entries) {
    return new DiskRecord(group, Type.ENTRIES, null, entries, null, false);
  }

  /** A snapshot the host took; the log before its index is compacted. */
  public static DiskRecord taken(long group, Snapshot snapshot) {
    return new DiskRecord(group, Type.SNAPSHOT_TAKEN, null, List.of(), snapshot, false);
  }

  /** A snapshot received from the leader; it replaces the whole log. */
  public static DiskRecord installed(long group, Snapshot snapshot) {
    return new DiskRecord(group, Type.SNAPSHOT_INSTALLED, null, List.of(), snapshot, false);
  }

  public boolean isSnapshot() {
    return snapshot != null;
  }

  /** This record as a crash left it: partially written, detectable as such. */
  public DiskRecord tear() {
    return new DiskRecord(group, type, hardState, entries, snapshot, true);
  }

  @Override
  public String toString() {
    String body = switch (type) {
      case HARD_STATE -> hardState.toString();
      case ENTRIES -> "append[" + entries.get(0).index() + ".."
          + entries.get(entries.size() - 1).index() + "]";
      case SNAPSHOT_TAKEN -> "snapshot taken " + snapshot;
      case SNAPSHOT_INSTALLED -> "snapshot installed " + snapshot;
    };
    return (torn ? "TORN " : "") + "g" + group + " " + body;
  }
}
