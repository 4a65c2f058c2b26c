package io.detraft.sim;

/**
 * One slice of a seed range ({@code --shard I/N}): the range is cut into N contiguous
 * slices whose sizes differ by at most one, shard I runs the I-th (0-based, as Kubernetes'
 * {@code JOB_COMPLETION_INDEX} counts). Each seed is in exactly one shard; with more shards
 * than seeds some slices are empty.
 *
 * @param index 0-based, below {@code count}
 * @param count how many shards the range is cut into, at least 1
 */
record Shard(int index, int count) {
  /** The whole range: what a sweep without {@code --shard} runs. */
  static final Shard WHOLE = new Shard(0, 1);

  /** Thrown for a bad {@code --shard} value; the command line exits {@link Main#BAD_SHARD}. */
  static final class BadShardException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    BadShardException(String message) {
      super(message);
    }
  }

  Shard {
    if (count < 1 || index < 0 || index >= count) {
      throw new BadShardException("--shard wants I/N with 0 <= I < N, got " + index + "/"
          + count);
    }
  }

  /** Parses {@code I/N}. */
  static Shard parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new BadShardException("--shard wants I/N (shard I of N, I from 0 to N-1), got '"
          + text + "'");
    }
    int index;
    int count;
    try {
      index = Integer.parseInt(text.substring(0, slash).trim());
      count = Integer.parseInt(text.substring(slash + 1).trim());
    } catch (NumberFormatException e) {
      throw new BadShardException("--shard wants two integers I/N, got '" + text + "'");
    }
    if (count < 1) {
      throw new BadShardException("--shard " + text + ": N must be at least 1");
    }
    if (index < 0 || index >= count) {
      throw new BadShardException("--shard " + text + ": I must be in 0.." + (count - 1)
          + " (shards count from 0)");
    }
    return new Shard(index, count);
  }

  /** This shard's first seed of {@code first..last}; past {@link #last} when it is empty. */
  long first(long first, long last) {
    long size = last - first + 1;
    return first + index * (size / count) + Math.min(index, size % count);
  }

  /** This shard's last seed of {@code first..last}. */
  long last(long first, long last) {
    return nextFirst(first, last) - 1;
  }

  private long nextFirst(long first, long last) {
    long size = last - first + 1;
    int next = index + 1;
    return first + next * (size / count) + Math.min(next, size % count);
  }

  @Override
  public String toString() {
    return index + "/" + count;
  }
}
