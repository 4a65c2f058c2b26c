package io.detraft.sim;

import io.detraft.core.Codec;
import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.HardState;
import io.detraft.core.Membership;
import io.detraft.core.Message;
import io.detraft.core.SessionStateMachine;
import io.detraft.core.Snapshot;
import io.detraft.core.StateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raft's safety properties, checked while the run goes (Figure 3 of the Raft paper, plus what
 * a host owes across crashes). Each check throws a {@link SimulationFailure} naming the
 * property; none of them depends on timing, so every one holds under any fault schedule.
 *
 * <p>Logs are compared through <b>chain hashes</b>: a node's chain at index {@code i} hashes
 * its entry at {@code i} (term, type, data) with its chain at {@code i-1}, so equal chains at
 * {@code i} mean equal logs up to {@code i}. That turns log matching and prefix comparisons
 * into O(1) checks per entry.
 *
 * <p>One instance watches one Raft group. It keeps a <b>reference state machine</b> that
 * applies each committed entry once, in order, and remembers a digest of its state after every
 * index: a snapshot a node takes, receives or restarts from must equal the reference state at
 * its index, and so must every node's state machine at the end. Nodes that restore a snapshot
 * instead of applying entries are checked that way, and by the entries they do apply.
 */
final class Oracles {
  /** Per node: what it did in this incarnation and what it ever promised. */
  private static final class NodeFacts {
    /** Highest commit index in a hard state this incarnation (monotonic). */
    long commit;
    /** Highest index applied this incarnation; applies must be contiguous from here. */
    long applied;
    /** Highest commit index known to be fsynced; recovery must not come back below it. */
    long durableCommit;
    /** The term and vote last fsynced: recovery must not come back to an older term or vote. */
    long durableTerm;
    long durableVote;
    /** Highest term the node put in a message (it must have persisted it first). */
    long spokenTerm;
    /** The last non-PreVote vote granted: in {@code voteTerm} to {@code votedFor}. */
    long voteTerm;
    long votedFor;
    /**
     * The last entry of the node's own current term made durable ({@code durableEntryIndex}
     * in {@code durableEntryTerm}): a leader counts it in its quorum without any message, and
     * no later leader of that term truncates it, so recovery must give it back.
     */
    long durableEntryTerm;
    long durableEntryIndex;
    long durableEntryChain;
    /** The last accepted append acknowledged: up to {@code ackIndex} in {@code ackTerm}. */
    long ackTerm;
    long ackIndex;
    long ackChain;
  }

  /** Prefixes failures: which group, when a run has several. */
  private final String label;
  private final NodeFacts[] facts;
  /** Whether restarts check the host's durability promises (see {@link SimHooks}). */
  private final boolean promiseOracles;
  private final Marks marks;
  /** Applies every committed entry once, in index order. */
  /** Sessions over the application's machine, like the replicas' (see {@link Replica}). */
  private final StateMachine reference;
  /** Digest of the reference state after each index (index 0: the empty state). */
  private final LongList referenceDigest = new LongList();
  private final MembershipOracle membership = new MembershipOracle();
  /**
   * Granted votes (not PreVotes) delivered, by candidate, then term: who voted for it. Only a
   * candidate's current term can still elect it, so its older terms are dropped as its term
   * rises (not by age across nodes: a partitioned pair without PreVote races far ahead in
   * terms while the majority elects in an older one).
   */
  private final Map<Integer, TreeMap<Long, java.util.TreeSet<Long>>> votesDelivered =
      new HashMap<>();
  /** Digest of the reference's answer to each committed session command (0: none). */
  private final LongList referenceAnswer = new LongList();
  /** The last sequence number each session applied, to notice deduplicated commands. */
  private final Map<Long, Long> lastSequence = new HashMap<>();
  /** Committed memberships by the index of their entry (0: the initial one). */
  private final TreeMap<Long, Membership> committedMemberships = new TreeMap<>();
  /** The leader of each term, once known. Only looked up, never iterated. */
  private final Map<Long, Integer> leaderByTerm = new HashMap<>();
  /** When each term's leader was elected (virtual time), for the read oracle. */
  private final TreeMap<Long, Long> electedAt = new TreeMap<>();
  /** Log index -> (term, chain, node) triples seen at that index on any node. */
  private final ArrayList<long[]> logByIndex = new ArrayList<>();
  /** Committed entries by index, as first applied anywhere: term, chain and who applied it. */
  private final LongList committedTerm = new LongList();
  private final LongList committedChain = new LongList();
  private final LongList committedBy = new LongList();
  /**
   * For each term, the highest index some node knew committed while in that term; entries up
   * to it were committed in that term or earlier, so every later leader must hold them.
   */
  private final TreeMap<Long, Long> commitKnownInTerm = new TreeMap<>();
  private long maxAcknowledgedIndex;

