package io.detraft.core;

/**
 * Known consensus bugs that a test can plant in the core on purpose ("canaries"), to show
 * that the simulator's oracles and nemeses catch them. Production code never sets one:
 * {@link Config#defaults} plants none, and nothing outside tests calls {@link
 * Config#withPlantedBug}. Each is a one-line deviation from the correct rule, at the place
 * the rule is enforced.
 */
public enum PlantedBug {
  /**
   * A follower commits up to the leader's commit index or the end of its own log, whichever
   * is smaller, instead of stopping at the last entry the AppendRequest verified: a stale
   * suffix of an older term could become committed.
   */
  FOLLOWER_COMMITS_UNVERIFIED_SUFFIX,
  /**
   * The lease never runs out: once a quorum confirmed a heartbeat round in this term, the
   * leader serves reads from its lease forever, also after the others elected a new leader.
   */
  LEASE_NEVER_EXPIRES,
  /** A leader answers ReadIndex at once, without a heartbeat round confirming it still leads. */
  READ_INDEX_WITHOUT_QUORUM
}
