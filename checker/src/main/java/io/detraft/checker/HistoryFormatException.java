package io.detraft.checker;

/**
 * A history that cannot be read or that does not have the shape a checker needs: a syntax
 * error, an op with an unknown type or a non-integer process, a malformed transaction. The
 * message names the op and the reason.
 */
public final class HistoryFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final long opIndex;

  /**
   * @param opIndex the index of the offending op, or -1 if the problem is not in one op
   * @param reason what is wrong, in words
   */
  public HistoryFormatException(long opIndex, String reason) {
    super(opIndex >= 0 ? "op " + opIndex + ": " + reason : reason);
    this.opIndex = opIndex;
  }

  /** The index of the offending op, or -1 if the problem is not in one op. */
  public long opIndex() {
    return opIndex;
  }
}