  Oracles(String label, int size, Membership initial, boolean promiseOracles,
      StateMachine referenceInner, long sessionTimeoutEntries, boolean sessionsInStateMachine,
      Marks marks) {
    this.label = label;
    this.promiseOracles = promiseOracles;
    this.marks = marks;
    // A machine that keeps its own sessions is its own reference: wrapping it would give
    // a state of other bytes (and a second session table) than the replicas'.
    this.reference = sessionsInStateMachine ? referenceInner
        : new SessionStateMachine(referenceInner, sessionTimeoutEntries);
    referenceDigest.set(0, Trace.hashBytes(reference.snapshot()));
    committedMemberships.put(0L, initial);
    facts = new NodeFacts[size + 1];
    for (int i = 1; i <= size; i++) {
      facts[i] = new NodeFacts();
    }
    committedTerm.set(0, 0);
    committedChain.set(0, 0);
    committedBy.set(0, 0);
  }

  /** Log matching (§5.3): same index and term on two nodes means the same log up to there. */
  void onAppend(int node, Entry entry, long chain) {
    int index = (int) entry.index();
    if (entry.type() == EntryType.CONFIG_CHANGE) {
      long maxCommitted = maxCommittedIndex();
      String broken = membership.onConfig(node, index, entry.term(),
          Codec.decodeMembership(entry.data()),
          maxCommitted == 0 ? 0 : committedTerm.get((int) maxCommitted));
      if (broken != null) {
        fail("membership", broken);
      }
    }
    while (logByIndex.size() <= index) {
      logByIndex.add(null);
    }
    long[] seen = logByIndex.get(index);
    if (seen == null) {
      logByIndex.set(index, new long[] {entry.term(), chain, node});
      return;
    }
    for (int i = 0; i < seen.length; i += 3) {
      if (seen[i] == entry.term()) {
        if (seen[i + 1] != chain) {
          fail("log-matching", "n" + node + " and n" + seen[i + 2] + " both hold an entry at"
              + " index " + index + " in term " + entry.term() + ", but their logs differ at or"
              + " before it");
        }
        return;
      }
    }
    long[] grown = java.util.Arrays.copyOf(seen, seen.length + 3);
    grown[seen.length] = entry.term();
    grown[seen.length + 1] = chain;
    grown[seen.length + 2] = node;
    logByIndex.set(index, grown);
  }

  /** Commit never goes backwards within an incarnation; terms never go backwards. */
  void onHardState(int node, HardState previous, HardState next) {
    NodeFacts f = facts[node];
    if (next.commit() < f.commit) {
      fail("commit-monotonic", "n" + node + " commit went back from " + f.commit + " to "
          + next.commit() + " within one incarnation");
    }
    f.commit = next.commit();
    TreeMap<Long, java.util.TreeSet<Long>> votes = votesDelivered.get(node);
    if (votes != null) {
      votes.headMap(next.term()).clear(); // terms it left can no longer elect it
    }
    if (next.term() < previous.term()) {
      fail("term-monotonic", "n" + node + " term went back from " + previous.term() + " to "
          + next.term());
    }
    if (next.term() == previous.term() && previous.vote() != 0
        && next.vote() != previous.vote()) {
      fail("one-vote-per-term", "n" + node + " changed its vote in term " + next.term()
          + " from n" + previous.vote() + " to n" + next.vote());
    }
  }

