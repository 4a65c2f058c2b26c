package io.detraft.core;

import io.detraft.core.Message.AppendRequest;
import io.detraft.core.Message.AppendResponse;
import io.detraft.core.Message.Heartbeat;
import io.detraft.core.Message.HeartbeatResponse;
import io.detraft.core.Message.InstallSnapshot;
import io.detraft.core.Message.Propose;
import io.detraft.core.Message.ReadIndexRequest;
import io.detraft.core.Message.ReadIndexResponse;
import io.detraft.core.Message.SnapshotResponse;
import io.detraft.core.Message.TimeoutNow;
import io.detraft.core.Message.VoteRequest;
import io.detraft.core.Message.VoteResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The Raft algorithm for one replica of one group. Section numbers refer to the Raft paper
 * (Ongaro and Ousterhout, 2014); "thesis" to Ongaro's dissertation.
 *
 * <p>All input arrives through {@link #tick}, {@link #step}, {@link #propose} and
 * {@link #advance}; all output leaves through {@link #ready}. Terms are handled once, at the
 * top of {@link #step}; then the message goes to the handler of the current role.
 *
 * <p>Java 17 has no pattern {@code switch}, so dispatch on the sealed {@link Message} type is
 * written as one {@code instanceof} chain per role.
 */
final class Raft {
  final long id;
  final Config config;
  final RaftLog log;
  private final Prng prng;
  final Coverage coverage = new Coverage();

  /** Latest term this replica has seen (§5.1). Persisted. */
  private long term;
  /** The candidate voted for in {@code term}, or 0. Persisted. Invariant: one vote per term. */
  private long vote;
  private Role role = Role.FOLLOWER;
  /** The leader of {@code term} as far as this replica knows, or 0. */
  private long leader;

  /** Ticks since the last election timeout (followers, candidates) or CheckQuorum round. */
  private int electionElapsed;
  /** Ticks since the last heartbeat broadcast (leader only). */
  private int heartbeatElapsed;
  /** Drawn from [electionTimeout, 2 * electionTimeout) at every term or role change (§5.2). */
  private int randomizedElectionTimeout;

  /** Votes received in the current (pre-)election, by voter, in id order. */
  private final TreeMap<Long, Boolean> votes = new TreeMap<>();
  /** Leader only: each voter's progress, self included, in id order. */
  private final TreeMap<Long, Progress> progress = new TreeMap<>();
  /**
   * Leader only: entries were appended or the commit index advanced since the last broadcast;
   * the broadcast waits for the next Ready so many proposals share one AppendRequest.
   */
  private boolean broadcastPending;

  /** Leader only: the target of a leadership transfer in progress, or 0. */
  private long transferTarget;
  /** Ticks since the transfer started; past an election timeout it is abandoned. */
  private int transferElapsed;

  /** A read waiting for confirmation that we are still leader. round 0: not yet sent. */
  private record PendingRead(long round, long index, byte[] context, long requester) {
    PendingRead inRound(long r) {
      return new PendingRead(r, index, context, requester);
    }
  }

  /** Leader only: reads waiting for a heartbeat round to confirm leadership, oldest first. */
  private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
  /** Leader only: reads that arrived before the leader committed an entry of its term. */
  private final List<PendingRead> readsBeforeTermCommit = new ArrayList<>();
  /** Leader only: the last heartbeat round broadcast, and the tick each recent one left at. */
  private long readRound;
  private final TreeMap<Long, Long> roundSentTick = new TreeMap<>();
  /** Leader only: a TimeoutNow was sent this term, so the lease can no longer be trusted. */
  private boolean leaseRevoked;
  /** Confirmed reads for the next Ready. */
  private final List<ReadState> readStates = new ArrayList<>();
  /** Ticks since this replica started: the lease's clock. */
  private long now;
  /**
   * With lease reads, a restarted replica forgot the lease it may have granted a leader just
   * before it crashed; it withholds votes for one election timeout to honour it anyway.
   */
  private int votesWithheldTicks;

  /** Ticks the group has been idle (see {@link #tickQuiescence}), and whether we went quiet. */
  private int idleTicks;
  private boolean quiet;

  /** Follower only: the snapshot being received from the leader, or null. */
  private IncomingSnapshot incoming;
  /** Follower only, with {@link Config#streamSnapshots}: chunks accepted since the last Ready. */
  private final List<SnapshotChunk> snapshotChunks = new ArrayList<>();

  /** Output waiting for the next Ready. */
  private final List<Message> outbox = new ArrayList<>();
  private SoftState lastSoftState;
  private HardState lastHardState;

  Raft(Config config, LogStorage storage, Prng prng, long appliedIndex) {
    this.id = config.id();
    this.config = config;
    this.prng = prng;
    HardState hardState = storage.hardState();
    this.log = new RaftLog(storage, hardState.commit(), appliedIndex, coverage);
    this.term = hardState.term();
    this.vote = hardState.vote();
    this.lastHardState = hardState;
    becomeFollower(term, 0);
    // A replica that never had a term cannot have promised any leader a lease.
    this.votesWithheldTicks = config.leaseReads() && term > 0 ? config.electionTimeoutTicks()
        : 0;
    this.lastSoftState = softState();
    checkInvariants();
  }

  // ---------------------------------------------------------------- time

  void tick() {
    now++;
    if (votesWithheldTicks > 0) {
      votesWithheldTicks--;
    }
    if (config.quiesceAfterTicks() > 0) {
      tickQuiescence();
    }
    if (role == Role.LEADER) {
      if (!quiet) {
        tickLeader(); // A quiet leader sends no heartbeats and runs no CheckQuorum.
      }
    } else {
      tickElection();
    }
    checkInvariants();
  }

  private void tickElection() {
    electionElapsed++;
    if (quiet) {
      // The timer runs (votes are no longer withheld for a silent leader) but never fires.
      electionElapsed = Math.min(electionElapsed, randomizedElectionTimeout);
      return;
    }
    if (electionElapsed >= randomizedElectionTimeout) {
      electionElapsed = 0;
      hup();
    }
  }

  private void tickLeader() {
    heartbeatElapsed++;
    electionElapsed++;
    if (transferTarget != 0 && ++transferElapsed >= config.electionTimeoutTicks()) {
      // The target did not take over in time (lagging, partitioned or crashed): resume.
      coverage.hit(Mark.TRANSFER_ABANDONED);
      transferTarget = 0;
    }
    if (electionElapsed >= config.electionTimeoutTicks()) {
      electionElapsed = 0;
      if (config.checkQuorum() && !quorumRecentlyActive()) {
        // CheckQuorum: a leader cut off from a majority stops serving (thesis §6.2), so a
        // client is not left waiting on a leader that can no longer commit.
        coverage.hit(Mark.CHECK_QUORUM_STEP_DOWN);
        becomeFollower(term, 0);
        return;
      }
    }
    if (heartbeatElapsed >= config.heartbeatIntervalTicks()) {
      heartbeatElapsed = 0;
      broadcastHeartbeat();
    }
  }

  /**
   * Quiescence (Config#quiesceAfterTicks). A follower whose leader is known and whose log is
   * all committed, hearing nothing but heartbeats, goes quiet after the threshold; its leader,
   * with every member caught up and nothing pending, an election timeout later, so that its
   * followers are quiet before its heartbeats stop. Anything else wakes a replica ({@link
   * #wake}).
   */
  private void tickQuiescence() {
    if (quiet) {
      // Only activity ends quiet: every message but a heartbeat and every request wakes
      // (wake), and every change of term or role resets. Re-checking idleness here would
      // cost each quiet group a scan of its progress on every tick, which at a thousand
      // groups a node was a tenth of the Raft thread.
      return;
    }
    boolean idle = role == Role.LEADER ? leaderIdle()
        : role == Role.FOLLOWER && leader != 0 && log.committed == log.lastIndex();
    if (!idle) {
      wake(0);
      return;
    }
    int threshold = config.quiesceAfterTicks()
        + (role == Role.LEADER ? config.electionTimeoutTicks() : 0);
    if (!quiet && ++idleTicks >= threshold) {
      quiet = true;
      if (role == Role.LEADER) {
        coverage.hit(Mark.LEADER_QUIESCED);
      }
    }
  }

  private boolean leaderIdle() {
    if (transferTarget != 0 || !pendingReads.isEmpty() || !readsBeforeTermCommit.isEmpty()
        || log.committed != log.lastIndex()) {
      return false;
    }
    for (Progress p : progress.values()) {
      if (p.match != log.lastIndex()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Activity (a message other than a heartbeat, from {@code sender}; or a request, sender 0):
   * counts idleness from zero, and wakes a quiet replica. A woken leader heartbeats at once
   * and gives every member a CheckQuorum round to answer; a follower woken by anyone but its
   * leader restarts its election timer and wakes the leader (with a truthful acknowledgement
   * of what it holds), or the timer would depose a leader that is only quiet.
   */
  private void wake(long sender) {
    idleTicks = 0;
    if (!quiet) {
      return;
    }
    quiet = false;
    coverage.hit(Mark.QUIESCE_WOKEN);
    electionElapsed = 0;
    if (role == Role.LEADER) {
      for (Progress p : progress.values()) {
        p.recentActive = true;
      }
      broadcastHeartbeat();
    } else if (leader != 0 && sender != leader) {
      send(new AppendResponse(config.group(), id, leader, term, false,
          Math.min(log.committed, log.stableLastIndex()), 0, 0));
    }
  }

  /** Whether a majority (self included) was heard from since the last call; resets the flags. */
  private boolean quorumRecentlyActive() {
    Membership membership = log.membership();
    int active = 0;
    for (var e : progress.entrySet()) {
      if (membership.isVoter(e.getKey()) && (e.getKey() == id || e.getValue().recentActive)) {
        active++;
      }
      e.getValue().recentActive = false;
    }
    return active >= membership.quorum();
  }

  // ---------------------------------------------------------------- elections

  /** The election timer fired, or the host asked for an election. */
  void hup() {
    // A node that an uncommitted change removes (or demotes) may still be needed to elect a
    // leader of the old configuration, e.g. when it holds the longest log: it campaigns too.
    boolean voter = log.membership().isVoter(id)
        || (log.lastConfigIndex() > log.committed && log.membershipAt(log.committed).isVoter(id));
    if (role == Role.LEADER) {
      return;
    }
    if (!voter) {
      // It cannot campaign, but it heard from no leader for an election timeout: forget the
      // leader, or it would refuse votes (lease, PreVote) forever on behalf of a dead one.
      leader = 0;
      return;
    }
    campaign(config.preVote(), false);
  }

  /**
   * Starts a PreVote round or an election. {@code transfer}: the leader asked for it with
   * TimeoutNow, so voters must not dismiss it as disruptive.
   */
  private void campaign(boolean preVote, boolean transfer) {
    if (log.membership().isWitness(id)) {
      // A witness holds no data: it votes and counts in quorums, but never leads. It heard
      // from no leader for an election timeout, though: it forgets the leader, as a follower
      // that campaigns does, or it would refuse every (Pre)Vote for as long as it remembers
      // one, and a lone data voter could never win it.
      coverage.hit(Mark.WITNESS_DID_NOT_CAMPAIGN);
      leader = 0;
      return;
    }
    long electionTerm;
    if (preVote) {
      becomePreCandidate();
      electionTerm = term + 1; // Not adopted until the PreVote round is won.
    } else {
      becomeCandidate();
      electionTerm = term;
    }
    votes.put(id, true);
    if (tally() == Quorum.VoteResult.WON) {
      // A single-voter group needs no one else.
      if (preVote) {
        campaign(false, false);
      } else {
        becomeLeader();
      }
      return;
    }
    for (long voter : log.membership().voters()) {
      if (voter != id) {
        send(new VoteRequest(config.group(), id, voter, electionTerm, log.lastIndex(),
            log.lastTerm(), preVote, transfer));
      }
    }
  }

  private Quorum.VoteResult tally() {
    return Quorum.voteResult(log.membership(), votes);
  }

  private void becomeFollower(long newTerm, long newLeader) {
    reset(newTerm);
    role = Role.FOLLOWER;
    leader = newLeader;
  }

  private void becomePreCandidate() {
    Invariants.check(role != Role.LEADER, "leader cannot become pre-candidate");
    // Term and vote stay: a PreVote round changes no persistent state (thesis §9.6).
    votes.clear();
    role = Role.PRE_CANDIDATE;
    leader = 0;
  }

  private void becomeCandidate() {
    Invariants.check(role != Role.LEADER, "leader cannot become candidate");
    reset(term + 1);
    vote = id;
    role = Role.CANDIDATE;
  }

  private void becomeLeader() {
    Invariants.check(role == Role.CANDIDATE, "only a candidate can become leader, not %s", role);
    reset(term);
    role = Role.LEADER;
    leader = id;
    trackMembers();
    progress.get(id).match = log.stableLastIndex();
    // §5.4.2 and §8: a leader commits entries of earlier terms only by committing one of its
    // own, so it appends an empty entry right away.
    appendEntries(List.of(new byte[0]));
  }

  /** Moves to {@code newTerm} (clearing the vote if the term changes) and clears role state. */
  private void reset(long newTerm) {
    if (newTerm != term) {
      Invariants.check(newTerm > term, "term must not go backwards: %s -> %s", term, newTerm);
      term = newTerm;
      vote = 0;
      incoming = null; // A new leader may send a different snapshot.
    }
    leader = 0;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    idleTicks = 0;
    quiet = false;
    randomizedElectionTimeout = config.electionTimeoutTicks()
        + (int) prng.nextLong(config.electionTimeoutTicks());
    votes.clear();
    progress.clear();
    broadcastPending = false;
    transferTarget = 0;
    transferElapsed = 0;
    // Unconfirmed reads die with the leadership; their clients time out and retry.
    pendingReads.clear();
    readsBeforeTermCommit.clear();
    roundSentTick.clear();
    readRound = 0;
    leaseRevoked = false;
  }

  // ---------------------------------------------------------------- messages

  void step(Message m) {
    if (m instanceof Propose p) {
      wake(m.from());
      stepPropose(p); // Carries no Raft term.
      checkInvariants();
      return;
    }
    if (m instanceof VoteRequest && !log.membership().isVoter(m.from())
        && leader != 0 && (electionElapsed < config.electionTimeoutTicks() || quiet)) {
      // A removed (or not yet added) node must not disrupt the group: its votes are ignored
      // before its term can move ours. In a quiet group too, whose timers say nothing of the
      // leader: a quiet leader never hears that its follower moved to the removed node's
      // term, and a witness there never campaigns to tell it (seed -2832).
      coverage.hit(Mark.VOTE_FROM_NON_VOTER_IGNORED);
      return;
    }
    if (m.term() > term) {
      if (m instanceof VoteRequest request && !request.transfer() && inLease()) {
        coverage.hit(Mark.VOTE_IGNORED_IN_LEASE);
        // CheckQuorum's lease: we heard from a live leader less than an election timeout ago,
        // so this candidate is disruptive (thesis §4.2.3); do not even adopt its term.
        return;
      }
      boolean preVoteMessage = (m instanceof VoteRequest request && request.preVote())
          || (m instanceof VoteResponse response && response.preVote() && response.granted());
      // A PreVote request carries a term the sender has not adopted, and a granted PreVote
      // answer echoes it; neither may move our term. A rejected one carries the voter's term.
      if (!preVoteMessage) {
        boolean fromLeader = m instanceof AppendRequest || m instanceof Heartbeat
            || m instanceof InstallSnapshot;
        becomeFollower(m.term(), fromLeader ? m.from() : 0);
      }
    } else if (m.term() < term) {
      stepStale(m);
      checkInvariants();
      return;
    }

    if (!(m instanceof Heartbeat || m instanceof HeartbeatResponse)) {
      wake(m.from());
    }
    if (m instanceof VoteRequest request) {
      handleVoteRequest(request);
    } else {
      switch (role) {
        case LEADER -> stepLeader(m);
        case PRE_CANDIDATE, CANDIDATE -> stepCandidate(m);
        case FOLLOWER -> stepFollower(m);
      }
    }
    checkInvariants();
  }

  /** Whether we believe a leader is alive (heard from it within an election timeout). */
  private boolean inLease() {
    // A quiet leader's timer stands still and it sends no heartbeats: no evidence of a live
    // leader, so a candidate's request reaches it (else a group whose quorum needs the quiet
    // leader's vote could never elect another).
    return (config.checkQuorum() && leader != 0
        && electionElapsed < config.electionTimeoutTicks() && !(quiet && role == Role.LEADER))
        || votesWithheldTicks > 0;
  }

  /** A message from an older term. */
  private void stepStale(Message m) {
    if (m instanceof AppendRequest || m instanceof Heartbeat || m instanceof InstallSnapshot) {
      // A leader of an old term may be cut off from everyone with a higher term: PreVote,
      // CheckQuorum and ignored votes of non-voters all keep higher terms from reaching it, so
      // we answer with our term and it steps down (otherwise it could block a node that still
      // follows it from ever campaigning).
      send(new AppendResponse(config.group(), id, m.from(), term, true, 0, 0, 0));
    } else if (m instanceof VoteRequest request) {
      // Rejected with our term (§5.1), so a stale (pre-)candidate learns it is behind. A
      // candidate that needs our vote may otherwise never reach our term: if we count it as
      // a non-voter (an uncommitted membership change it lacks), we never send it anything,
      // and its own campaigns trail ours forever (found by the simulator, seed 686).
      send(new VoteResponse(config.group(), id, m.from(), term, false, request.preVote()));
    }
    // Everything else from an old term is ignored.
  }

  private void handleVoteRequest(VoteRequest m) {
    // We can vote for m.from if we already did this term, or have voted for no one and know no
    // leader; a PreVote for a future term binds nothing, so it only needs the log check.
    boolean canVote = vote == m.from()
        || (vote == 0 && leader == 0)
        || (m.preVote() && m.term() > term);
    // Thesis §9.6: a replica that heard from a leader within an election timeout refuses
    // PreVotes, with or without CheckQuorum; so a rejoining node with an up-to-date log
    // cannot depose a healthy leader.
    boolean leaderAlive = leader != 0 && electionElapsed < config.electionTimeoutTicks();
    if (m.preVote() && leaderAlive) {
      coverage.hit(Mark.PRE_VOTE_REFUSED_LEADER_ALIVE);
      canVote = false;
    }
    // A witness checks its log like any voter: its terms and indexes are the leader's, only
    // the payloads are gone, so the §5.4.1 election restriction holds with it as it does
    // without it (the planted bug skips the check).
    boolean upToDate = log.isUpToDate(m.lastLogIndex(), m.lastLogTerm())
        || (config.planted(PlantedBug.WITNESS_VOTES_WITHOUT_LOG_CHECK)
            && log.membership().isWitness(id));
    if (canVote && upToDate) {
      send(new VoteResponse(config.group(), id, m.from(), m.term(), true, m.preVote()));
      if (!m.preVote()) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(new VoteResponse(config.group(), id, m.from(), term, false, m.preVote()));
    }
  }

  private void stepLeader(Message m) {
    if (m instanceof AppendResponse response) {
      handleAppendResponse(response);
    } else if (m instanceof HeartbeatResponse response) {
      handleHeartbeatResponse(response);
    } else if (m instanceof SnapshotResponse response) {
      handleSnapshotResponse(response);
    } else if (m instanceof ReadIndexRequest request) {
      handleReadRequest(request.context(), m.from());
    } else if (m instanceof AppendRequest || m instanceof Heartbeat
        || m instanceof InstallSnapshot) {
      Invariants.check(false, "two leaders in term %s: %s and %s", term, id, m.from());
    }
    // Vote responses for an election already won are ignored.
  }

  private void stepCandidate(Message m) {
    if (m instanceof AppendRequest request) {
      becomeFollower(term, m.from()); // A leader exists in our term (§5.2).
      handleAppend(request);
    } else if (m instanceof Heartbeat heartbeat) {
      becomeFollower(term, m.from());
      handleHeartbeat(heartbeat);
    } else if (m instanceof InstallSnapshot chunk) {
      becomeFollower(term, m.from());
      handleInstallSnapshot(chunk);
    } else if (m instanceof VoteResponse response) {
      if (response.preVote() != (role == Role.PRE_CANDIDATE)) {
        return; // An answer from an earlier phase.
      }
      votes.putIfAbsent(m.from(), response.granted());
      switch (tally()) {
        case WON -> {
          if (role == Role.PRE_CANDIDATE) {
            campaign(false, false);
          } else {
            becomeLeader();
          }
        }
        case LOST -> {
          if (config.planted(PlantedBug.LOSING_CANDIDATE_RETRIES_AT_ONCE)) {
            campaign(false, false);
          } else {
            becomeFollower(term, 0);
          }
        }
        case PENDING -> { }
      }
    }
  }

  private void stepFollower(Message m) {
    if (m instanceof AppendRequest request) {
      electionElapsed = 0;
      leader = m.from();
      handleAppend(request);
    } else if (m instanceof Heartbeat heartbeat) {
      electionElapsed = 0;
      leader = m.from();
      handleHeartbeat(heartbeat);
    } else if (m instanceof InstallSnapshot chunk) {
      electionElapsed = 0;
      leader = m.from();
      handleInstallSnapshot(chunk);
    } else if (m instanceof ReadIndexResponse response) {
      coverage.hit(Mark.FOLLOWER_READ_INDEX);
      readStates.add(new ReadState(response.index(), response.context()));
    } else if (m instanceof TimeoutNow && m.from() == leader && log.membership().isVoter(id)
        && !log.membership().isWitness(id)) {
      // Thesis §3.10: the leader made sure our log is complete; skip PreVote and campaign.
      coverage.hit(Mark.TRANSFER_CAMPAIGN);
      campaign(false, true);
    }
  }

  private void stepPropose(Propose m) {
    if (role == Role.LEADER && transferTarget != 0) {
      // Refused like a direct proposal, but no message carries a refusal back. The forwarder
      // answered its client Forwarded, which promises nothing: the client times out and
      // retries, by then at the new leader. The mark keeps the refusal visible.
      coverage.hit(Mark.PROPOSAL_REFUSED_DURING_TRANSFER);
    } else if (role == Role.LEADER) {
      appendEntries(m.data());
    } else if (role == Role.FOLLOWER && leader != 0 && config.forwardProposals()
        && leader != m.from()) {
      send(new Propose(config.group(), id, leader, 0, m.data()));
    }
    // Otherwise dropped: the proposer learns nothing and its client times out.
  }

  // ---------------------------------------------------------------- follower side

  private void handleAppend(AppendRequest m) {
    if (m.prevLogIndex() < log.committed) {
      // Everything up to our commit index matches any leader's log (leader completeness).
      send(new AppendResponse(config.group(), id, m.from(), term, false, log.committed, 0, 0));
      return;
    }
    long lastNew = log.maybeAppend(m.prevLogIndex(), m.prevLogTerm(), m.leaderCommit(),
        m.entries());
    if (lastNew >= 0) {
      send(new AppendResponse(config.group(), id, m.from(), term, false, lastNew, 0, 0));
      return;
    }
    long[] hint = log.findConflictByTerm(m.prevLogIndex(), m.prevLogTerm());
    send(new AppendResponse(config.group(), id, m.from(), term, true, m.prevLogIndex(), hint[0],
        hint[1]));
  }

  private void handleHeartbeat(Heartbeat m) {
    log.commitTo(config.planted(PlantedBug.FOLLOWER_COMMITS_UNVERIFIED_SUFFIX)
        ? Math.min(m.commit(), log.lastIndex()) : m.commit());
    send(new HeartbeatResponse(config.group(), id, m.from(), term, m.round()));
  }

  /** Assembles snapshot chunks in order; installs the snapshot once the last one arrives. */
  private void handleInstallSnapshot(InstallSnapshot m) {
    long index = m.snapshotIndex();
    if (index <= log.committed) {
      // Everything it covers is committed here already: nothing to install.
      incoming = null;
      send(new SnapshotResponse(config.group(), id, m.from(), term, index, m.totalBytes()));
      return;
    }
    boolean sameSnapshot = incoming != null && incoming.index == index
        && incoming.term == m.snapshotTerm() && incoming.totalBytes == m.totalBytes();
    if (m.offset() == 0) {
      incoming = new IncomingSnapshot(index, m.snapshotTerm(), m.totalBytes());
    } else if (!sameSnapshot || incoming.size() != m.offset()) {
      // A chunk out of order, or of an install we no longer have (we restarted): ask for the
      // chunk we need, from the start if we hold nothing of this snapshot.
      long wanted = sameSnapshot ? incoming.size() : 0;
      send(new SnapshotResponse(config.group(), id, m.from(), term, index, wanted));
      return;
    }
    if (config.streamSnapshots()) {
      // The host writes the chunk before this Ready's reply leaves (persist, then send).
      incoming.skip(m.chunk().length);
      snapshotChunks.add(new SnapshotChunk(index, m.snapshotTerm(), m.membership(),
          m.totalBytes(), m.offset(), m.chunk(), m.done()));
    } else {
      incoming.append(m.chunk());
    }
    if (!m.done()) {
      send(new SnapshotResponse(config.group(), id, m.from(), term, index, incoming.size()));
      return;
    }
    Snapshot snapshot = config.streamSnapshots()
        ? Snapshot.metadata(index, m.snapshotTerm(), m.membership(), m.totalBytes())
        : new Snapshot(index, m.snapshotTerm(), m.membership(), incoming.bytes());
    incoming = null;
    if (log.matchTerm(index, snapshot.term())) {
      // We hold its last entry, so by log matching our log already contains the snapshot's
      // history: keep the log (and any entries after it) and just commit.
      coverage.hit(Mark.SNAPSHOT_FAST_FORWARD);
      log.commitTo(index);
    } else {
      coverage.hit(Mark.SNAPSHOT_RESTORED);
      log.restore(snapshot);
    }
    send(new SnapshotResponse(config.group(), id, m.from(), term, index, m.totalBytes()));
  }

  // ---------------------------------------------------------------- leader side

  ProposeResult propose(byte[] data) {
    Invariants.check(data != null, "proposal data is null");
    wake(0);
    ProposeResult result;
    if (role == Role.LEADER && transferTarget != 0) {
      coverage.hit(Mark.PROPOSAL_REFUSED_DURING_TRANSFER);
      result = new ProposeResult.Rejected("leadership transfer to " + transferTarget
          + " in progress; retry at the new leader");
    } else if (role == Role.LEADER) {
      appendEntries(List.of(data));
      result = new ProposeResult.Accepted(log.lastIndex(), term);
    } else if (role == Role.FOLLOWER && leader != 0 && config.forwardProposals()) {
      send(new Propose(config.group(), id, leader, 0, List.of(data)));
      result = new ProposeResult.Forwarded(leader);
    } else {
      result = new ProposeResult.NotLeader(leader);
    }
    checkInvariants();
    return result;
  }

  /** Appends new entries in this term; replication waits for the next Ready (batching). */
  private void appendEntries(List<byte[]> data) {
    if (data.isEmpty()) {
      return;
    }
    List<Entry> entries = new ArrayList<>(data.size());
    long index = log.lastIndex();
    for (byte[] d : data) {
      entries.add(Entry.normal(term, ++index, d));
    }
    log.append(entries);
    broadcastPending = true;
    // Our own acknowledgement is counted in advance(), once the host has persisted them.
    if (config.planted(PlantedBug.LEADER_COUNTS_ITSELF_BEFORE_PERSISTING)
        && progress.get(id).maybeUpdate(log.lastIndex())) {
      maybeCommit();
    }
  }

  /**
   * Proposes a single-server membership change. Refused unless this replica leads, has
   * committed an entry in its own term, and has no other change uncommitted: the first rule
   * fixes the single-server change bug reported on raft-dev in 2015, where a change appended
   * by a leader of an old term and one by a new leader, each a single step from the same
   * membership, could commit with disjoint majorities.
   */
  ProposeResult proposeMembership(MembershipChange change) {
    wake(0);
    ProposeResult result = checkMembershipChange(change);
    if (result == null) {
      Membership next = log.membership().apply(change);
      Entry entry = new Entry(term, log.lastIndex() + 1, EntryType.CONFIG_CHANGE,
          Codec.encodeMembership(next));
      log.append(List.of(entry));
      broadcastPending = true;
      trackMembers();
      if (change.type() == MembershipChange.Type.PROMOTE_LEARNER) {
        coverage.hit(Mark.LEARNER_PROMOTED);
      }
      result = new ProposeResult.Accepted(entry.index(), term);
    }
    checkInvariants();
    return result;
  }

  /** Null if the change may be proposed now, else the answer explaining why not. */
  private ProposeResult checkMembershipChange(MembershipChange change) {
    if (role != Role.LEADER) {
      return new ProposeResult.NotLeader(leader);
    }
    if (transferTarget != 0) {
      coverage.hit(Mark.PROPOSAL_REFUSED_DURING_TRANSFER);
      return new ProposeResult.Rejected("leadership transfer to " + transferTarget
          + " in progress");
    }
    if (log.term(log.committed) != term
        && !config.planted(PlantedBug.MEMBERSHIP_CHANGE_BEFORE_TERM_COMMIT)) {
      coverage.hit(Mark.MEMBERSHIP_CHANGE_BEFORE_TERM_COMMIT);
      return new ProposeResult.Rejected("the leader has not yet committed an entry of term "
          + term + "; retry shortly");
    }
    if (log.lastConfigIndex() > log.committed
        && !config.planted(PlantedBug.TWO_MEMBERSHIP_CHANGES_IN_FLIGHT)) {
      coverage.hit(Mark.MEMBERSHIP_CHANGE_IN_FLIGHT);
      return new ProposeResult.Rejected("membership change at index " + log.lastConfigIndex()
          + " is not committed yet; one change at a time");
    }
    Membership current = log.membership();
    long node = change.node();
    // A witness breaks ties between data voters; next to a single one it would only add a
    // voter that can block every election (holding an entry the data voter lacks, it refuses
    // its vote, and no one else can lead). So a group with witnesses keeps two data voters.
    int dataVoters = current.voters().length - current.witnesses().length;
    boolean lastDataVoter = current.isVoter(node) && !current.isWitness(node)
        && (dataVoters == 1 || (dataVoters == 2 && current.witnesses().length > 0));
    String refusal = switch (change.type()) {
      case ADD_VOTER -> current.isVoter(node) ? "is already a voter" : null;
      case ADD_WITNESS, ADD_LEARNER -> current.isMember(node) ? "is already a member" : null;
      case PROMOTE_LEARNER -> !current.isLearner(node) ? "is not a learner" : null;
      case DEMOTE_VOTER, REMOVE -> !current.isMember(node) ? "is not a member"
          : current.isVoter(node) && current.voters().length == 1 ? "is the last voter"
          : lastDataVoter ? "is one of the last two voters that are not witnesses (a group with"
              + " a witness keeps two)"
          : null;
    };
    if (refusal == null && change.type() == MembershipChange.Type.ADD_WITNESS
        && dataVoters < 2) {
      refusal = "cannot be a witness: a witness needs two data voters beside it";
    }
    if (refusal == null && current.isWitness(node) && change.type() != MembershipChange.Type.REMOVE) {
      refusal = "is a witness; a witness is only ever removed (its log holds no payloads)";
    }
    if (refusal != null) {
      return new ProposeResult.Rejected("node " + node + " " + refusal);
    }
    if (change.type() == MembershipChange.Type.PROMOTE_LEARNER
        && progress.get(node).match < log.committed) {
      // A voter that lags would slow every commit (and could cost availability) until it
      // catches up, so it catches up as a learner first.
      coverage.hit(Mark.LEARNER_NOT_CAUGHT_UP);
      return new ProposeResult.Rejected("learner " + node + " has not caught up (match "
          + progress.get(node).match + " < commit " + log.committed + ")");
    }
    return null;
  }

  /** Leader only: tracks progress for exactly the current members (and itself). */
  private void trackMembers() {
    Membership membership = log.membership();
    progress.keySet().removeIf(node -> node != id && !membership.isMember(node));
    for (long node : membership.members()) {
      progress.computeIfAbsent(node, n -> {
        Progress p = new Progress(log.lastIndex() + 1, config.maxInflightAppends());
        p.recentActive = true; // Give a new member a CheckQuorum round to answer.
        return p;
      });
    }
    progress.computeIfAbsent(id, n -> new Progress(log.lastIndex() + 1,
        config.maxInflightAppends()));
  }

  private void handleAppendResponse(AppendResponse m) {
    Progress p = progress.get(m.from());
    if (p == null) {
      return;
    }
    p.recentActive = true;
    if (m.rejected()) {
      long matchHint = m.hintIndex();
      if (m.hintTerm() > 0) {
        matchHint = log.findConflictByTerm(m.hintIndex(), m.hintTerm())[0];
      }
      if (matchHint < m.index() - 1) {
        coverage.hit(Mark.CONFLICT_HINT_SKIP);
      }
      if (p.maybeDecreaseTo(m.index(), matchHint)) {
        if (p.state == Progress.State.REPLICATE) {
          p.becomeProbe();
        }
        maybeSendAppend(m.from(), true);
      }
      return;
    }
    boolean wasPaused = p.isPaused();
    if (!p.maybeUpdate(m.index())) {
      return;
    }
    if (p.state == Progress.State.SNAPSHOT) {
      if (p.match < p.snapshot.index()) {
        return;
      }
      p.becomeProbe(); // It caught up by log after all.
    }
    if (p.state == Progress.State.PROBE) {
      p.becomeReplicate();
    } else {
      p.inflights.freeUpTo(m.index());
    }
    if (m.from() == transferTarget && p.match == log.lastIndex()) {
      sendTimeoutNow();
    }
    if (maybeCommit()) {
      broadcastPending = true; // One broadcast per Ready carries the new commit index.
      return;
    }
    if (wasPaused || p.state == Progress.State.REPLICATE) {
      while (maybeSendAppend(m.from(), false)) {
        // Fill the inflight window.
      }
    }
    if (!broadcastPending && p.sentCommit < log.committed) {
      // Its acknowledgement arrived after the commit advanced: tell it now, not at the next
      // heartbeat, or its state machine lags a heartbeat interval behind.
      maybeSendAppend(m.from(), true);
    }
  }

  private void handleSnapshotResponse(SnapshotResponse m) {
    Progress p = progress.get(m.from());
    if (p == null) {
      return;
    }
    p.recentActive = true;
    if (p.state != Progress.State.SNAPSHOT || p.snapshot.index() != m.snapshotIndex()) {
      return; // About a snapshot we no longer send.
    }
    // Act on news only: an answer asking for the chunk we already have in flight is a copy
    // (a duplicated or replayed message, or the second answer to a chunk sent again after a
    // silent heartbeat round). Answering each copy with a chunk would add a stream of chunks
    // per copy, and streams never end (found by the simulator, seed 2126 with every nemesis
    // on: 400,000 chunks in flight). Any other offset is what the follower holds now (more,
    // or less after a restart or a stale answer) and moves us there; copies collapse again.
    // (A witness's snapshot has no data: its one answer is both "installed" and offset 0.)
    if (m.nextOffset() == p.snapshotOffset && p.snapshot.sizeBytes() > 0) {
      return;
    }
    boolean restarted = m.nextOffset() == 0;
    p.chunkInFlight = false;
    if (m.nextOffset() >= p.snapshot.sizeBytes()) {
      p.becomeProbe(); // Installed: replicate what follows the snapshot.
      maybeSendAppend(m.from(), true);
      return;
    }
    if (restarted) {
      coverage.hit(Mark.SNAPSHOT_INSTALL_RESTARTED);
    }
    p.snapshotOffset = m.nextOffset();
    maybeSendAppend(m.from(), true);
  }

  private void handleHeartbeatResponse(HeartbeatResponse m) {
    Progress p = progress.get(m.from());
    if (p == null) {
      return;
    }
    p.recentActive = true;
    p.ackedRound = Math.max(p.ackedRound, m.round());
    releaseConfirmedReads();
    p.probeSent = false;
    // A chunk unanswered for a heartbeat round is presumed lost and sent again.
    p.chunkInFlight = false;
    if (p.state == Progress.State.REPLICATE && p.inflights.full()) {
      // The follower is alive, but acknowledgements may have been lost: let one more through.
      p.inflights.freeFirst();
    }
    if (p.match < log.lastIndex()) {
      maybeSendAppend(m.from(), true);
    }
  }

  /**
   * §5.3/§5.4.2: advances the commit index to the largest index stored on a majority, but only
   * if that entry is from the current term (Figure 8 shows why counting replicas of an older
   * term's entry is unsafe).
   */
  private boolean maybeCommit() {
    long index = Quorum.committedIndex(log.membership(), voter -> progress.get(voter).match);
    if (!log.maybeCommit(index, term)) {
      return false;
    }
    if (!log.membership().isVoter(id) && log.committed >= log.lastConfigIndex()) {
      // Thesis §4.2.2: a leader that removed itself manages the group until the change
      // commits, then steps down; it is no voter, so it will not campaign again.
      coverage.hit(Mark.REMOVED_LEADER_STEPPED_DOWN);
      broadcastAppend(); // Tell the others the change committed before going quiet.
      becomeFollower(term, 0);
    }
    return true;
  }

  private void broadcastAppend() {
    for (long peer : progress.keySet()) {
      if (peer != id) {
        maybeSendAppend(peer, true);
      }
    }
  }

  /**
   * Sends the follower an AppendRequest from its next index unless replication to it is
   * paused; with {@code sendIfEmpty} false, only when there are entries to send. Whether it
   * sent anything: callers fill the inflight window while it does.
   */
  private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress p = progress.get(to);
    if (p.isPaused()) {
      return false;
    }
    if (p.state == Progress.State.SNAPSHOT) {
      return sendSnapshotChunk(to, p);
    }
    long prevIndex = p.next - 1;
    long prevTerm = log.term(prevIndex);
    if (prevTerm < 0 || p.next < log.firstIndex()) {
      // §7: the entries it needs were compacted away; send the snapshot instead.
      coverage.hit(Mark.SNAPSHOT_SENT);
      p.becomeSnapshot(snapshotFor(to));
      return sendSnapshotChunk(to, p);
    }
    List<Entry> entries = log.entriesFrom(p.next, config.maxAppendBytes());
    if (entries.isEmpty() && !sendIfEmpty) {
      return false;
    }
    if (log.membership().isWitness(to) && !config.planted(PlantedBug.WITNESS_GETS_PAYLOADS)) {
      entries = withoutPayloads(to, entries);
    }
    send(new AppendRequest(config.group(), id, to, term, prevIndex, prevTerm, entries,
        log.committed));
    p.sentAppend(prevIndex + entries.size(), !entries.isEmpty());
    p.sentCommit = Math.max(p.sentCommit, log.committed);
    return true;
  }

  /**
   * Whether {@code to}'s status as a witness is committed: then it stays a witness until it is
   * removed (a witness is never made a data member, {@link #membershipChangeRefusal}), and
   * anything sent to it may go without payloads. While the ADD_WITNESS is only appended it may
   * be rolled back, and {@code to} would be left a non-member holding a log (or snapshot) it
   * believes whole; added later as a learner, it would serve that log as data.
   */
  private boolean committedWitness(long to) {
    return log.membershipAt(log.committed).isWitness(to);
  }

  /**
   * Witness {@code to}'s copy of {@code entries}: commands lose their payload (an empty command,
   * as a leader's no-op); membership entries stay whole, since the witness must know the
   * membership to vote. Until {@code to}'s ADD_WITNESS commits, only the entries from that
   * one on are stripped: the log itself says {@code to} is a witness there, so if the change
   * is rolled back, so are they (a follower truncates its log from the first entry that
   * conflicts, and everything after an uncommitted entry is uncommitted too). The entries
   * before it go whole, as to any member.
   */
  private List<Entry> withoutPayloads(long to, List<Entry> entries) {
    boolean committedWitness = committedWitness(to);
    List<Entry> stripped = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      boolean strip = e.type() == EntryType.NORMAL && e.data().length > 0
          && (committedWitness || log.membershipAt(e.index()).isWitness(to)
              || config.planted(PlantedBug.WITNESS_STRIPPED_BEFORE_COMMIT));
      if (strip) {
        coverage.hit(Mark.WITNESS_PAYLOAD_STRIPPED);
        stripped.add(Entry.normal(e.term(), e.index(), new byte[0]));
      } else {
        stripped.add(e);
      }
    }
    return stripped;
  }

  /** The latest snapshot, as follower {@code to} gets it. */
  private Snapshot snapshotFor(long to) {
    Snapshot latest = log.latestSnapshot();
    if (config.planted(PlantedBug.WITNESS_GETS_PAYLOADS)) {
      return latest;
    }
    // A witness gets the snapshot's metadata only: index, term and membership. The follower
    // restores the image unless the snapshot's own membership marks it a witness (the only
    // thing it can judge by), so a data-less snapshot must carry such a membership.
    if (latest.membership().isWitness(to)) {
      return new Snapshot(latest.index(), latest.term(), latest.membership(), new byte[0]);
    }
    // One taken before the node became a witness does not: with the change committed, the
    // leader makes one at its commit index instead (a witness's snapshot has no image, so any
    // committed index will do, and the membership there is the committed one that marks it).
    if (committedWitness(to) && log.committed >= latest.index()) {
      return new Snapshot(log.committed, log.term(log.committed),
          log.membershipAt(log.committed), new byte[0]);
    }
    if (config.planted(PlantedBug.WITNESS_STRIPPED_BEFORE_COMMIT)
        && log.membership().isWitness(to)) {
      return new Snapshot(latest.index(), latest.term(), latest.membership(), new byte[0]);
    }
    // Still uncommitted, the change may be rolled back: the node gets the data, as any
    // member (a later chunk switches to the data-less snapshot if the change commits first).
    return latest;
  }

  /**
   * Sends the next chunk of the snapshot the follower is getting; false if its image is
   * unreadable now (nothing is sent and the follower is not paused: a caller that looped
   * while chunks go out would spin forever on a damaged snapshot file, seed -405).
   */
  private boolean sendSnapshotChunk(long to, Progress p) {
    if (p.snapshot.sizeBytes() > 0 && log.membership().isWitness(to) && committedWitness(to)
        && !config.planted(PlantedBug.WITNESS_GETS_PAYLOADS)) {
      // Its ADD_WITNESS committed while it was getting the whole image: it needs no more of
      // it (and the follower drops a partial image for a snapshot of another index).
      p.becomeSnapshot(snapshotFor(to));
    }
    long offset = p.snapshotOffset;
    byte[] chunk = log.snapshotChunk(p.snapshot, offset, config.snapshotChunkBytes());
    if (chunk == null) {
      // The host replaced that snapshot with a newer one and no longer holds its image:
      // start over with the latest (the follower's answer about the old one is ignored).
      Snapshot latest = snapshotFor(to);
      if (latest.index() == p.snapshot.index()) {
        return false; // Not replaced, only unreadable now; the next heartbeat round tries again.
      }
      p.becomeSnapshot(latest);
      offset = 0;
      chunk = log.snapshotChunk(latest, 0, config.snapshotChunkBytes());
      if (chunk == null) {
        return false;
      }
    }
    Snapshot snapshot = p.snapshot;
    if (p.lastChunkOffset == offset) {
      coverage.hit(Mark.SNAPSHOT_CHUNK_RETRY);
    }
    long end = offset + chunk.length;
    send(new InstallSnapshot(config.group(), id, to, term, snapshot.index(), snapshot.term(),
        snapshot.membership(), snapshot.sizeBytes(), offset, chunk,
        end == snapshot.sizeBytes()));
    p.chunkInFlight = true;
    p.lastChunkOffset = offset;
    return true;
  }

  /** Sends a new heartbeat round; reads registered since the last one wait for it. */
  private void broadcastHeartbeat() {
    readRound++;
    roundSentTick.put(readRound, now);
    for (int i = pendingReads.size(); i > 0; i--) {
      PendingRead read = pendingReads.pollFirst();
      pendingReads.addLast(read.round() == 0 ? read.inRound(readRound) : read);
    }
    for (var e : progress.entrySet()) {
      if (e.getKey() != id) {
        // Never tell a follower of a commit index beyond what it is known to hold.
        long commit = config.planted(PlantedBug.FOLLOWER_COMMITS_UNVERIFIED_SUFFIX)
            ? log.committed : Math.min(e.getValue().match, log.committed);
        send(new Heartbeat(config.group(), id, e.getKey(), term, commit, readRound));
      }
    }
  }

  // ---------------------------------------------------------------- leadership transfer

  /**
   * Hands leadership to {@code target} (thesis §3.10): stop accepting proposals, bring the
   * target's log up to date, then tell it to campaign at once. Abandoned after an election
   * timeout if the target has not taken over.
   */
  ProposeResult transferLeadership(long target) {
    wake(0);
    ProposeResult result;
    if (role != Role.LEADER) {
      result = new ProposeResult.NotLeader(leader);
    } else if (target == id) {
      result = new ProposeResult.Rejected("node " + id + " is already the leader");
    } else if (!log.membership().isVoter(target)) {
      result = new ProposeResult.Rejected("node " + target + " is not a voter");
    } else if (log.membership().isWitness(target)) {
      result = new ProposeResult.Rejected("node " + target + " is a witness; it never leads");
    } else {
      transferTarget = target;
      transferElapsed = 0;
      if (progress.get(target).match == log.lastIndex()) {
        sendTimeoutNow();
      } else {
        coverage.hit(Mark.TRANSFER_WAITED_FOR_CATCH_UP);
        maybeSendAppend(target, true);
      }
      result = new ProposeResult.Accepted(log.lastIndex(), term);
    }
    checkInvariants();
    return result;
  }

  private void sendTimeoutNow() {
    // A TimeoutNow lets its target win votes from followers that still honour our lease, and
    // it may arrive late; no lease read may be trusted in this term from now on.
    leaseRevoked = true;
    if (!config.planted(PlantedBug.TRANSFER_NEVER_SENDS_TIMEOUT_NOW)) {
      send(new TimeoutNow(config.group(), id, transferTarget, term));
    }
  }

  // ---------------------------------------------------------------- linearizable reads

  /**
   * Requests a linearizable read (thesis §6.4). A leader confirms it is still leader with a
   * heartbeat round (or its lease) and then releases a {@link ReadState} at the commit index
   * it had when the read arrived; a follower asks the leader for that index.
   */
  ProposeResult readIndex(byte[] context) {
    Invariants.check(context != null, "read context is null");
    if (quiet && role == Role.LEADER && config.planted(PlantedBug.QUIET_LEADER_READS_ALONE)) {
      release(new PendingRead(0, log.committed, context, id));
      return new ProposeResult.Accepted(log.committed, term);
    }
    wake(0);
    ProposeResult result;
    if (log.membership().isWitness(id)) {
      result = new ProposeResult.Rejected("node " + id + " is a witness of group "
          + config.group() + ": it holds no data to read");
    } else if (role == Role.LEADER) {
      handleReadRequest(context, id);
      result = new ProposeResult.Accepted(log.committed, term);
    } else if (role == Role.FOLLOWER && leader != 0) {
      send(new ReadIndexRequest(config.group(), id, leader, term, context));
      result = new ProposeResult.Forwarded(leader);
    } else {
      result = new ProposeResult.NotLeader(leader);
    }
    checkInvariants();
    return result;
  }

  private void handleReadRequest(byte[] context, long requester) {
    if (log.term(log.committed) != term) {
      // Until it commits an entry of its term, a new leader may not know the latest commit
      // index (§8): its reads wait for that.
      coverage.hit(Mark.READ_WAITED_FOR_TERM_COMMIT);
      readsBeforeTermCommit.add(new PendingRead(0, 0, context, requester));
      return;
    }
    PendingRead read = new PendingRead(0, log.committed, context, requester);
    Membership membership = log.membership();
    if ((membership.voters().length == 1 && membership.isVoter(id))
        || config.planted(PlantedBug.READ_INDEX_WITHOUT_QUORUM)) {
      release(read); // Nobody else can be leader.
    } else if (leaseValid()) {
      coverage.hit(Mark.LEASE_READ);
      release(read);
    } else {
      pendingReads.addLast(read);
      broadcastPending = true; // The next Ready starts a heartbeat round.
    }
  }

  /** The highest heartbeat round acknowledged by a majority of voters (self included). */
  private long confirmedRound() {
    return Quorum.committedIndex(log.membership(),
        voter -> voter == id ? readRound : progress.get(voter).ackedRound);
  }

  private void releaseConfirmedReads() {
    long confirmed = confirmedRound();
    while (!pendingReads.isEmpty() && pendingReads.peekFirst().round() != 0
        && pendingReads.peekFirst().round() <= confirmed) {
      release(pendingReads.pollFirst());
    }
    roundSentTick.headMap(confirmed).clear(); // Only the confirmed round's tick matters now.
  }

  /**
   * The lease (thesis §6.4.1): a majority acknowledged a heartbeat round sent less than an
   * election timeout (minus the drift margin) ago, and each of them promised, by resetting
   * its election timer on that heartbeat, not to vote another leader in before then.
   */
  private boolean leaseValid() {
    if (!config.leaseReads() || leaseRevoked || transferTarget != 0) {
      return false;
    }
    Long sentTick = roundSentTick.get(confirmedRound());
    if (sentTick != null && config.planted(PlantedBug.LEASE_NEVER_EXPIRES)) {
      return true;
    }
    return sentTick != null
        && now - sentTick < config.electionTimeoutTicks() - config.leaseDriftMarginTicks();
  }

  private void release(PendingRead read) {
    if (read.requester() == id) {
      readStates.add(new ReadState(read.index(), read.context()));
    } else {
      send(new ReadIndexResponse(config.group(), id, read.requester(), term, read.index(),
          read.context()));
    }
  }

  private void send(Message m) {
    outbox.add(m);
  }

  // ---------------------------------------------------------------- Ready

  private void flushBroadcast() {
    if (role == Role.LEADER && !readsBeforeTermCommit.isEmpty()
        && log.term(log.committed) == term) {
      List<PendingRead> waiting = List.copyOf(readsBeforeTermCommit);
      readsBeforeTermCommit.clear();
      for (PendingRead read : waiting) {
        handleReadRequest(read.context(), read.requester());
      }
    }
    if (broadcastPending && role == Role.LEADER) {
      broadcastAppend();
      if (pendingReads.stream().anyMatch(read -> read.round() == 0)) {
        broadcastHeartbeat();
      }
    }
    broadcastPending = false;
  }

  boolean hasReady() {
    flushBroadcast();
    // Field comparisons, not records: hosts poll this after every event.
    return !outbox.isEmpty()
        || role != lastSoftState.role()
        || leader != lastSoftState.leader()
        || term != lastHardState.term()
        || vote != lastHardState.vote()
        || log.committed != lastHardState.commit()
        || log.hasUnstableEntries()
        || log.pendingSnapshot() != null
        || !snapshotChunks.isEmpty()
        || !readStates.isEmpty()
        || log.hasNextCommittedEntries();
  }

  Ready ready() {
    flushBroadcast();
    SoftState soft = softState();
    HardState hard = hardState();
    List<Entry> entries = log.unstableEntries();
    Snapshot snapshot = log.pendingSnapshot();
    boolean mustSync = !entries.isEmpty()
        || snapshot != null
        || hard.term() != lastHardState.term()
        || hard.vote() != lastHardState.vote();
    Ready ready = new Ready(
        soft.equals(lastSoftState) ? null : soft,
        hard.equals(lastHardState) ? null : hard,
        snapshot,
        entries,
        log.nextCommittedEntries(),
        currentTermMessages(),
        readStates,
        mustSync,
        role == Role.LEADER && hard.term() == lastHardState.term()
            && hard.vote() == lastHardState.vote(),
        snapshotChunks);
    snapshotChunks.clear();
    outbox.clear();
    readStates.clear();
    lastSoftState = soft;
    lastHardState = hard;
    return ready;
  }

  /**
   * The outbox without messages of an older term. Within one term a follower's log is never
   * truncated, so an acknowledgement made before a term change may cover entries that a
   * newer leader replaced before this Ready persisted them: sending it would claim durability
   * for entries this node never stored (found by the simulator, seed 833). Dropping old-term
   * messages is always safe, since messages may be lost; term 0 marks forwarded proposals.
   */
  private List<Message> currentTermMessages() {
    List<Message> out = new ArrayList<>(outbox.size());
    for (Message m : outbox) {
      if (m.term() == 0 || m.term() >= term) {
        out.add(m);
      }
    }
    return out;
  }

  void advance(Ready ready) {
    if (ready.snapshot() != null) {
      log.snapshotStable(ready.snapshot());
    }
    List<Entry> entries = ready.entries();
    if (!entries.isEmpty()) {
      Entry last = entries.get(entries.size() - 1);
      log.stableTo(last.index(), last.term());
      if (role == Role.LEADER && progress.get(id).maybeUpdate(log.stableLastIndex())
          && maybeCommit()) {
        broadcastPending = true;
      }
    }
    List<Entry> committed = ready.committedEntries();
    if (!committed.isEmpty()) {
      log.appliedTo(committed.get(committed.size() - 1).index());
    }
    checkInvariants();
  }

  // ---------------------------------------------------------------- observation

  private SoftState softState() {
    return new SoftState(role, leader);
  }

  private HardState hardState() {
    return new HardState(term, vote, log.committed);
  }

  Status status() {
    return new Status(id, config.group(), term, vote, role, leader, log.committed, log.applied,
        log.lastIndex(), log.lastTerm());
  }

  private void checkInvariants() {
    Invariants.check(log.applied <= log.committed, "applied > committed");
    Invariants.check(log.committed <= log.lastIndex(), "committed > last index");
    Invariants.check(role != Role.LEADER || leader == id, "leader does not know itself");
    Invariants.check(role == Role.LEADER || progress.isEmpty(), "non-leader tracks progress");
    Invariants.check(role != Role.CANDIDATE || vote == id, "candidate did not vote for itself");
    for (Progress p : progress.values()) {
      p.checkInvariants();
    }
  }
}
