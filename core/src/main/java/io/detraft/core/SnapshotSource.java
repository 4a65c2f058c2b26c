package io.detraft.core;

/**
 * A snapshot image a {@link StateMachine} restores from, read piece by piece (hashicorp/raft's
 * {@code Restore(io.ReadCloser)}, dragonboat's {@code RecoverFromSnapshot(r)}). The host has
 * verified the image's checksums before it hands out the source; a read error is an unchecked
 * exception from the host.
 */
public interface SnapshotSource {
  /** The image's size in bytes. */
  long sizeBytes();

  /**
   * Reads up to {@code length} bytes into {@code target} at {@code offset}: at least one byte
   * unless the image is exhausted (then -1).
   */
  int read(byte[] target, int offset, int length);

  /** Reads exactly {@code length} bytes, or throws if the image ends first. */
  default void readFully(byte[] target, int offset, int length) {
    while (length > 0) {
      int n = read(target, offset, length);
      Invariants.check(n > 0, "snapshot image ended %s bytes early", length);
      offset += n;
      length -= n;
    }
  }

  /**
   * The whole image, read from the start, in memory: for small images (and the byte[]
   * defaults of {@link StateMachine}) only.
   */
  default byte[] readAll() {
    Invariants.check(sizeBytes() <= Integer.MAX_VALUE - 16,
        "a snapshot of %s bytes does not fit in one array: restore it as a stream", sizeBytes());
    byte[] out = new byte[(int) sizeBytes()];
    readFully(out, 0, out.length);
    return out;
  }

  /** A source over an image in memory. */
  static SnapshotSource of(byte[] image) {
    return new SnapshotSource() {
      private int position;

      @Override
      public long sizeBytes() {
        return image.length;
      }

      @Override
      public int read(byte[] target, int offset, int length) {
        if (position == image.length) {
          return length == 0 ? 0 : -1;
        }
        int n = Math.min(length, image.length - position);
        System.arraycopy(image, position, target, offset, n);
        position += n;
        return n;
      }
    };
  }
}
