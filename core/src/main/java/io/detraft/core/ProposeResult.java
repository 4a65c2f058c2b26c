package io.detraft.core;

/** What became of a proposal. Only {@link Accepted} means the leader appended it. */
public sealed interface ProposeResult {
  /** The leader appended the proposal at {@code index} in {@code term}; it may still be lost. */
  record Accepted(long index, long term) implements ProposeResult {}

  /**
   * This follower forwarded the proposal to {@code leader}. Nothing comes back: it may be lost
   * on the way, or refused by the leader (e.g. during a leadership transfer), so time it out
   * and retry; its outcome is unknown until then.
   */
  record Forwarded(long leader) implements ProposeResult {}

  /** Not the leader and not forwarding. {@code leaderHint} is the known leader, or 0. */
  record NotLeader(long leaderHint) implements ProposeResult {}

  /** The leader refused the proposal for the stated reason; nothing was appended. */
  record Rejected(String reason) implements ProposeResult {}
}
