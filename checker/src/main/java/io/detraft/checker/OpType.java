package io.detraft.checker;

/**
 * The type of one history event, as in Jepsen.
 *
 * <p>{@link #INVOKE} starts an operation; exactly one of the other three may complete it.
 */
public enum OpType {
  /** A process started an operation. */
  INVOKE,
  /** The operation took effect and its result is known. */
  OK,
  /** The operation definitely did not take effect. */
  FAIL,
  /**
   * The outcome is unknown: the operation may have taken effect at any time after its invoke,
   * or never. The process that issued it is considered crashed and never issues again.
   */
  INFO;

  /** Whether this type completes an operation (everything but {@link #INVOKE}). */
  public boolean isCompletion() {
    return this != INVOKE;
  }
}