  /**
   * §5.4.2: a leader commits by counting replicas only an entry of its own term (earlier
   * entries are then committed indirectly); Figure 8 shows how counting replicas of an older
   * term's entry loses a committed entry. {@code termAtCommit} is the term of the entry at the
   * new commit index in the leader's log (-1 if it is not stored yet).
   */
  void onLeaderCommit(int node, HardState next, long termAtCommit) {
    if (termAtCommit != next.term()) {
      fail("commit-rule", "leader n" + node + " of term " + next.term() + " advanced its commit"
          + " index to " + next.commit() + ", whose entry has term " + termAtCommit
          + " (only current-term entries may be committed by counting replicas, §5.4.2)");
    }
  }

  /**
   * At most one leader per term (§5.2); removed nodes do not disrupt (a node that knows it was
   * removed never leads); and leader completeness (§5.4): the new leader holds every entry
   * committed in an earlier term.
   */
  /** A granted vote reached its candidate. */
  void onVoteDelivered(int candidate, Message.VoteResponse vote) {
    if (vote.granted() && !vote.preVote()) {
      votesDelivered.computeIfAbsent(candidate, c -> new TreeMap<>())
          .computeIfAbsent(vote.term(), t -> new java.util.TreeSet<>()).add(vote.from());
    }
  }

  /**
   * A new leader was elected by a quorum of its own configuration's voters: its own vote and
   * granted votes delivered to it. A vote from a node that is not a voter there (removed, a
   * learner, a spare) must not count.
   */
  private void checkVotes(int node, long term, Membership own) {
    java.util.Set<Long> granted = votesDelivered.getOrDefault(node, new TreeMap<>())
        .getOrDefault(term, new java.util.TreeSet<>());
    int count = own.isVoter(node) ? 1 : 0;
    for (long voter : granted) {
      if (voter != node && own.isVoter(voter)) {
        count++;
      }
    }
    if (count < own.quorum()) {
      fail("vote-count", "n" + node + " became leader of term " + term + " with the votes of "
          + granted + " (and its own), but only " + count + " of them are voters of its "
          + own + ", short of a quorum of " + own.quorum());
    }
  }

  void onLeader(int node, long term, Replica host, long now) {
    electedAt.putIfAbsent(term, now);
    checkVotes(node, term, host.membership());
    Integer previous = leaderByTerm.putIfAbsent(term, node);
    if (previous != null && previous != node) {
      fail("election-safety", "term " + term + " has two leaders: n" + previous + " and n"
          + node);
    }
    Membership committed = committedMembership();
    Membership own = host.membership();
    long removedAt = committedMemberships.lastKey();
    if (!committed.isVoter(node) && !(own.isVoter(node) && !own.equals(committed))
        && host.commitIndex() >= removedAt) {
      // A node that knows the change removing it committed must never lead again (only a
      // later, uncommitted change in its own log that makes it a voter again may let it). One
      // that has not learned it yet may win, as in the thesis (4.2.2): it needs no one's vote
      // but the new voters', commits the change and steps down.
      fail("removed-node-leader", "n" + node + " became leader of term " + term + " though it"
          + " knew (commit " + host.commitIndex() + ") that the change at " + removedAt
          + " removed it from the voters (" + committed + "; its own: " + own + ")");
    }
    long required = 0;
    for (long index : commitKnownInTerm.headMap(term).values()) {
      required = Math.max(required, index);
    }
    if (required == 0) {
      return;
    }
    if (host.lastIndex() < required
        || host.chainAt(required) != committedChain.get((int) required)) {
      fail("leader-completeness", "n" + node + " became leader of term " + term
          + " but its log (last index " + host.lastIndex() + ") does not hold the committed"
          + " entries up to " + required + " (committed in an earlier term; entry "
          + required + " has term " + committedTerm.get((int) required) + ", first applied by n"
          + committedBy.get((int) required) + ")");
    }
  }

