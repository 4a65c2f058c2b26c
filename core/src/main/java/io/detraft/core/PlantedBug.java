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
   * A follower commits past the last entry the leader verified it holds: heartbeats carry the
   * leader's whole commit index (not capped at the follower's match index), and the follower
   * commits up to that or the end of its own log. A follower still holding a stale suffix of
   * an older term commits it before the leader's AppendRequest has found where they diverge.
   * (An AppendRequest alone cannot do this here: the first one a follower accepts from a new
   * leader starts where the logs diverge and truncates the suffix, see RaftLog.maybeAppend.)
   */
  FOLLOWER_COMMITS_UNVERIFIED_SUFFIX,
  /**
   * A leader counts its own copy of new entries toward the quorum when it appends them, not
   * once its host has persisted them: with replication in parallel with the leader's fsync,
   * an entry can commit while only a minority holds it durably, and be lost when the leader
   * crashes.
   */
  LEADER_COUNTS_ITSELF_BEFORE_PERSISTING,
  /**
   * The lease never runs out: once a quorum confirmed a heartbeat round in this term, the
   * leader serves reads from its lease forever, also after the others elected a new leader.
   */
  LEASE_NEVER_EXPIRES,
  /** A leader answers ReadIndex at once, without a heartbeat round confirming it still leads. */
  READ_INDEX_WITHOUT_QUORUM,
  /**
   * A quiet leader answers reads alone, as if a quiet group could have no other leader: but a
   * follower woken by a request elects one while the leader is cut off.
   */
  QUIET_LEADER_READS_ALONE,
  /**
   * A leader accepts a leadership transfer and stops taking proposals, but never sends the
   * target its TimeoutNow: the transfer is given up after an election timeout, every time.
   */
  TRANSFER_NEVER_SENDS_TIMEOUT_NOW,
  /**
   * A new leader changes the membership before it committed an entry of its term (the
   * single-server change bug reported on raft-dev in 2015): a change an old leader left
   * uncommitted and the new one, each a single step from the same configuration, can have
   * disjoint majorities.
   */
  MEMBERSHIP_CHANGE_BEFORE_TERM_COMMIT,
  /** A leader accepts a membership change while its previous one is not committed yet. */
  TWO_MEMBERSHIP_CHANGES_IN_FLIGHT,
  /**
   * A witness grants its vote without the election restriction (§5.4.1): it reasons that it
   * holds no data, so whose log is more complete is none of its business. A candidate
   * missing committed entries then wins with the witness's vote and overwrites them.
   */
  WITNESS_VOTES_WITHOUT_LOG_CHECK,
  /**
   * A leader strips payloads (and snapshot images) for a node as soon as its ADD_WITNESS is
   * appended, before it commits: if the change is rolled back, the node is left a non-member
   * whose committed entries (or restored image) are silently empty, and added again later as
   * a learner it would hold them as data.
   */
  WITNESS_STRIPPED_BEFORE_COMMIT,
  /**
   * A leader sends a witness entries and snapshots whole, payloads and image included: safe,
   * but the witness holds the data it exists not to hold (the simulator's witness oracle).
   */
  WITNESS_GETS_PAYLOADS,
  /**
   * A (pre-)candidate that loses its election retries at once, in a new term, instead of
   * becoming a follower and waiting out a randomized election timeout (§5.2). Safe, but not
   * live: a candidate whose log is behind loses every election, and each retry moves the
   * others to its new term, which restarts their timers, so none of them ever campaigns. An
   * election storm, for the liveness check to catch.
   */
  LOSING_CANDIDATE_RETRIES_AT_ONCE
}
