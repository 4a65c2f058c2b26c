package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import java.util.List;

/**
 * One write to a node's simulated write-ahead log: a hard state, or an append of entries (an
 * append at index {@code i} also truncates the log from {@code i}, as {@link
 * io.detraft.core.MemoryLogStorage#append} does).
 *
 * <p>{@code torn} marks a write that a crash cut in half. A real log detects that with a
 * per-record checksum (io-real uses CRC32C); here the flag plays the checksum's part, and
 * recovery must drop the record, never use it.
 */
public record DiskRecord(HardState hardState, List<Entry> entries, boolean torn) {
  public DiskRecord {
    entries = entries == null ? List.of() : entries;
    if ((hardState == null) == entries.isEmpty()) {
      throw new IllegalArgumentException("a record holds a hard state or entries, not both");
    }
  }

  public static DiskRecord of(HardState hardState) {
    return new DiskRecord(hardState, List.of(), false);
  }

  public static DiskRecord of(List<Entry> entries) {
    return new DiskRecord(null, entries, false);
  }

  /** This record as a crash left it: partially written, detectable as such. */
  public DiskRecord tear() {
    return new DiskRecord(hardState, entries, true);
  }

  @Override
  public String toString() {
    String body = hardState != null ? hardState.toString()
        : "append[" + entries.get(0).index() + ".." + entries.get(entries.size() - 1).index()
            + "]";
    return (torn ? "TORN " : "") + body;
  }
}