  /** The leader of {@code term}, or 0 if none was elected (yet). */
  int leaderOf(long term) {
    return leaderByTerm.getOrDefault(term, 0);
  }

  /**
   * The follower commit bound: a node that is not leader may commit only what it verified
   * against its leader's log (an AppendRequest's matching prefix, a snapshot); its log up to
   * its new commit index must therefore equal the leader's there. {@code expected} is the
   * leader's chain at that index, or the committed log's.
   */
  void onFollowerCommit(int node, long term, long commit, long chain, long expected,
      String reference) {
    if (chain != expected) {
      fail("follower-commit-bound", "n" + node + " raised its commit index to " + commit
          + " in term " + term + ", but its log there differs from " + reference
          + ": it committed entries its leader never sent it");
    }
  }

  /**
   * The read oracle, checked the moment a read is served. ReadIndex (and a valid lease)
   * guarantee that a read reflects every write committed before it was asked; so the state it
   * reads ({@code appliedIndex}) must reach every index acknowledged to a client before the
   * request was sent. And a leader of {@code leaderTerm} (0: not served as leader) must not
   * serve a read asked after a newer leader was elected: its heartbeat round could not have
   * reached a quorum, and its lease, had it held one, would have kept that election from
   * happening.
   */
  void onRead(int node, Workload.Request request, long appliedIndex, long leaderTerm) {
    if (!promiseOracles) {
      return;
    }
    if (appliedIndex < request.ackedBefore()) {
      fail("read-freshness", "n" + node + " served a read (attempt " + request.attempt()
          + ") at applied index " + appliedIndex + ", but index " + request.ackedBefore()
          + " had been acknowledged to a client before the read was sent at "
          + at(request.sentAt()));
    }
    if (leaderTerm > 0) {
      for (Map.Entry<Long, Long> newer : electedAt.tailMap(leaderTerm, false).entrySet()) {
        if (newer.getValue() < request.sentAt()) {
          fail("read-deposed-leader", "n" + node + ", leader of term " + leaderTerm
              + ", served a read (attempt " + request.attempt() + ") sent at "
              + at(request.sentAt()) + ", after n" + leaderByTerm.get(newer.getKey())
              + " had been elected leader of term " + newer.getKey() + " at "
              + at(newer.getValue()) + " (no quorum round or lease could confirm it)");
        }
      }
    }
  }

  /**
   * State-machine safety (§5.4.3): every node applies the same entry at each index, and
   * applies indexes in order without gaps within an incarnation.
   */
  void onApply(int node, Entry entry, long chain) {
    NodeFacts f = facts[node];
    int index = (int) entry.index();
    if (index != f.applied + 1) {
      fail("applied-monotonic", "n" + node + " applied index " + index + " after "
          + f.applied + " (applies must be contiguous and never go back)");
    }
    f.applied = index;
    if (index < committedTerm.size()) {
      if (committedTerm.get(index) != entry.term() || committedChain.get(index) != chain) {
        fail("state-machine-safety", "n" + node + " applied entry " + index + " of term "
            + entry.term() + ", but n" + committedBy.get(index) + " applied a different entry"
            + " (term " + committedTerm.get(index) + ") or log prefix there");
      }
      return;
    }
    if (index != committedTerm.size()) {
      throw new IllegalStateException("committed entries recorded out of order at " + index);
    }
    committedTerm.set(index, entry.term());
    committedChain.set(index, chain);
    committedBy.set(index, node);
    long digest = referenceDigest.get(index - 1);
    if (entry.type() == EntryType.CONFIG_CHANGE) {
      committedMemberships.put((long) index, Codec.decodeMembership(entry.data()));
    } else if (entry.data().length > 0) {
      noteDuplicate(entry.data());
      byte[] answer = reference.apply(index, entry.data());
      if (entry.data()[0] == Replica.KIND_COMMAND) {
        referenceAnswer.set(index, Trace.hashBytes(answer == null ? new byte[0] : answer));
      }
      digest = Trace.hashBytes(reference.snapshot());
    }
    referenceDigest.set(index, digest);
  }

