package io.detraft.core;

import java.util.Arrays;

/**
 * The application replicated by Raft. The host applies committed entries in index order, each
 * exactly once per incarnation; {@code apply} must be deterministic: same commands in the same
 * order, same results and state on every replica.
 *
 * <p><b>Snapshots</b> come in two forms; implement one pair, the other defaults to it. The
 * streaming pair ({@link #saveSnapshot}, {@link #restoreSnapshot}) is what hosts call: an image
 * larger than the heap passes through it piece by piece. The byte[] pair ({@link #snapshot},
 * {@link #restore}) suits small states and holds the whole image in memory.
 */
public interface StateMachine {
  /** Applies the command committed at {@code index} and returns its result (may be empty). */
  byte[] apply(long index, byte[] command);

  /** Serializes the whole state, as of the last applied entry. */
  default byte[] snapshot() {
    byte[][] image = {new byte[64]};
    int[] size = {0};
    saveSnapshot((bytes, offset, length) -> {
      if (size[0] + length > image[0].length) {
        image[0] = Arrays.copyOf(image[0], Math.max(size[0] + length, image[0].length * 2));
      }
      System.arraycopy(bytes, offset, image[0], size[0], length);
      size[0] += length;
    });
    return Arrays.copyOf(image[0], size[0]);
  }

  /** Replaces the whole state with a {@link #snapshot()} image. */
  default void restore(byte[] snapshot) {
    restoreSnapshot(SnapshotSource.of(snapshot));
  }

  /** Writes the whole state, as of the last applied entry, to {@code sink}. */
  default void saveSnapshot(SnapshotSink sink) {
    sink.write(snapshot());
  }

  /** Replaces the whole state with an image {@link #saveSnapshot} wrote, read from {@code source}. */
  default void restoreSnapshot(SnapshotSource source) {
    restore(source.readAll());
  }
}
