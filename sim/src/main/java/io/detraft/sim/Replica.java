package io.detraft.sim;

import io.detraft.core.Config;
import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.HardState;
import io.detraft.core.LogStorage;
import io.detraft.core.Membership;
import io.detraft.core.MembershipChange;
import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.Ready;
import io.detraft.core.Role;
import io.detraft.core.SessionStateMachine;
import io.detraft.core.Snapshot;
import io.detraft.core.StateMachine;
import io.detraft.io.Node;
import io.detraft.io.NodeStorage;
import io.detraft.io.ProposalException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * One Raft group on one simulated node, as the simulator sees it: the group's state machine
 * (the KV store inside exactly-once sessions, the host's or its own), the client requests it
 * hands to the node's real code ({@link Node}: proposals, ReadIndex reads, leadership
 * transfers, membership changes), and the bookkeeping the oracles need, fed by the node's
 * {@link Node.Observer} calls: the chain of hashes of its log, what is durable, what it
 * applied. It decides nothing the deployed node decides; it watches and it asks.
 */
final class Replica {
  /** The session layer's command kinds (its documented wire format: a kind byte first). */
  static final byte KIND_COMMAND = SessionStateMachine.command(0, 0, new byte[0])[0];
  /** Requests wait as long as the run lasts: the clients time out and retry on their own. */
  private static final long NO_DEADLINE = Long.MAX_VALUE / 4;

  final int id;
  final long group;
  private final Simulation sim;
  private final Config config;
  private final Membership initial;
  private final Oracles oracles;
  /**
   * This replica is its group's witness: its log holds no payloads, so the oracles that
   * compare logs, applied entries and state by content skip it (its terms, votes and hard
   * state are checked like any voter's). The nemesis never changes a witness's membership.
   */
  private final boolean witness;

  /** The node of this incarnation; null while the process is down. */
  private Node node;
  /** The log image the node's storage keeps for this group (what the core reads). */
  private LogStorage storage;
  /** The application state machine, and the session layer wrapping it. */
  private StateMachine inner;
  /**
   * What the log's entries are applied to: the session layer over {@code inner}, or, when
   * the application keeps its own sessions ({@link SimHooks#sessionsInStateMachine}),
   * {@code inner} itself. Either way it takes session envelopes and answers in {@link
   * SessionStateMachine}'s result format, so the code below reads its results alike.
   */
  private StateMachine stateMachine;
  /** The host's session layer, or null when the application keeps the sessions. */
  private SessionStateMachine hostSessions;
  /** Sessions expired before this incarnation (counted by an earlier one). */
  private long expiredAtStart;
  /** chain.get(i): hash of this replica's log up to index i (see {@link Oracles}). */
  private final LongList chain = new LongList();
  /** The snapshot the log starts after: at or below it, the log is the committed log. */
  private long chainBase;
  private Role role = Role.FOLLOWER;
  private long leader;
  private long appliedIndex;
  private HardState writtenHardState = HardState.EMPTY;
  /**
   * Entries written since the last fsync, with their chains, for the log-matching oracle: an
   * entry counts once it is durable. One that a crash erased before its fsync, and that never
   * left this node, was never part of any log: a lone voter that won an election, appended
   * and crashed before its new term was on disk may lead that term again with other entries
   * (found with every nemesis on, seed 5657). Entries sent early reach the oracle through the
   * followers that persist them.
   */
  private final ArrayList<Entry> unsyncedEntries = new ArrayList<>();
  private final LongList unsyncedChains = new LongList();
  /** An InstallSnapshot stream is arriving (a chunk came, the last one did not). */
  private boolean receivingSnapshot;
  /**
   * For the planted {@link SimHooks#reapplyRetries} bug only: the last sequence number this
   * incarnation applied per client id, to spot the retries the session layer deduplicates.
   */
  private final Map<Long, Long> lastSequence = new HashMap<>();

  Replica(int id, long group, Simulation sim, Config config, Membership initial,
      Oracles oracles) {
    this.id = id;
    this.group = group;
    this.sim = sim;
    this.config = config;
    this.initial = initial;
    this.oracles = oracles;
    this.witness = initial.isWitness(id);
  }