  /**
   * The exactly-once oracle, for each session command a node applies: its answer (what the
   * client is told) must be the reference's, which runs the log through correct sessions: the
   * command executed at its first commit and only then, every retry answered from the session
   * table with that first answer, an expired session refused. Anything else is a session bug,
   * named here rather than found later through its consequences.
   */
  void onSessionAnswer(int node, Entry entry, long clientId, long sequence, byte[] answer) {
    int index = (int) entry.index();
    long expected = referenceAnswer.get(index);
    if (expected != 0 && Trace.hashBytes(answer == null ? new byte[0] : answer) != expected) {
      fail("exactly-once", "n" + node + " answered client " + clientId + "'s command "
          + sequence + " (log index " + index + ") with " + describeAnswer(answer)
          + ", but correct sessions answer otherwise there (a command runs at its first commit"
          + " only, and every retry gets that first answer)");
    }
  }

  private static String describeAnswer(byte[] answer) {
    if (answer == null || answer.length == 0) {
      return "nothing (" + (answer == null ? "null" : "0 bytes") + ")";
    }
    try {
      SessionStateMachine.Result r = SessionStateMachine.decodeResult(answer);
      return r.status() + " with " + r.payload().length + " bytes";
    } catch (RuntimeException e) {
      return answer.length + " undecodable bytes";
    }
  }

  /** Marks a session command the session layer will answer from memory (a duplicate). */
  private void noteDuplicate(byte[] command) {
    if (command[0] != Replica.KIND_COMMAND || command.length < 17) {
      return;
    }
    long clientId = KvStateMachine.readLong(command, 1);
    long sequence = KvStateMachine.readLong(command, 9);
    Long last = lastSequence.put(clientId, sequence);
    if (last != null && last == sequence) {
      marks.hit(SimMark.DUPLICATE_COMMAND_DEDUPED);
    }
  }

  /**
   * A node's snapshot (taken, received or restarted from) must hold the committed entry's
   * term, the membership in force at its index and exactly the reference state there. The
   * node keeps images in files and hands out metadata: {@code image} is the state machine's
   * state serialized right after it took or restored the snapshot (null when not known yet:
   * a snapshot received but not yet restored, or one a restart restores next; the final
   * state check covers those).
   */
  void checkSnapshot(int node, Snapshot snapshot, String how, byte[] image) {
    int index = (int) snapshot.index();
    String who = "n" + node + " " + how + " a snapshot at " + index;
    if (index >= committedTerm.size()) {
      fail("snapshot", who + " beyond the committed log (" + (committedTerm.size() - 1) + ")");
    }
    if (committedTerm.get(index) != snapshot.term()) {
      fail("snapshot", who + " of term " + snapshot.term() + ", but the committed entry there"
          + " has term " + committedTerm.get(index));
    }
    Membership expected = committedMemberships.floorEntry((long) index).getValue();
    if (!snapshot.membership().equals(expected)) {
      fail("snapshot", who + " with membership " + snapshot.membership() + ", but "
          + expected + " is in force there");
    }
    if (image != null && Trace.hashBytes(image) != referenceDigest.get(index)) {
      fail("snapshot", who + " whose state differs from the reference state at that index");
    }
  }

  /**
   * A witness holds no data: every command entry it persists or applies has lost its payload,
   * and a snapshot it receives has no image and a membership that marks it a witness (the
   * node restores the image of any other; see core's Raft.snapshotFor). {@code what} names
   * the path that handed it over.
   */
  void checkWitnessHoldsNoData(int node, Entry entry, Snapshot snapshot, String what) {
    if (entry != null && entry.type() == EntryType.NORMAL && entry.data().length > 0) {
      fail("witness-no-data", "witness n" + node + " " + what + " entry " + entry.index()
          + " with a payload of " + entry.data().length + " bytes");
    }
    if (snapshot != null && (snapshot.sizeBytes() > 0
        || !snapshot.membership().isWitness(node))) {
      fail("witness-no-data", "witness n" + node + " " + what + " a snapshot at "
          + snapshot.index() + " of " + snapshot.sizeBytes() + " bytes with membership "
          + snapshot.membership());
    }
  }

