package io.detraft.sim;

import org.apache.commons.math3.random.AbstractRandomGenerator;
import org.apache.commons.math3.random.RandomGenerator;

/**
 * The simulator's only source of randomness: SplitMix64, fully specified here so a seed gives
 * the same run on every JVM. A run has one master generator; every component (each node's
 * election jitter, the network, the disk, the nemesis, the workload) gets its own child
 * through {@link #fork}, so adding a draw in one component does not shift the draws of
 * another, and a seed's fault schedule stays comparable across small code changes.
 */
public final class SimRandom {
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private long state;

  public SimRandom(long seed) {
    this.state = seed;
  }

  /** A child generator for one component; {@code stream} names the component. */
  public SimRandom fork(long stream) {
    // Mix the stream id and one draw of this generator, so forks of different parents or
    // streams never share a sequence.
    return new SimRandom(mix64(nextLong() ^ mix64(stream * GOLDEN_GAMMA + 0x632BE59BD9B4E019L)));
  }

  public long nextLong() {
    return mix64(state += GOLDEN_GAMMA);
  }

  /** Uniform in {@code [0, bound)}; bound must be positive. */
  public long nextLong(long bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    // Rejection sampling removes modulo bias.
    long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
    while (true) {
      long bits = nextLong() >>> 1;
      if (bits < limit) {
        return bits % bound;
      }
    }
  }

  /** Uniform in {@code [low, high]} (inclusive). */
  public long between(long low, long high) {
    if (high < low) {
      throw new IllegalArgumentException("empty range [" + low + ", " + high + "]");
    }
    return low + nextLong(high - low + 1);
  }

  public int nextInt(int bound) {
    return (int) nextLong(bound);
  }

  /** Uniform in {@code [0, 1)}. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in {@code [low, high)}. */
  public double uniform(double low, double high) {
    return low + (high - low) * nextDouble();
  }

  public boolean chance(double probability) {
    return probability > 0 && nextDouble() < probability;
  }

  /** An exponentially distributed duration with the given mean, at least 1. */
  public long exponential(long meanNanos) {
    double u = 1.0 - nextDouble(); // (0, 1]: log never sees 0
    return Math.max(1, (long) (-Math.log(u) * meanNanos));
  }

  /**
   * This generator seen as a Commons Math {@link RandomGenerator}, for its distributions. The
   * adapter draws from this generator, so its sequence is part of the seed's.
   */
  public RandomGenerator asRandomGenerator() {
    SimRandom source = this;
    return new AbstractRandomGenerator() {
      @Override
      public void setSeed(long seed) {
        // Commons Math calls setSeed only when asked to; reseeding would break replay.
        throw new UnsupportedOperationException("a simulation generator is seeded once");
      }

      @Override
      public double nextDouble() {
        return source.nextDouble();
      }

      @Override
      public long nextLong() {
        return source.nextLong();
      }

      @Override
      public int nextInt() {
        return (int) source.nextLong();
      }

      @Override
      public int nextInt(int n) {
        return source.nextInt(n);
      }
    };
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
