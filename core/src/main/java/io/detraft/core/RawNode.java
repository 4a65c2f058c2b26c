package io.detraft.core;

/**
 * The public face of one Raft replica: a single-threaded, deterministic state machine driven
 * by the host through the Ready contract (see the package documentation).
 */
public final class RawNode {
  private final Raft raft;
  /** The Ready handed out and not yet advanced, or null. */
  private Ready outstanding;
  /**
   * Whether an input came since {@link #hasReady} last found nothing to do: only inputs
   * (ticks, messages, requests, advances) change what a replica has ready, so a host of many
   * groups asks only the touched ones ({@link RaftHost#hasReady}).
   */
  boolean touched = true;

  /** A replica over {@code storage}, with nothing applied yet. */
  public RawNode(Config config, LogStorage storage, long seed) {
    this(config, storage, seed, 0);
  }

  /**
   * A replica over {@code storage} whose state machine already reflects every entry up to
   * {@code appliedIndex} (which must not exceed the durable commit index).
   */
  public RawNode(Config config, LogStorage storage, long seed, long appliedIndex) {
    this.raft = new Raft(config, storage, new Prng(seed), appliedIndex);
  }

  /** Advances logical time by one tick. */
  public void tick() {
    input();
    raft.tick();
  }

  /**
   * Handles a message from another replica.
   *
   * @throws IllegalArgumentException if the message is for another group or node
   */
  public void step(Message message) {
    input();
    if (message.group() != raft.config.group() || message.to() != raft.id) {
      throw new IllegalArgumentException(
          "message for group " + message.group() + " node " + message.to()
              + " delivered to group " + raft.config.group() + " node " + raft.id);
    }
    raft.step(message);
  }

  /** Proposes a command; see {@link ProposeResult} for what the answer promises. */
  public ProposeResult propose(byte[] data) {
    input();
    return raft.propose(data);
  }

  /**
   * Proposes a single-server membership change (see {@link MembershipChange}); only a leader
   * accepts, and only one change may be uncommitted at a time.
   */
  public ProposeResult proposeMembership(MembershipChange change) {
    input();
    return raft.proposeMembership(change);
  }

  /** The membership in force now (it changes when a CONFIG_CHANGE entry is appended). */
  public Membership membership() {
    return raft.log.membership();
  }

  /**
   * The membership in force at {@code index}, for a host taking a snapshot there; valid from
   * the snapshot the log starts at.
   */
  public Membership membershipAt(long index) {
    return raft.log.membershipAt(index);
  }

  /**
   * The index of the snapshot the log starts after, a snapshot received from the leader and
   * not yet restored included: a host's state machine behind it must not be snapshotted.
   */
  public long snapshotIndex() {
    return raft.log.firstIndex() - 1;
  }

  /**
   * Starts handing leadership to {@code target}; proposals are refused until the transfer
   * ends (the target wins, or an election timeout passes). Proposals forwarded by followers
   * meanwhile are dropped, and counted as {@link Mark#PROPOSAL_REFUSED_DURING_TRANSFER}.
   */
  public ProposeResult transferLeadership(long target) {
    input();
    return raft.transferLeadership(target);
  }

  /**
   * Requests a linearizable read identified by {@code context}. A {@link ReadState} with the
   * same context comes out of a later Ready; serve the read once that index is applied. A
   * read is silently dropped if leadership changes first: time it out and retry.
   */
  public ProposeResult readIndex(byte[] context) {
    input();
    return raft.readIndex(context);
  }

  /** Starts an election now (PreVote first when configured), as if the election timer fired. */
  public void campaign() {
    input();
    raft.hup();
  }

  public boolean hasReady() {
    return outstanding == null && raft.hasReady();
  }

  /** Collects the pending work; the host must call {@link #advance} when it is done. */
  public Ready ready() {
    checkNoOutstandingReady();
    outstanding = raft.ready();
    return outstanding;
  }

  /** Tells the node that the host persisted, sent and applied everything in {@code ready}. */
  public void advance(Ready ready) {
    Invariants.check(ready != null && ready == outstanding, "advance without matching ready()");
    outstanding = null;
    touched = true;
    raft.advance(ready);
  }

  public Status status() {
    return raft.status();
  }

  /** How often this replica reached each rare path ({@link Mark}). */
  public Coverage coverage() {
    return raft.coverage;
  }

  private void input() {
    checkNoOutstandingReady();
    touched = true;
  }

  private void checkNoOutstandingReady() {
    Invariants.check(outstanding == null, "a Ready is outstanding: call advance() first");
  }
}