  /** A node's state machine, serialized, must equal the reference state at its applied index. */
  void checkState(int node, long applied, byte[] state) {
    if (Trace.hashBytes(state) != referenceDigest.get((int) applied)) {
      fail("state-machine-safety", "n" + node + "'s state at applied index " + applied
          + " differs from the reference state there");
    }
  }

  /** A node restored {@code snapshot}: it applied everything up to its index. */
  void onRestore(int node, Snapshot snapshot, String how, byte[] image) {
    checkSnapshot(node, snapshot, how, image);
    NodeFacts f = facts[node];
    if (snapshot.index() < f.applied) {
      fail("applied-monotonic", "n" + node + " restored a snapshot at " + snapshot.index()
          + " after applying up to " + f.applied);
    }
    f.applied = snapshot.index();
  }

  /**
   * A node wrote a hard state with commit index {@code commit}, whose entry in its log has
   * {@code term} (0: not in its log, compacted).
   */
  void onCommitIndex(long commit, long term) {
    membership.onCommit(commit, term);
  }

  /** The membership of the last committed (and applied somewhere) change. */
  Membership committedMembership() {
    return committedMemberships.lastEntry().getValue();
  }

  /** A node in {@code term} knew entries up to {@code index} committed (it applied them). */
  void onCommitKnown(long term, long index) {
    Long known = commitKnownInTerm.get(term);
    if (known == null || known < index) {
      commitKnownInTerm.put(term, index);
    }
  }

  /** Remembers what a node promised by speaking, to check it survives the node's crash. */
  void onSend(int node, Message message, Replica host) {
    NodeFacts f = facts[node];
    if (message instanceof Message.Propose) {
      return; // Carries no term.
    }
    if (message instanceof Message.VoteRequest request && request.preVote()) {
      return; // A PreVote names a term the sender has not adopted.
    }
    if (message instanceof Message.VoteResponse response) {
      if (response.preVote()) {
        return; // Binds nothing; a granted one echoes a term not adopted.
      }
      if (response.granted()) {
        f.voteTerm = response.term();
        f.votedFor = response.to();
      }
    }
    if (message instanceof Message.AppendResponse response && !response.rejected()
        && response.index() > 0) {
      if (response.index() > host.lastIndex()) {
        fail("ack-beyond-log", "n" + node + " acknowledged entries up to " + response.index()
            + " but its log ends at " + host.lastIndex() + ": " + message);
      }
      f.ackTerm = response.term();
      f.ackIndex = response.index();
      f.ackChain = host.chainAt(response.index());
    }
    f.spokenTerm = Math.max(f.spokenTerm, message.term());
  }

  /** An fsync completed that covered {@code hardState}. */
  void onDurable(int node, HardState hardState) {
    NodeFacts f = facts[node];
    f.durableCommit = Math.max(f.durableCommit, hardState.commit());
    if (hardState.term() > f.durableTerm || hardState.vote() != 0) {
      f.durableTerm = hardState.term();
      f.durableVote = hardState.vote();
    }
  }

  /** An fsync made entry {@code index} of the node's current term {@code term} durable. */
  void onDurableEntry(int node, long term, long index, long chain) {
    NodeFacts f = facts[node];
    f.durableEntryTerm = term;
    f.durableEntryIndex = index;
    f.durableEntryChain = chain;
  }

