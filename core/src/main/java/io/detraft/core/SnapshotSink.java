package io.detraft.core;

/**
 * Where a {@link StateMachine} writes its snapshot image, piece by piece (hashicorp/raft's
 * {@code SnapshotSink}, dragonboat's {@code SaveSnapshot(w)}): the host streams each piece to
 * its file, so the image is never whole in memory. A failed write throws an unchecked
 * exception (the host's I/O error), which the state machine lets through.
 */
public interface SnapshotSink {
  /** Appends {@code length} bytes of {@code bytes} from {@code offset} to the image. */
  void write(byte[] bytes, int offset, int length);

  /** Appends all of {@code bytes}. */
  default void write(byte[] bytes) {
    write(bytes, 0, bytes.length);
  }
}
