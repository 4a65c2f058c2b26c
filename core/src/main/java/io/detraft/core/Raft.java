package io.detraft.core;

import io.detraft.core.Message.AppendRequest;
import io.detraft.core.Message.AppendResponse;
import io.detraft.core.Message.Heartbeat;
import io.detraft.core.Message.HeartbeatResponse;
import io.detraft.core.Message.Propose;
import io.detraft.core.Message.VoteRequest;
import io.detraft.core.Message.VoteResponse;
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
  private final Membership membership;

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

  /** Output waiting for the next Ready. */
  private final List<Message> outbox = new ArrayList<>();
  private SoftState lastSoftState;
  private HardState lastHardState;

  Raft(Config config, LogStorage storage, Prng prng, long appliedIndex) {
    this.id = config.id();
    this.config = config;
    this.prng = prng;
    this.membership = storage.membership();
    HardState hardState = storage.hardState();
    this.log = new RaftLog(storage, hardState.commit(), appliedIndex);
    this.term = hardState.term();
    this.vote = hardState.vote();
    this.lastHardState = hardState;
    becomeFollower(term, 0);
    this.lastSoftState = softState();
    checkInvariants();
  }

  // ---------------------------------------------------------------- time

  void tick() {
    if (role == Role.LEADER) {
      tickLeader();
    } else {
      tickElection();
    }
    checkInvariants();
  }

  private void tickElection() {
    electionElapsed++;
    if (electionElapsed >= randomizedElectionTimeout) {
      electionElapsed = 0;
      hup();
    }
  }

  private void tickLeader() {
    heartbeatElapsed++;
    electionElapsed++;
    if (electionElapsed >= config.electionTimeoutTicks()) {
      electionElapsed = 0;
      if (config.checkQuorum() && !quorumRecentlyActive()) {
        // CheckQuorum: a leader cut off from a majority stops serving (thesis §6.2), so a
        // client is not left waiting on a leader that can no longer commit.
        becomeFollower(term, 0);
        return;
      }
    }
    if (heartbeatElapsed >= config.heartbeatIntervalTicks()) {
      heartbeatElapsed = 0;
      broadcastHeartbeat();
    }
  }

  /** Whether a majority (self included) was heard from since the last call; resets the flags. */
  private boolean quorumRecentlyActive() {
    int active = 0;
    for (var e : progress.entrySet()) {
      if (e.getKey() == id || e.getValue().recentActive) {
        active++;
      }
      e.getValue().recentActive = false;
    }
    return active >= membership.quorum();
  }

  // ---------------------------------------------------------------- elections

  /** The election timer fired, or the host asked for an election. */
  void hup() {
    if (role == Role.LEADER || !membership.isVoter(id)) {
      return;
    }
    if (config.preVote()) {
      campaign(true);
    } else {
      campaign(false);
    }
  }

  private void campaign(boolean preVote) {
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
        campaign(false);
      } else {
        becomeLeader();
      }
      return;
    }
    for (long voter : membership.voters()) {
      if (voter != id) {
        send(new VoteRequest(config.group(), id, voter, electionTerm, log.lastIndex(),
            log.lastTerm(), preVote));
      }
    }
  }

  private Quorum.VoteResult tally() {
    return Quorum.voteResult(membership, votes);
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
    for (long voter : membership.voters()) {
      Progress p = new Progress(log.lastIndex() + 1, config.maxInflightAppends());
      p.recentActive = true;
      progress.put(voter, p);
    }
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
    }
    leader = 0;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    randomizedElectionTimeout = config.electionTimeoutTicks()
        + (int) prng.nextLong(config.electionTimeoutTicks());
    votes.clear();
    progress.clear();
    broadcastPending = false;
  }

  // ---------------------------------------------------------------- messages

  void step(Message m) {
    if (m instanceof Propose p) {
      stepPropose(p); // Carries no Raft term.
      checkInvariants();
      return;
    }
    if (m.term() > term) {
      if (m instanceof VoteRequest request && inLease()) {
        // CheckQuorum's lease: we heard from a live leader less than an election timeout ago,
        // so this candidate is disruptive (thesis §4.2.3); do not even adopt its term.
        return;
      }
      boolean preVoteMessage = (m instanceof VoteRequest request && request.preVote())
          || (m instanceof VoteResponse response && response.preVote() && response.granted());
      // A PreVote request carries a term the sender has not adopted, and a granted PreVote
      // answer echoes it; neither may move our term. A rejected one carries the voter's term.
      if (!preVoteMessage) {
        boolean fromLeader = m instanceof AppendRequest || m instanceof Heartbeat;
        becomeFollower(m.term(), fromLeader ? m.from() : 0);
      }
    } else if (m.term() < term) {
      stepStale(m);
      checkInvariants();
      return;
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
    return config.checkQuorum() && leader != 0
        && electionElapsed < config.electionTimeoutTicks();
  }

  /** A message from an older term. */
  private void stepStale(Message m) {
    if ((config.checkQuorum() || config.preVote())
        && (m instanceof AppendRequest || m instanceof Heartbeat)) {
      // A leader of an old term may be cut off from everyone with a higher term: with PreVote
      // or CheckQuorum nobody else would tell it (no disruptive votes reach it), so we answer
      // with our term and it steps down.
      send(new AppendResponse(config.group(), id, m.from(), term, true, 0, 0, 0));
    } else if (m instanceof VoteRequest request && request.preVote()) {
      // Rejected with our term, so a stale pre-candidate learns it is behind.
      send(new VoteResponse(config.group(), id, m.from(), term, false, true));
    }
    // Everything else from an old term is ignored (§5.1).
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
      canVote = false;
    }
    if (canVote && log.isUpToDate(m.lastLogIndex(), m.lastLogTerm())) {
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
    } else if (m instanceof AppendRequest || m instanceof Heartbeat) {
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
    } else if (m instanceof VoteResponse response) {
      if (response.preVote() != (role == Role.PRE_CANDIDATE)) {
        return; // An answer from an earlier phase.
      }
      votes.putIfAbsent(m.from(), response.granted());
      switch (tally()) {
        case WON -> {
          if (role == Role.PRE_CANDIDATE) {
            campaign(false);
          } else {
            becomeLeader();
          }
        }
        case LOST -> becomeFollower(term, 0);
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
    }
  }

  private void stepPropose(Propose m) {
    if (role == Role.LEADER) {
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
    log.commitTo(m.commit());
    send(new HeartbeatResponse(config.group(), id, m.from(), term));
  }

  // ---------------------------------------------------------------- leader side

  ProposeResult propose(byte[] data) {
    Invariants.check(data != null, "proposal data is null");
    ProposeResult result;
    if (role == Role.LEADER) {
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
    List<Entry> entries = new ArrayList<>(data.size());
    long index = log.lastIndex();
    for (byte[] d : data) {
      entries.add(Entry.normal(term, ++index, d));
    }
    log.append(entries);
    broadcastPending = true;
    // Our own acknowledgement is counted in advance(), once the host has persisted them.
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
    if (p.state == Progress.State.PROBE) {
      p.becomeReplicate();
    } else {
      p.inflights.freeUpTo(m.index());
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

  private void handleHeartbeatResponse(HeartbeatResponse m) {
    Progress p = progress.get(m.from());
    if (p == null) {
      return;
    }
    p.recentActive = true;
    p.probeSent = false;
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
    long index = Quorum.committedIndex(membership, voter -> progress.get(voter).match);
    return log.maybeCommit(index, term);
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
   * paused; with {@code sendIfEmpty} false, only when there are entries to send.
   */
  private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress p = progress.get(to);
    if (p.isPaused()) {
      return false;
    }
    long prevIndex = p.next - 1;
    long prevTerm = log.term(prevIndex);
    Invariants.check(prevTerm >= 0, "no term for index %s (compacted?)", prevIndex);
    List<Entry> entries = log.entriesFrom(p.next, config.maxAppendBytes());
    if (entries.isEmpty() && !sendIfEmpty) {
      return false;
    }
    send(new AppendRequest(config.group(), id, to, term, prevIndex, prevTerm, entries,
        log.committed));
    p.sentAppend(prevIndex + entries.size(), !entries.isEmpty());
    p.sentCommit = Math.max(p.sentCommit, log.committed);
    return true;
  }

  private void broadcastHeartbeat() {
    for (var e : progress.entrySet()) {
      if (e.getKey() != id) {
        // Never tell a follower of a commit index beyond what it is known to hold.
        long commit = Math.min(e.getValue().match, log.committed);
        send(new Heartbeat(config.group(), id, e.getKey(), term, commit));
      }
    }
  }

  private void send(Message m) {
    outbox.add(m);
  }

  // ---------------------------------------------------------------- Ready

  private void flushBroadcast() {
    if (broadcastPending && role == Role.LEADER) {
      broadcastAppend();
    }
    broadcastPending = false;
  }

  boolean hasReady() {
    flushBroadcast();
    return !outbox.isEmpty()
        || !softState().equals(lastSoftState)
        || !hardState().equals(lastHardState)
        || log.hasUnstableEntries()
        || log.hasNextCommittedEntries();
  }

  Ready ready() {
    flushBroadcast();
    SoftState soft = softState();
    HardState hard = hardState();
    List<Entry> entries = log.unstableEntries();
    boolean mustSync = !entries.isEmpty()
        || hard.term() != lastHardState.term()
        || hard.vote() != lastHardState.vote();
    Ready ready = new Ready(
        soft.equals(lastSoftState) ? null : soft,
        hard.equals(lastHardState) ? null : hard,
        entries,
        log.nextCommittedEntries(),
        currentTermMessages(),
        mustSync);
    outbox.clear();
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
