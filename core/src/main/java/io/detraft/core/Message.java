package io.detraft.core;

import java.util.List;

/**
 * Everything replicas say to each other. Every message names its Raft group, sender, receiver
 * and the sender's term; the receiver handles terms once, at the top of {@code step}, before
 * any per-role logic. Node id 0 means "none".
 */
public sealed interface Message
    permits Message.VoteRequest,
        Message.VoteResponse,
        Message.AppendRequest,
        Message.AppendResponse,
        Message.Heartbeat,
        Message.HeartbeatResponse,
        Message.Propose,
        Message.InstallSnapshot,
        Message.SnapshotResponse,
        Message.TimeoutNow,
        Message.ReadIndexRequest,
        Message.ReadIndexResponse {

  long group();

  long from();

  long to();

  long term();

  /**
   * RequestVote (§5.2), or a PreVote probe when {@code preVote} is set: then {@code term} is the
   * term the sender would campaign in, and the receiver changes no state by answering.
   * {@code transfer} marks an election the leader asked for (TimeoutNow), which receivers
   * must not dismiss as disruptive even though they heard from that leader recently.
   */
  record VoteRequest(
      long group, long from, long to, long term, long lastLogIndex, long lastLogTerm,
      boolean preVote, boolean transfer)
      implements Message {}

  /** The answer to a {@link VoteRequest}; {@code term} echoes the request's term when granted. */
  record VoteResponse(long group, long from, long to, long term, boolean granted, boolean preVote)
      implements Message {}

  /**
   * AppendEntries (§5.3): entries follow the one at {@code prevLogIndex}, which must have
   * {@code prevLogTerm} on the receiver.
   */
  record AppendRequest(
      long group, long from, long to, long term, long prevLogIndex, long prevLogTerm,
      List<Entry> entries, long leaderCommit)
      implements Message {
    public AppendRequest {
      entries = List.copyOf(entries);
    }
  }

  /**
   * The answer to an {@link AppendRequest}. Accepted: {@code index} is the last index the
   * follower now knows to match the leader. Rejected: {@code index} is the rejected
   * {@code prevLogIndex}, and ({@code hintIndex}, {@code hintTerm}) is the follower's largest
   * entry at or below it whose term is at most the leader's {@code prevLogTerm}, letting the
   * leader skip a whole conflicting term per round trip instead of one entry.
   */
  record AppendResponse(
      long group, long from, long to, long term, boolean rejected, long index, long hintIndex,
      long hintTerm)
      implements Message {}

  /**
   * Leader liveness. {@code commit} is at most what the receiver is known to have, so a
   * follower never learns a commit index beyond its own matching log. {@code round} numbers
   * the broadcast; answers echo it, and a majority of answers to round r confirms that the
   * sender was still leader after every read registered before round r (ReadIndex).
   */
  record Heartbeat(long group, long from, long to, long term, long commit, long round)
      implements Message {}

  record HeartbeatResponse(long group, long from, long to, long term, long round)
      implements Message {}

  /** The leader asks a caught-up follower to start an election at once (leader transfer). */
  record TimeoutNow(long group, long from, long to, long term) implements Message {}

  /** A follower asks the leader for a read index on behalf of a local read. */
  record ReadIndexRequest(long group, long from, long to, long term, byte[] context)
      implements Message {}

  /** The leader's answer: the read may be served once the follower applied {@code index}. */
  record ReadIndexResponse(long group, long from, long to, long term, long index,
      byte[] context)
      implements Message {}

  /** Proposals a follower forwards to the leader it knows. {@code term} is 0: not a Raft term. */
  record Propose(long group, long from, long to, long term, List<byte[]> data)
      implements Message {
    public Propose {
      data = List.copyOf(data);
    }
  }

  /**
   * One chunk of a snapshot a leader streams to a follower whose needed entries were compacted
   * (§7). Chunks are sent one at a time, in order; the follower assembles them in memory and
   * installs the snapshot on the chunk with {@code done}.
   *
   * @param snapshotIndex index of the last entry the snapshot covers
   * @param snapshotTerm term of that entry
   * @param membership the membership at {@code snapshotIndex}
   * @param totalBytes size of the whole snapshot
   * @param offset position of {@code chunk} in the snapshot
   */
  record InstallSnapshot(
      long group, long from, long to, long term, long snapshotIndex, long snapshotTerm,
      Membership membership, long totalBytes, long offset, byte[] chunk, boolean done)
      implements Message {
    public InstallSnapshot {
      Invariants.check(offset >= 0 && offset + chunk.length <= totalBytes,
          "chunk [%s, +%s) outside snapshot of %s bytes", offset, chunk.length, totalBytes);
      Invariants.check(done == (offset + chunk.length == totalBytes), "done flag inconsistent");
    }
  }

  /**
   * The answer to an {@link InstallSnapshot}: the follower wants the chunk at
   * {@code nextOffset} next; {@code nextOffset == totalBytes} means it installed the snapshot
   * (or already had its entries), 0 that it restarts the install.
   */
  record SnapshotResponse(long group, long from, long to, long term, long snapshotIndex,
      long nextOffset)
      implements Message {}
}
