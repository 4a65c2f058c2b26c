package io.detraft.io;

/**
 * A snapshot save gave up because its group is stopping ({@link Node#requestStop}); nothing of
 * it was kept. Not a storage failure: the node goes on, and the group's newest snapshot is the
 * one it had before.
 */
public final class SnapshotAbandonedException extends RuntimeException {
  public SnapshotAbandonedException(String message) {
    super(message);
  }
}
