package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The simulator's disk: a page cache in front of a platter. Writes land in the cache; an fsync
 * takes virtual time and then makes every write issued before it durable. On a crash the cache
 * is lost, except that the OS may already have written back a prefix of it, and the last of
 * those writes may be torn (a sector-sized hole in a record).
 *
 * <p>The platter is kept folded, per group: the latest durable snapshot, the durable log after
 * it (with its truncations and compactions applied), and the last durable hard state.
 * Replaying every durable record would build the same state, so folding loses nothing, and a
 * long run does not keep one record per commit-index change alive.
 */
public final class BufferedDisk implements Disk {
  /** One group's durable state. */
  private static final class Platter {
    /** The latest durable snapshot, or null. */
    Snapshot snapshot;
    /** Durable entries: entries.get(i) has index base + 1 + i. */
    long base;
    final ArrayList<Entry> entries = new ArrayList<>();
    /** The last durable hard state, or null if none was ever made durable. */
    HardState hardState;
  }

  private final SimOptions.DiskOptions options;
  private final SimRandom random;
  /** Platters by group, iterated in group order. */
  private final TreeMap<Long, Platter> platters = new TreeMap<>();
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
    List<DiskRecord> read = new ArrayList<>(cache.size() + 3 * platters.size());
    for (var e : platters.entrySet()) {
      long group = e.getKey();
      Platter p = e.getValue();
      if (p.snapshot != null) {
        read.add(DiskRecord.installed(group, p.snapshot));
      }
      if (!p.entries.isEmpty()) {
        read.add(DiskRecord.of(group, List.copyOf(p.entries)));
      }
      if (p.hardState != null) {
        read.add(DiskRecord.of(group, p.hardState));
      }
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
      Platter p = platters.computeIfAbsent(record.group(), g -> new Platter());
      switch (record.type()) {
        case HARD_STATE -> p.hardState = record.hardState();
        case ENTRIES -> {
          long first = record.entries().get(0).index();
          if (first <= p.base || first > p.base + p.entries.size() + 1) {
            throw new IllegalStateException("append at " + first + " outside (" + p.base + ", "
                + (p.base + p.entries.size() + 1) + "] in group " + record.group());
          }
          p.entries.subList((int) (first - p.base - 1), p.entries.size()).clear();
          p.entries.addAll(record.entries());
        }
        case SNAPSHOT_TAKEN, SNAPSHOT_INSTALLED -> {
          Snapshot snapshot = record.snapshot();
          long covered = snapshot.index() - p.base;
          boolean keepsTail = record.type() == DiskRecord.Type.SNAPSHOT_TAKEN && covered > 0
              && covered <= p.entries.size()
              && p.entries.get((int) covered - 1).term() == snapshot.term();
          // A snapshot taken compacts what it covers; one installed replaces the whole log.
          p.entries.subList(0, keepsTail ? (int) covered : p.entries.size()).clear();
          p.base = snapshot.index();
          p.snapshot = snapshot;
        }
      }
    }
    cache.subList(0, count).clear();
  }

  /** Writes not yet durable (for tests). */
  int cachedCount() {
    return cache.size();
  }
}