  boolean isWitness() {
    return witness;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * A new incarnation's part of the node: a fresh state machine, or, when the seed's state
   * machines persist, the one the crash left, with what it applied.
   */
  Node.GroupSpec start() {
    unsyncedEntries.clear(); // lost with the crash
    unsyncedChains.clear();
    long persisted = 0;
    if (stateMachine != null && sim.options().disk().stateMachinePersists()) {
      persisted = appliedIndex;
      if (inner instanceof SimHooks.ReopensAfterCrash store) {
        // It may resume behind: entries it never saw (no-ops, configurations, reads served
        // beside it) are not in its applied index, and the node applies them again.
        long resumed = store.reopen();
        if (resumed > persisted) {
          throw new SimulationFailure("durability", "n" + id + " g" + group + ": the state"
              + " machine reopened its store at index " + resumed + ", past the " + persisted
              + " it had applied");
        }
        persisted = resumed;
      }
    } else {
      inner = sim.hooks().stateMachineFactory().apply(id);
      hostSessions = sim.hooks().sessionsInStateMachine() ? null
          : new SessionStateMachine(inner, sim.options().workload().sessionTimeoutEntries());
      stateMachine = hostSessions != null ? hostSessions : inner;
      if (sim.hooks().has(SimHooks.NodeBug.SESSION_DROPS_FIRST_COMMAND)) {
        stateMachine = dropFirstCommands(stateMachine);
      }
    }
    expiredAtStart = expiredSessions();
    role = Role.FOLLOWER;
    leader = 0;
    appliedIndex = persisted;
    receivingSnapshot = false;
    lastSequence.clear();
    return new Node.GroupSpec(config, initial, stateMachine, persisted);
  }

  /** Sessions the state machine expired so far (a persisting one counts across restarts). */
  private long expiredSessions() {
    if (hostSessions != null) {
      return hostSessions.expiredCount();
    }
    return inner instanceof SimHooks.ExpiredSessions own ? own.expiredSessions() : 0;
  }

  /** The node recovered and runs this group. */
  void started(Node node) {
    this.node = node;
  }

  /**
   * The node's recovery rebuilt this group from its storage (newest snapshot plus WAL); the
   * state machine is restored from the snapshot right after, if there is one.
   */
  void recovered(NodeStorage.RecoveredGroup recovered) {
    storage = recovered.log();
    Snapshot snapshot = recovered.snapshot();
    resetChain(snapshot.index());
    if (storage.lastIndex() > snapshot.index()) {
      for (Entry e : storage.entries(snapshot.index() + 1, storage.lastIndex() + 1,
          Long.MAX_VALUE)) {
        extendChain(e);
      }
    }
    HardState state = storage.hardState();
    sim.trace().record(sim.now(), Trace.Kind.RESTART, id, (int) group, state.term(),
        storage.lastIndex(), "g" + group + " from " + state + " snapshot="
            + snapshot.index() + " lastIndex=" + storage.lastIndex() + " applied="
            + appliedIndex);
    if (recovered.restore()) {
      appliedIndex = 0; // what it applied is older than the snapshot: replaced by it
    }
    if (recovered.commitRaised()) {
      sim.marks().hit(SimMark.RESTARTED_AHEAD_OF_COMMIT);
    }
    oracles.onRecover(id, state, this);
    if (recovered.restore()) {
      appliedIndex = snapshot.index();
      if (!witness) {
        oracles.onRestore(id, snapshot, "restarted from", null);
      }
      sim.marks().hit(SimMark.SNAPSHOT_RESTORED_ON_RESTART);
    }
    writtenHardState = state;
  }

  /**
   * Disaster recovery replaced this replica's data: the next start builds a fresh state
   * machine, which the node restores from the imported snapshot.
   */
  void forgetStateMachine() {
    stateMachine = null;
    appliedIndex = 0;
  }

  /** The process dies (or the run ends): count what this incarnation hit. */
  void retire(Marks marks) {
    if (node == null) {
      return;
    }
    marks.add(node.coverage(group));
    marks.add(SimMark.SESSION_EXPIRED, expiredSessions() - expiredAtStart);
    node = null;
    storage = null;
    // The state machine stays: a persisting one is what the next incarnation resumes from.
  }

  /**
   * The node stopped this replica while it kept running (the nemesis, as an operator would):
   * count what it hit, as at a crash; its state machine and the node's data stay for {@link
   * #start}. It leads nothing now.
   */
  void stopped(Marks marks) {
    retire(marks);
    role = Role.FOLLOWER;
    leader = 0;
    receivingSnapshot = false;
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, (int) group, 0, 0,
        "g" + group + " replica stopped");
  }

