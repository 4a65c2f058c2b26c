package io.detraft.io;

/**
 * Why a request's future failed: a proposal, a membership change, a read or a leadership
 * transfer. {@link #outcomeUnknown()} tells a client whether a command or change may still
 * take effect (then it must not assume either way, e.g. retry only if idempotent). A read has
 * no effect, so retrying one is always safe.
 */
public final class ProposalException extends RuntimeException {
  /** The ways a proposal can fail. */
  public enum Reason {
    /** This node is not the leader; see {@link #leaderHint()}. Nothing was appended. */
    NOT_LEADER(false),
    /** Another entry was committed at the proposal's index: it will never apply. */
    DROPPED(false),
    /** Leadership was lost before the proposal committed; it may still commit later. */
    LEADERSHIP_LOST(true),
    /** No answer within the proposal timeout; it may still commit later. */
    TIMEOUT(true),
    /** Too many proposals queued on this node; nothing was appended. */
    OVERLOADED(false),
    /** The runner stopped first. Whatever was appended may still commit on the others. */
    SHUTDOWN(true),
    /** The command exceeds the configured maximum size. Nothing was appended. */
    TOO_LARGE(false),
    /** This node runs no such group. Nothing was appended. */
    UNKNOWN_GROUP(false),
    /**
     * The leader refused the request for the reason in the message (e.g. a leadership transfer
     * is in progress, or another membership change is not committed yet). Nothing was
     * appended; retrying later may succeed.
     */
    REJECTED(false);

    private final boolean outcomeUnknown;

    Reason(boolean outcomeUnknown) {
      this.outcomeUnknown = outcomeUnknown;
    }
  }

  private final Reason reason;
  private final long leaderHint;

  ProposalException(Reason reason, long leaderHint, String message) {
    super(reason + ": " + message, null, false, false); // no stack trace: it is an answer
    this.reason = reason;
    this.leaderHint = leaderHint;
  }

  public Reason reason() {
    return reason;
  }

  /** The leader this node knows of (0 if none), for redirecting a NOT_LEADER answer. */
  public long leaderHint() {
    return leaderHint;
  }

  /** Whether the command may still be applied despite this failure. */
  public boolean outcomeUnknown() {
    return reason.outcomeUnknown;
  }
}