  /**
   * A node restarts from what its disk kept: nothing it fsynced, and nothing it said, may be
   * missing (the Ready contract: persist before you speak).
   */
  void onRecover(int node, HardState recovered, Replica host) {
    NodeFacts f = facts[node];
    f.commit = recovered.commit();
    f.applied = host.appliedIndex(); // 0, or where a state machine that persists resumes
    if (!promiseOracles) {
      return;
    }
    String who = "n" + node + " recovered " + recovered + " last index " + host.lastIndex();
    if (recovered.commit() < f.durableCommit) {
      fail("durability", who + ", but commit " + f.durableCommit + " had been fsynced");
    }
    if (recovered.term() < f.durableTerm || (recovered.term() == f.durableTerm
        && f.durableVote != 0 && recovered.vote() != f.durableVote)) {
      fail("durability", who + ", but term " + f.durableTerm + " and vote n" + f.durableVote
          + " had been fsynced");
    }
    if (recovered.term() < f.spokenTerm) {
      fail("persist-before-speak", who + ", but it had sent a message in term "
          + f.spokenTerm + " (a term must be durable before the node speaks in it)");
    }
    if (recovered.term() == f.voteTerm && recovered.vote() != f.votedFor) {
      fail("persist-before-speak", who + ", but it had granted its vote in term "
          + f.voteTerm + " to n" + f.votedFor + " (a lost vote lets it vote twice)");
    }
    // A log that ends in a newer term than the acknowledgement's was rewritten by a later
    // leader (allowed to replace what a majority may not hold); a crash may then keep that
    // rewrite and lose the hard state that adopted the newer term (seed 9538, every nemesis on).
    // A witness's chain hashes entries without payloads from a base that moves with its
    // snapshots: only whether it still holds that many entries is compared for it.
    if (recovered.term() == f.durableEntryTerm && f.durableEntryIndex > 0
        && host.lastTerm() <= f.durableEntryTerm && (host.lastIndex() < f.durableEntryIndex
            || (!host.isWitness() && host.chainAt(f.durableEntryIndex) != f.durableEntryChain))) {
      fail("durability", who + ", but entry " + f.durableEntryIndex + " of term "
          + f.durableEntryTerm + " had been fsynced (a leader counts its own durable entries"
          + " in its quorum)");
    }
    if (recovered.term() == f.ackTerm && f.ackIndex > 0 && host.lastTerm() <= f.ackTerm
        && (host.lastIndex() < f.ackIndex
            || (!host.isWitness() && host.chainAt(f.ackIndex) != f.ackChain))) {
      fail("persist-before-speak", who + ", but in term " + f.ackTerm
          + " it had acknowledged holding entries up to " + f.ackIndex
          + " (an acknowledged entry must be durable: the leader may have committed it)");
    }
  }

  /** A client was told its operation, committed at {@code index}, took effect. */
  void onAcknowledged(int node, long index, long term) {
    if (index >= committedTerm.size() || committedTerm.get((int) index) != term) {
      fail("acknowledged-write", "n" + node + " acknowledged a client operation at index "
          + index + " term " + term + " that is not the committed entry there");
    }
    maxAcknowledgedIndex = Math.max(maxAcknowledgedIndex, index);
  }

  long maxAcknowledgedIndex() {
    return maxAcknowledgedIndex;
  }

  /** The chain of the committed log at {@code index} (a restored snapshot's base). */
  long committedChainAt(long index) {
    return committedChain.get((int) index);
  }

  /** Highest index applied anywhere. */
  long maxCommittedIndex() {
    return committedTerm.size() - 1;
  }

  /**
   * No acknowledged write lost: {@code host}'s log holds the committed log up to every index
   * a client was told about.
   */
  void checkHoldsAcknowledged(int node, Replica host) {
    long index = maxAcknowledgedIndex;
    if (index == 0) {
      return;
    }
    if (host.lastIndex() < index || host.chainAt(index) != committedChain.get((int) index)) {
      fail("acknowledged-write", "n" + node + " (last index " + host.lastIndex()
          + ") lost acknowledged writes: its log differs from the committed log at or before "
          + index);
    }
  }

  /** A virtual time, as the trace prints it. */
  private static String at(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.6fs", nanos / 1e9);
  }

  private void fail(String oracle, String message) {
    throw new SimulationFailure(oracle, label + message);
  }
}