  /** Whether the replica was receiving a snapshot in chunks (the crash mark). */
  boolean receivingSnapshot() {
    return receivingSnapshot;
  }

  // ---------------------------------------------------------------- input

  /** Notes what the replica is about to be told (the node steps it right after). */
  void beforeStep(Message message) {
    if (message instanceof Message.InstallSnapshot chunk) {
      receivingSnapshot = !chunk.done();
    }
  }

  void onRequest(Workload.Request request) {
    switch (request.path()) {
      case SESSION -> {
        if (sim.hooks().staleTxnReads()) {
          // The command after its session envelope (kind, client id, sequence: 17 bytes).
          byte[] payload = Arrays.copyOfRange(request.command(), 17, request.command().length);
          if (ListTxn.isTxn(payload) && ListTxn.isReadOnly(payload)) {
            serve(request, payload); // The planted bug: a read-only transaction off the log.
            return;
          }
        }
        // Its answer reaches the client through onSessionApplied, on whichever node applies
        // it: a follower may have forwarded it.
        ProposeResult result = node.propose(group, request.command(), new CompletableFuture<>(),
            NO_DEADLINE);
        trace(request, result);
        replyUnlessPending(request, result);
      }
      case REGISTER, LOG_GET -> {
        // Matched by log position, so only a leader proposes them.
        if (role != Role.LEADER) {
          reply(request, Workload.Reply.Outcome.NOT_LEADER, leader);
          return;
        }
        CompletableFuture<byte[]> applied = new CompletableFuture<>();
        ProposeResult result = node.propose(group, request.command(), applied, NO_DEADLINE);
        trace(request, result);
        if (result instanceof ProposeResult.Accepted accepted) {
          sim.whenDone(applied, (answer, error) -> {
            if (error == null) {
              sim.workload().reply(request, Workload.Reply.applied(request, id,
                  accepted.index(), accepted.term(), answer));
            } else if (error instanceof ProposalException e
                && e.reason() == ProposalException.Reason.DROPPED) {
              // Another entry committed at its index: it will never apply.
              reply(request, Workload.Reply.Outcome.LOST, 0);
            } // else the outcome is unknown: the client times out and retries
          });
        } else {
          replyUnlessPending(request, result);
        }
      }
      case READ_INDEX -> {
        // A leader's read is released by its own quorum round or lease, in this term.
        long leaderTerm = role == Role.LEADER ? writtenHardState.term() : 0;
        if (sim.hooks().staleReads()) {
          serveRead(request, leaderTerm); // The planted bug: no ReadIndex at all.
          return;
        }
        CompletableFuture<Long> confirmed = new CompletableFuture<>();
        ProposeResult result = node.readIndex(group, confirmed, NO_DEADLINE);
        trace(request, result);
        // Completes on the node's loop once the state machine reflects the read index.
        sim.whenDone(confirmed, (index, error) -> {
          if (error == null) {
            serveRead(request, leaderTerm);
          } // else refused (answered above) or abandoned: the client times out and retries
        });
        replyUnlessPending(request, result);
      }
    }
  }

