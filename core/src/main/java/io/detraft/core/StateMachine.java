package io.detraft.core;

/**
 * The application replicated by Raft. The host applies committed entries in index order, each
 * exactly once per incarnation; {@code apply} must be deterministic: same commands in the same
 * order, same results and state on every replica.
 */
public interface StateMachine {
  /** Applies the command committed at {@code index} and returns its result (may be empty). */
  byte[] apply(long index, byte[] command);

  /** Serializes the whole state, as of the last applied entry. */
  byte[] snapshot();

  /** Replaces the whole state with a {@link #snapshot()} image. */
  void restore(byte[] snapshot);
}
