package io.detraft.core;

/**
 * Coverage marks: rare protocol paths that tests and simulator sweeps must prove they reached
 * (TigerBeetle's marks, FoundationDB's CODE_PROBE). Each replica counts its own hits; see
 * {@link RawNode#coverage()}.
 */
public enum Mark {
  /** A follower's log was repaired with a conflict hint that skipped entries. */
  CONFLICT_HINT_SKIP,
  /** A leader without a recently active quorum stepped down (CheckQuorum). */
  CHECK_QUORUM_STEP_DOWN,
  /** A vote request was ignored because a leader was heard from recently (lease). */
  VOTE_IGNORED_IN_LEASE,
  /** A PreVote was refused because a leader was heard from recently. */
  PRE_VOTE_REFUSED_LEADER_ALIVE,
  /** A follower sent a snapshot because the entries it needed were compacted. */
  SNAPSHOT_SENT,
  /** A snapshot chunk was sent again after it (or its answer) was lost. */
  SNAPSHOT_CHUNK_RETRY,
  /** A snapshot install restarted from offset 0 (e.g. the follower crashed mid-install). */
  SNAPSHOT_INSTALL_RESTARTED,
  /** A follower replaced its log with a received snapshot. */
  SNAPSHOT_RESTORED,
  /** A follower that already had the snapshot's entry skipped the restore. */
  SNAPSHOT_FAST_FORWARD,
  /** A membership change was refused because the leader had not committed in its term. */
  MEMBERSHIP_CHANGE_BEFORE_TERM_COMMIT,
  /** A membership change was refused because another was still uncommitted. */
  MEMBERSHIP_CHANGE_IN_FLIGHT,
  /** An uncommitted membership change was truncated, reverting the membership. */
  MEMBERSHIP_CHANGE_UNDONE,
  /** A learner was promoted to voter. */
  LEARNER_PROMOTED,
  /** A promotion was refused because the learner had not caught up. */
  LEARNER_NOT_CAUGHT_UP,
  /** A leader removed (or demoted) itself and stepped down once that committed. */
  REMOVED_LEADER_STEPPED_DOWN,
  /** A vote request from a node that is not a voter was ignored. */
  VOTE_FROM_NON_VOTER_IGNORED,
  /** A leadership transfer waited for its target to catch up before TimeoutNow. */
  TRANSFER_WAITED_FOR_CATCH_UP,
  /** A leadership transfer did not finish within an election timeout and was abandoned. */
  TRANSFER_ABANDONED,
  /** A proposal (direct, or forwarded and dropped) was refused during a leadership transfer. */
  PROPOSAL_REFUSED_DURING_TRANSFER,
  /** A replica campaigned on a TimeoutNow. */
  TRANSFER_CAMPAIGN,
  /** A read waited for the new leader's first commit in its term. */
  READ_WAITED_FOR_TERM_COMMIT,
  /** A follower obtained a read index from the leader. */
  FOLLOWER_READ_INDEX,
  /** A read was served from the leader's lease. */
  LEASE_READ,
  /** An idle leader went quiet: no heartbeats, no CheckQuorum (Config#quiesceAfterTicks). */
  LEADER_QUIESCED,
  /** A quiet replica woke for a message or a request. */
  QUIESCE_WOKEN,
  /** A leader sent a witness a command without its payload. */
  WITNESS_PAYLOAD_STRIPPED,
  /** A witness's election timer fired, and it did not campaign. */
  WITNESS_DID_NOT_CAMPAIGN
}