  /** Answers at once what nothing will answer later: not leader, or refused. */
  private void replyUnlessPending(Workload.Request request, ProposeResult result) {
    if (result instanceof ProposeResult.NotLeader notLeader) {
      reply(request, Workload.Reply.Outcome.NOT_LEADER, notLeader.leaderHint());
    } else if (result instanceof ProposeResult.Rejected) {
      // Nothing was appended: the client may safely retry elsewhere.
      reply(request, Workload.Reply.Outcome.REJECTED, 0);
    }
  }

  private void reply(Workload.Request request, Workload.Reply.Outcome outcome, long hint) {
    sim.workload().reply(request, Workload.Reply.of(outcome, request, id, hint));
  }

  private void trace(Workload.Request request, ProposeResult result) {
    sim.trace().record(sim.now(), Trace.Kind.CLIENT_PROPOSE, id, (int) group,
        request.client(), request.attempt(), result);
  }

  ProposeResult transferLeadership(long target) {
    return node.transferLeadership(group, target, new CompletableFuture<>(), NO_DEADLINE);
  }

  ProposeResult proposeMembership(MembershipChange change) {
    return node.changeMembership(group, change, new CompletableFuture<>(), NO_DEADLINE);
  }

  // ---------------------------------------------------------------- what the node reports

  /** The node persisted this group's part of a Ready (not yet synced). */
  void persisted(Ready ready) {
    long now = sim.now();
    sim.trace().record(now, Trace.Kind.READY, id, (int) group,
        ready.entries().size() * 31L + ready.committedEntries().size(),
        ready.messages().size() * 2L + (ready.mustSync() ? 1 : 0), ready);
    Snapshot snapshot = ready.snapshot();
    if (snapshot != null) {
      if (!witness) {
        oracles.checkSnapshot(id, snapshot, "received", null);
      } else {
        oracles.checkWitnessHoldsNoData(id, null, snapshot, "received");
      }
      resetChain(snapshot.index());
    }
    for (Entry e : ready.entries()) {
      if (witness) {
        oracles.checkWitnessHoldsNoData(id, e, null, "persisted");
      }
      extendChain(e);
      unsyncedChains.set(unsyncedEntries.size(), chain.get((int) e.index()));
      unsyncedEntries.add(e);
    }
    HardState hardState = ready.hardState();
    if (hardState != null) {
      long commit = hardState.commit();
      oracles.onCommitIndex(commit, commit >= storage.firstIndex()
          && commit <= storage.lastIndex() ? storage.term(commit) : 0);
      oracles.onHardState(id, writtenHardState, hardState);
      if (role != Role.LEADER && hardState.commit() > writtenHardState.commit() && !witness) {
        checkFollowerCommit(hardState);
      }
      if (role == Role.LEADER && ready.softState() == null
          && hardState.commit() > writtenHardState.commit()) {
        // Leader all along: it advanced its commit index by counting replicas.
        long termAtCommit = hardState.commit() <= storage.lastIndex()
            ? storage.term(hardState.commit()) : -1;
        oracles.onLeaderCommit(id, hardState, termAtCommit);
      }
      writtenHardState = hardState;
    }
    if (ready.softState() != null) {
      role = ready.softState().role();
      leader = ready.softState().leader();
      long term = writtenHardState.term();
      sim.trace().record(now, Trace.Kind.ROLE, id, (int) leader, term,
          group * 8 + role.ordinal(), group == 1 ? role : "g" + group + " " + role);
      if (role == Role.LEADER) {
        oracles.onLeader(id, term, this, now);
        sim.workload().onLeaderChange(group, id);
        sim.nemesis().onLeader(id, group);
      } else if (role != Role.FOLLOWER && !oracles.committedMembership().isVoter(id)) {
        sim.marks().hit(SimMark.REMOVED_NODE_CAMPAIGNED);
      }
    }
  }

