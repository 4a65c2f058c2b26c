package io.detraft.core;

/**
 * What a leader knows about one follower's log, and how it sends to it.
 *
 * <p>PROBE: the leader does not know where the logs diverge; it sends one AppendRequest and
 * waits for the answer (or a heartbeat answer) before sending another. REPLICATE: the logs
 * match up to {@code match}; the leader streams entries optimistically, up to the inflight
 * window. SNAPSHOT: the entries the follower needs are compacted; the leader streams it a
 * snapshot one chunk at a time.
 *
 * <p>Invariant: {@code 0 <= match < next}.
 */
final class Progress {
  enum State {
    PROBE,
    REPLICATE,
    SNAPSHOT
  }

  /** Highest index known to be replicated on the follower. */
  long match;
  /** Index of the next entry to send. */
  long next;
  State state = State.PROBE;
  /** In PROBE: an AppendRequest is outstanding, so sending is paused. */
  boolean probeSent;
  /** The highest commit index sent to the follower. */
  long sentCommit;
  /** The highest heartbeat round the follower acknowledged (ReadIndex). */
  long ackedRound;
  /** Heard from the follower since the last CheckQuorum round. */
  boolean recentActive;
  final Inflights inflights;
  /** In SNAPSHOT: the snapshot being sent, the offset the follower wants next, and whether a
   *  chunk is unacknowledged (which pauses sending, as {@code probeSent} does). */
  Snapshot snapshot;
  long snapshotOffset;
  boolean chunkInFlight;
  /** Offset of the chunk sent last, to tell a retry from progress; -1 if none. */
  long lastChunkOffset = -1;

  Progress(long next, int maxInflight) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  void becomeProbe() {
    if (state == State.SNAPSHOT) {
      // The follower installed the snapshot (or no longer needs it): continue after it.
      match = Math.max(match, snapshot.index());
      snapshot = null;
    }
    state = State.PROBE;
    next = match + 1;
    probeSent = false;
    inflights.reset();
  }

  void becomeSnapshot(Snapshot toSend) {
    state = State.SNAPSHOT;
    snapshot = toSend;
    snapshotOffset = 0;
    chunkInFlight = false;
    lastChunkOffset = -1;
    inflights.reset();
  }

  void becomeReplicate() {
    state = State.REPLICATE;
    next = match + 1;
    inflights.reset();
  }

  /** The follower acknowledged up to {@code index}; returns true if {@code match} advanced. */
  boolean maybeUpdate(long index) {
    boolean updated = index > match;
    if (updated) {
      match = index;
      probeSent = false;
    }
    next = Math.max(next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append at {@code rejected}; {@code matchHint} is the highest index
   * that may match. Returns false for a stale rejection (of a message sent before a later one
   * already moved {@code next}).
   */
  boolean maybeDecreaseTo(long rejected, long matchHint) {
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
    probeSent = false;
    return true;
  }

  /** Records that an AppendRequest whose last entry is {@code lastIndex} was sent. */
  void sentAppend(long lastIndex, boolean hadEntries) {
    if (state == State.REPLICATE) {
      if (hadEntries) {
        next = lastIndex + 1;
        inflights.add(lastIndex);
      }
    } else {
      probeSent = true;
    }
  }

  boolean isPaused() {
    return switch (state) {
      case PROBE -> probeSent;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> chunkInFlight;
    };
  }

  void checkInvariants() {
    Invariants.check(match >= 0 && match < next, "progress: match %s next %s", match, next);
    Invariants.check((state == State.SNAPSHOT) == (snapshot != null), "snapshot state mismatch");
  }

  @Override
  public String toString() {
    return state + " match=" + match + " next=" + next + (isPaused() ? " paused" : "");
  }
}
