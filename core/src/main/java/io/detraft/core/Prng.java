package io.detraft.core;

/**
 * The only source of randomness in core: SplitMix64, fully specified here so a seed gives the
 * same sequence on every JVM version (unlike {@code java.util.Random}'s unspecified
 * subclasses and algorithms).
 */
public final class Prng {
  private long state;

  public Prng(long seed) {
    this.state = seed;
  }

  /** Returns the next 64 pseudo-random bits. */
  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Returns a value uniformly drawn from {@code [0, bound)}; bound must be positive. */
  public long nextLong(long bound) {
    Invariants.check(bound > 0, "bound must be positive: %s", bound);
    // Rejection sampling removes modulo bias.
    long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
    while (true) {
      long bits = nextLong() >>> 1;
      if (bits < limit) {
        return bits % bound;
      }
    }
  }

  /** Returns a value uniformly drawn from {@code [0, 1)}. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Returns true with the given probability. */
  public boolean chance(double probability) {
    return nextDouble() < probability;
  }
}