  /**
   * A follower (or candidate) raised its commit index: its log up to there must be its
   * leader's. Compared with the committed log where the oracles know it, else with the log of
   * the term's leader (which holds what it committed durably, through any crash).
   */
  private void checkFollowerCommit(HardState next) {
    long commit = next.commit();
    long expected;
    String reference;
    if (commit <= oracles.maxCommittedIndex()) {
      expected = oracles.committedChainAt(commit);
      reference = "the committed log";
    } else {
      int leaderId = oracles.leaderOf(next.term());
      if (leaderId == 0 || leaderId == id) {
        return;
      }
      Replica leaderReplica = sim.node(leaderId).replica(group);
      if (leaderReplica.lastIndex() < commit) {
        return; // its log was cut by a crash below what it committed? then it was not durable
      }
      expected = leaderReplica.chainAt(commit);
      reference = "its leader's log (n" + leaderId + ")";
    }
    oracles.onFollowerCommit(id, next.term(), commit, chainAt(commit), expected, reference);
  }

  /** Everything the node persisted so far is durable. */
  void synced() {
    oracles.onDurable(id, writtenHardState);
    for (int i = 0; i < unsyncedEntries.size(); i++) {
      Entry entry = unsyncedEntries.get(i);
      if (!witness) { // a witness's entries have no payloads: not comparable with the log's
        oracles.onAppend(id, entry, unsyncedChains.get(i));
      }
      if (entry.term() == writtenHardState.term()) {
        oracles.onDurableEntry(id, entry.term(), entry.index(), unsyncedChains.get(i));
      }
    }
    unsyncedEntries.clear();
    unsyncedChains.clear();
  }

  /** The node restored a snapshot received from the leader. */
  void restored(Snapshot snapshot) {
    appliedIndex = snapshot.index();
    if (!witness) {
      oracles.onRestore(id, snapshot, "installed", stateMachine.snapshot());
    }
    sim.trace().record(sim.now(), Trace.Kind.RESTORE, id, (int) group, snapshot.index(),
        snapshot.term(), snapshot);
  }

  /** The planted session bug: each client's first command is answered OK, never run. */
  private static StateMachine dropFirstCommands(StateMachine sessions) {
    Set<Long> seen = new TreeSet<>();
    return new StateMachine() {
      @Override
      public byte[] apply(long index, byte[] command) {
        if (command.length >= 17 && command[0] == KIND_COMMAND
            && seen.add(KvStateMachine.readLong(command, 1))) {
          return new byte[] {(byte) SessionStateMachine.Status.OK.ordinal()};
        }
        return sessions.apply(index, command);
      }

      @Override
      public byte[] snapshot() {
        return sessions.snapshot();
      }

      @Override
      public void restore(byte[] snapshot) {
        sessions.restore(snapshot);
      }
    };
  }

  /** The node applied a committed entry; {@code result} is null for no-ops and configurations. */
  void applied(Entry e, byte[] result) {
    if (!witness) {
      oracles.onApply(id, e, chain.get((int) e.index()));
    } else {
      oracles.checkWitnessHoldsNoData(id, e, null, "applied");
    }
    appliedIndex = e.index();
    // A witness's applied entries are not in the committed log the oracles record (it has no
    // payloads to record): it vouches only for what a data replica applied too.
    oracles.onCommitKnown(writtenHardState.term(),
        witness ? Math.min(appliedIndex, oracles.maxCommittedIndex()) : appliedIndex);
    sim.trace().fold(sim.now(), Trace.Kind.APPLY, id);
    byte[] data = e.data();
    if (e.type() != EntryType.NORMAL || data.length == 0) {
      return; // A leader's no-op or a configuration entry: nothing for the application.
    }
    if (data[0] == KIND_COMMAND && data.length >= 17) {
      long clientId = KvStateMachine.readLong(data, 1);
      long sequence = KvStateMachine.readLong(data, 9);
      oracles.onSessionAnswer(id, e, clientId, sequence, result);
      if (sim.hooks().reapplyRetries()) {
        Long last = lastSequence.put(clientId, sequence);
        if (last != null && last == sequence
            && SessionStateMachine.decodeResult(result).status() == SessionStateMachine.Status.OK) {
          // The planted bug: the session answered from memory, the command runs again anyway.
          applyOutsideSessions(e.index(), Arrays.copyOfRange(data, 17, data.length));
        }
      }
      sim.workload().onSessionApplied(id, group, clientId, sequence, e.index(), e.term(),
          result);
    }
  }

