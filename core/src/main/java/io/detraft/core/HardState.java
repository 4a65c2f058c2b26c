package io.detraft.core;

/**
 * The state Raft must make durable before it speaks (§5.1, Figure 2): current term, the
 * candidate voted for in that term (0 = none), and the commit index (persisted so a restarted
 * node can re-apply without waiting for a leader).
 */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public HardState {
    Invariants.check(term >= 0 && vote >= 0 && commit >= 0, "negative hard state field");
  }
}
