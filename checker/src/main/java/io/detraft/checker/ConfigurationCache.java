package io.detraft.checker;

/**
 * The set of configurations (linearized set, model state) the search has already reached
 * (Lowe, "Testing for linearizability", 2017, §4: reaching a configuration again can only
 * repeat work, so the search prunes it). Open addressing over parallel arrays: no boxing and
 * one small {@code long[]} per entry.
 *
 * <p>An entry stores the set exactly, never just its hash, so a hash collision can never prune
 * a configuration that was not seen and turn a linearizable history into a false violation.
 * The stored form is canonical: {@code lo} = the first definite word that is not all ones
 * (all words below it are), then the definite words {@code lo..hi} where {@code hi} is the last
 * nonzero one (all words above it are zero), then all indefinite words.
 */
final class ConfigurationCache {
  private static final int INITIAL_CAPACITY = 1 << 10;

  private long[] hashes = new long[INITIAL_CAPACITY];
  private int[] states = new int[INITIAL_CAPACITY];
  private int[] firstWords = new int[INITIAL_CAPACITY];
  /** Stored set words per slot; null marks an empty slot. */
  private long[][] slices = new long[INITIAL_CAPACITY][];
  private int size;

  int size() {
    return size;
  }

  /** Adds the configuration; returns false if it was already present. */
  boolean add(LinearizedSet set, int state) {
    long hash = set.hash ^ LinearizedSet.bitHash(~(long) state);
    int lo = set.firstNotFullWord();
    int hi = Math.max(set.lastNonzeroWord(), lo - 1);
    int definiteLength = hi - lo + 1;
    int mask = slices.length - 1;
    int slot = (int) (hash ^ (hash >>> 32)) & mask;
    while (slices[slot] != null) {
      if (hashes[slot] == hash && states[slot] == state && firstWords[slot] == lo
          && matches(slices[slot], set, lo, definiteLength)) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    long[] slice = new long[definiteLength + set.indefiniteWords];
    System.arraycopy(set.words, lo, slice, 0, definiteLength);
    System.arraycopy(set.words, set.definiteWords, slice, definiteLength, set.indefiniteWords);
    hashes[slot] = hash;
    states[slot] = state;
    firstWords[slot] = lo;
    slices[slot] = slice;
    size++;
    if (2 * size > slices.length) {
      grow();
    }
    return true;
  }

  private static boolean matches(long[] slice, LinearizedSet set, int lo, int definiteLength) {
    if (slice.length != definiteLength + set.indefiniteWords) {
      return false;
    }
    for (int i = 0; i < definiteLength; i++) {
      if (slice[i] != set.words[lo + i]) {
        return false;
      }
    }
    for (int i = 0; i < set.indefiniteWords; i++) {
      if (slice[definiteLength + i] != set.words[set.definiteWords + i]) {
        return false;
      }
    }
    return true;
  }

  private void grow() {
    long[] oldHashes = hashes;
    int[] oldStates = states;
    int[] oldFirstWords = firstWords;
    long[][] oldSlices = slices;
    int capacity = oldSlices.length * 2;
    hashes = new long[capacity];
    states = new int[capacity];
    firstWords = new int[capacity];
    slices = new long[capacity][];
    int mask = capacity - 1;
    for (int old = 0; old < oldSlices.length; old++) {
      if (oldSlices[old] == null) {
        continue;
      }
      int slot = (int) (oldHashes[old] ^ (oldHashes[old] >>> 32)) & mask;
      while (slices[slot] != null) {
        slot = (slot + 1) & mask;
      }
      hashes[slot] = oldHashes[old];
      states[slot] = oldStates[old];
      firstWords[slot] = oldFirstWords[old];
      slices[slot] = oldSlices[old];
    }
  }
}