  /** The node took a snapshot of this group's state machine and compacted its log. */
  void snapshotTaken(Snapshot snapshot) {
    if (!witness) {
      oracles.checkSnapshot(id, snapshot, "took", stateMachine.snapshot());
    }
    sim.marks().hit(SimMark.SNAPSHOT_TAKEN);
    sim.trace().record(sim.now(), Trace.Kind.SNAPSHOT, id, (int) group, snapshot.index(),
        snapshot.term(), snapshot);
  }

  /** Serves a get that passed the read path, after the read oracle checked it. */
  private void serveRead(Workload.Request request, long leaderTerm) {
    oracles.onRead(id, request, appliedIndex, leaderTerm);
    serve(request, request.command());
  }

  /**
   * Runs {@code command}, a get (or, for a planted bug, a read-only transaction), on the local
   * state machine: it changes nothing, so no log is needed.
   */
  private void serve(Workload.Request request, byte[] command) {
    byte[] result = applyOutsideSessions(appliedIndex, command);
    sim.trace().record(sim.now(), Trace.Kind.READ, id, (int) group, request.attempt(),
        appliedIndex, null);
    sim.workload().reply(request, Workload.Reply.read(request, id, result));
  }

  /**
   * Runs a bare command (no session envelope) on the application. A machine that keeps its
   * own sessions takes only envelopes, so the command goes in as unsessioned and its answer
   * comes out of the result envelope, which is then what the bare machine would have said.
   */
  private byte[] applyOutsideSessions(long index, byte[] command) {
    if (hostSessions != null) {
      return inner.apply(index, command);
    }
    SessionStateMachine.Result result = SessionStateMachine.decodeResult(
        inner.apply(index, SessionStateMachine.unsessioned(command)));
    if (result.status() != SessionStateMachine.Status.OK) {
      throw new IllegalStateException("n" + id + " g" + group + ": an unsessioned command"
          + " at " + index + " was answered " + result.status());
    }
    return result.payload();
  }

  /** End of run: this replica's state machine must equal the reference at its applied index. */
  void checkFinalState() {
    if (witness) {
      return; // its state machine saw no payloads
    }
    oracles.checkState(id, appliedIndex, stateMachine.snapshot());
  }

  // ---------------------------------------------------------------- observation

  private void resetChain(long base) {
    chainBase = base;
    // A witness's chain is never compared (its entries have no payloads), and its snapshot
    // may be of an index only witnesses applied yet, not in the committed log (seed -2868).
    boolean unknown = base == 0 || (witness && base > oracles.maxCommittedIndex());
    chain.setAndTruncate((int) base, unknown ? 0 : oracles.committedChainAt(base));
  }

  private void extendChain(Entry e) {
    int index = (int) e.index();
    long previous = chain.get(index - 1);
    long h = previous ^ (e.term() * 0x9E3779B97F4A7C15L) ^ ((long) e.type().ordinal() << 7);
    h = SimRandom.mix64(h + Trace.hashBytes(e.data()));
    chain.setAndTruncate(index, h);
  }

  long lastIndex() {
    return chain.size() - 1;
  }

  /** Term of the last entry in this replica's log (its snapshot's when the log is empty). */
  long lastTerm() {
    return storage.term(storage.lastIndex());
  }

  /** Hash of this replica's log up to {@code index} (requires {@code index <= lastIndex()}). */
  long chainAt(long index) {
    return index < chainBase ? oracles.committedChainAt(index) : chain.get((int) index);
  }

  /** The membership in force on this replica now (the core's view, mid-round included). */
  Membership membership() {
    return node.membershipNow(group);
  }

  Role role() {
    return role;
  }

  long appliedIndex() {
    return appliedIndex;
  }

  long term() {
    return writtenHardState.term();
  }

  long commitIndex() {
    return node.statusNow(group).commit();
  }

  boolean isRunning() {
    return node != null;
  }
}
