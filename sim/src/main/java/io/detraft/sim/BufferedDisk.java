package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulator's disk: a page cache in front of a platter. Writes land in the cache; an fsync
 * takes virtual time and then makes every write issued before it durable. On a crash the cache
 * is lost, except that the OS may already have written back a prefix of it, and the last of
 * those writes may be torn (a sector-sized hole in a record).
 *
 * <p>The platter is kept folded: the durable log after its truncations, and the last durable
 * hard state. Replaying every durable record would build the same state, so folding loses
 * nothing, and a long run does not keep one record per commit-index change alive.
 */
public final class BufferedDisk implements Disk {
  private final SimOptions.DiskOptions options;
  private final SimRandom random;
  /** Durable entries: platterEntries.get(i) has index i + 1. */
  private final ArrayList<Entry> platterEntries = new ArrayList<>();
  /** The last durable hard state, or null if none was ever made durable. */
  private HardState platterHardState;
  /** Writes not known to be durable, in write order. */
  private final ArrayList<DiskRecord> cache = new ArrayList<>();
  /** How many cached writes the fsync in progress covers, or -1 if none is in progress. */
  private int syncing = -1;

  public BufferedDisk(SimOptions.DiskOptions options, SimRandom random) {
    this.options = options;
    this.random = random;
  }

  @Override
  public void write(DiskRecord record) {
    cache.add(record);
  }

  @Override
  public long startSync() {
    syncing = cache.size();
    return random.between(options.fsyncMinNanos(), options.fsyncMaxNanos());
  }

  @Override
  public void completeSync() {
    if (syncing < 0) {
      throw new IllegalStateException("completeSync without startSync");
    }
    fold(syncing);
    syncing = -1;
  }

  @Override
  public void crash() {
    syncing = -1;
    // Background write-back may have persisted a prefix of the unsynced writes.
    int survivors = random.nextInt(cache.size() + 1);
    cache.subList(survivors, cache.size()).clear();
    if (survivors > 0 && random.chance(options.tornWrite())) {
      cache.set(survivors - 1, cache.get(survivors - 1).tear());
    }
    // What is left in the cache reached the platter; recover() reads and folds it.
  }

  @Override
  public List<DiskRecord> recover() {
    List<DiskRecord> read = new ArrayList<>(cache.size() + 2);
    if (!platterEntries.isEmpty()) {
      read.add(DiskRecord.of(List.copyOf(platterEntries)));
    }
    if (platterHardState != null) {
      read.add(DiskRecord.of(platterHardState));
    }
    read.addAll(cache);
    if (!cache.isEmpty() && cache.get(cache.size() - 1).torn()) {
      cache.remove(cache.size() - 1); // The reader truncates a torn tail.
    }
    fold(cache.size());
    return read;
  }

  /** Moves the first {@code count} cached writes onto the platter. */
  private void fold(int count) {
    for (int i = 0; i < count; i++) {
      DiskRecord record = cache.get(i);
      if (record.hardState() != null) {
        platterHardState = record.hardState();
        continue;
      }
      long first = record.entries().get(0).index();
      if (first > platterEntries.size() + 1) {
        throw new IllegalStateException("append at " + first + " leaves a gap after "
            + platterEntries.size());
      }
      platterEntries.subList((int) first - 1, platterEntries.size()).clear();
      platterEntries.addAll(record.entries());
    }
    cache.subList(0, count).clear();
  }

  /** Writes not yet durable (for tests). */
  int cachedCount() {
    return cache.size();
  }
}
