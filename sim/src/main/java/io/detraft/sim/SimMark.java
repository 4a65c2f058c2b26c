package io.detraft.sim;

/**
 * Coverage marks of the simulated host and clients, next to the core's {@link
 * io.detraft.core.Mark}s: rare situations a sweep must prove it reached, or the nemesis that
 * should cause them is not doing its job.
 */
public enum SimMark {
  /** A host snapshotted its state machine and compacted its log. */
  SNAPSHOT_TAKEN,
  /** A restarting node restored its state machine from the snapshot on its disk. */
  SNAPSHOT_RESTORED_ON_RESTART,
  /** A node crashed while it was receiving a snapshot in chunks. */
  CRASH_DURING_SNAPSHOT_INSTALL,
  /** The nemesis stopped a group's replica on a running node (its data kept). */
  GROUP_REPLICA_STOPPED,
  /** A stopped group's replica started again on its running node, from its own data. */
  GROUP_REPLICA_RESTARTED,
  /** A group's replica stopped while it was receiving a snapshot in chunks: dropped at once. */
  GROUP_STOPPED_DURING_SNAPSHOT_INSTALL,
  /** A snapshot save gave up because its group's stop had been requested (Node.requestStop). */
  SNAPSHOT_ABANDONED_FOR_STOP,
  /**
   * Disaster recovery: a majority's disks lost for good, the group rebuilt on every node from
   * a snapshot exported before (NodeStorage.importSnapshot), and serving again.
   */
  DISASTER_RECOVERED,
  /** A frame with a bit flipped in transit failed its checksum and was dropped. */
  CORRUPT_FRAME_REFUSED,
  /** A dial failed (peer down, refused, or no answer within the handshake timeout): backoff. */
  DIAL_FAILED,
  /** A hello from outside the cluster (stray dialer) was refused by the real handshake check. */
  STRAY_HANDSHAKE_REFUSED,
  /** WAL recovery found a torn tail (an unsynced write a crash cut short) and cut it off. */
  WAL_TORN_TAIL_CUT,
  /** A node's recovery found data damaged at rest and refused to start, naming file and offset. */
  DAMAGED_DISK_REFUSED,
  /** An fsync failed (EIO): the node stopped instead of retrying it, and restarted later. */
  FSYNC_FAILED_STOPPED,
  /** A write failed (ENOSPC): the node stopped, and restarted later. */
  DISK_FULL_STOPPED,
  /**
   * A node restarted with a state machine that had applied past the commit index its WAL
   * recorded (written lazily): recovery raised the commit index to the applied one.
   */
  RESTARTED_AHEAD_OF_COMMIT,
  /** A replica expired an idle client session (counted by the session layer). */
  SESSION_EXPIRED,
  /** A client's command met an expired session: outcome unknown, the client re-registers. */
  CLIENT_SESSION_EXPIRED,
  /** A command applied again (a retry or a duplicate) got the session's remembered answer. */
  DUPLICATE_COMMAND_DEDUPED,
  /** A command retried after a timeout completed exactly once. */
  RETRIED_COMMAND_COMPLETED,
  /** A client's proposal was refused (leadership transfer) and retried. */
  CLIENT_REJECTED_RETRIED,
  /** A leader's accepted proposal was replaced by another entry before it committed. */
  PROPOSAL_LOST,
  /** A linearizable read waited for the replica to apply up to its read index. */
  READ_WAITED_FOR_APPLY,
  /** The target of a leadership transfer became leader. */
  TRANSFER_COMPLETED,
  /** A node outside the committed membership campaigned (an oracle checks it never wins). */
  REMOVED_NODE_CAMPAIGNED,
  /**
   * A replayed old message reached its receiver in the term it was sent in: the term check
   * cannot reject it, only the message's content (indexes, rounds, contexts) can.
   */
  OLD_MESSAGE_REPLAYED_IN_TERM
}
