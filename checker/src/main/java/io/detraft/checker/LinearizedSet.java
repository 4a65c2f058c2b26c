package io.detraft.checker;

/**
 * The set of operations linearized so far, as a bitset with an incrementally kept hash.
 *
 * <p>Definite operations (which must all be linearized) live in words {@code [0,
 * definiteWords)}, indefinite ones in the words after. The split keeps cache entries small:
 * definite operations are linearized roughly in order, so the definite words form a run of
 * all-ones words, a short window of mixed words, then zero words, and only the window needs
 * storing (see {@link ConfigurationCache}). Indefinite operations may stay unlinearized
 * forever, so mixing them in would keep the window open from the first crash to the end.
 */
final class LinearizedSet {
  /** Bit words: definite region first, then the indefinite region. */
  final long[] words;
  /** Number of words of the definite region. */
  final int definiteWords;
  /** Number of words of the indefinite region. */
  final int indefiniteWords;
  /** Xor of {@link #bitHash} over the members; kept on every change so hashing is O(1). */
  long hash;
  /** No definite word below this is changed since it was last found all-ones. */
  private int fullHint;
  /** Every nonzero definite word is at or below this. */
  private int nonzeroHint = -1;

  LinearizedSet(int definiteCount, int indefiniteCount) {
    definiteWords = (definiteCount + 63) >>> 6;
    indefiniteWords = (indefiniteCount + 63) >>> 6;
    words = new long[definiteWords + indefiniteWords];
  }

  /** Bit position of definite operation number {@code rank}. */
  int definiteBit(int rank) {
    return rank;
  }

  /** Bit position of indefinite operation number {@code rank}. */
  int indefiniteBit(int rank) {
    return (definiteWords << 6) + rank;
  }

  boolean contains(int bit) {
    return (words[bit >>> 6] & (1L << bit)) != 0;
  }

  void add(int bit) {
    int word = bit >>> 6;
    long mask = 1L << bit;
    if ((words[word] & mask) != 0) {
      throw new IllegalStateException("bit " + bit + " is already set");
    }
    words[word] |= mask;
    hash ^= bitHash(bit);
    if (word < definiteWords && word > nonzeroHint) {
      nonzeroHint = word;
    }
  }

  void remove(int bit) {
    int word = bit >>> 6;
    long mask = 1L << bit;
    if ((words[word] & mask) == 0) {
      throw new IllegalStateException("bit " + bit + " is not set");
    }
    words[word] &= ~mask;
    hash ^= bitHash(bit);
    if (word < fullHint) {
      fullHint = word;
    }
  }

  /** The first definite word that is not all ones ({@link #definiteWords} if none). */
  int firstNotFullWord() {
    while (fullHint < definiteWords && words[fullHint] == -1L) {
      fullHint++;
    }
    return fullHint;
  }

  /** The last nonzero definite word, or -1 if none. */
  int lastNonzeroWord() {
    while (nonzeroHint >= 0 && words[nonzeroHint] == 0L) {
      nonzeroHint--;
    }
    return nonzeroHint;
  }

  /** A fixed, well-mixed 64-bit value per bit (SplitMix64's finalizer); no randomness. */
  static long bitHash(long bit) {
    long z = (bit + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
