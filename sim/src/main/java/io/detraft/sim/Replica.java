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
import io.detraft.core.RaftHost;
import io.detraft.core.RawNode;
import io.detraft.core.ReadState;
import io.detraft.core.Ready;
import io.detraft.core.Role;
import io.detraft.core.SessionStateMachine;
import io.detraft.core.Snapshot;
import io.detraft.core.StateMachine;
import io.detraft.io.NodeStorage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One Raft group's replica on one node: its {@link RawNode} (inside the node's {@link
 * RaftHost}), its log as the node's real storage ({@link NodeStorage}) recovered and keeps it,
 * its state machine (the KV store inside exactly-once sessions, the host's or its
 * own) and the client requests waiting on it. {@link SimNode} runs the process and the Ready
 * loop; this class does each group's part of it: persist, apply, serve reads, take snapshots,
 * and rebuild all of it from the disk after a crash.
 */
final class Replica {
  /** The session layer's command kinds (its documented wire format: a kind byte first). */
  static final byte KIND_COMMAND = SessionStateMachine.command(0, 0, new byte[0])[0];

  /** A proposal this replica appended as leader, waiting to be applied at its index. */
  private record Proposal(Workload.Request request, long term) {}

  /** A confirmed read waiting until the replica applied its read index. */
  private record ConfirmedRead(long index, Workload.Request request) {}

  final int id;
  final long group;
  private final Simulation sim;
  private final Config config;
  private final Membership initial;
  private final Oracles oracles;

  /** The log image the node's storage keeps for this group (what the core reads). */
  private LogStorage storage;
  private RawNode raw;
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
  /** chain.get(i): hash of this replica's log up to index i (see {@link Oracles}). */
  private final LongList chain = new LongList();
  /** The snapshot the log starts after: at or below it, the log is the committed log. */
  private long chainBase;
  private Role role = Role.FOLLOWER;
  private long appliedIndex;
  private HardState writtenHardState = HardState.EMPTY;
  private HardState syncingHardState;
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
  /** Leader-only proposals (registrations, gets through the log) by log index. */
  private final TreeMap<Long, Proposal> proposals = new TreeMap<>();
  /** ReadIndex requests by context (the attempt id); only looked up, never iterated. */
  private final Map<Long, Workload.Request> reads = new HashMap<>();
  private final List<ConfirmedRead> confirmedReads = new ArrayList<>();
  /** An InstallSnapshot stream is arriving (a chunk came, the last one did not). */
  private boolean receivingSnapshot;
  private boolean snapshotRequested;
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
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Recovers this group through the node's storage (newest snapshot plus WAL) and starts the
   * replica in {@code host}: from the stored snapshot, if any, with everything up to it applied.
   */
  void boot(NodeStorage nodeStorage, RaftHost host, long seed) throws IOException {
    unsyncedEntries.clear(); // lost with the crash
    unsyncedChains.clear();
    NodeStorage.RecoveredGroup recovered = nodeStorage.recover(group, initial, 0);
    storage = recovered.log();
    Snapshot snapshot = recovered.snapshot();
    resetChain(snapshot.index());
    if (storage.lastIndex() > snapshot.index()) {
      for (Entry e : storage.entries(snapshot.index() + 1, storage.lastIndex() + 1,
          Long.MAX_VALUE)) {
        extendChain(e);
      }
    }
    HardState recoveredState = storage.hardState();
    sim.trace().record(sim.now(), Trace.Kind.RESTART, id, (int) group, recoveredState.term(),
        storage.lastIndex(), "g" + group + " from " + recoveredState + " snapshot="
            + snapshot.index() + " lastIndex=" + storage.lastIndex());
    appliedIndex = 0;
    oracles.onRecover(id, recoveredState, this);
    inner = sim.hooks().stateMachineFactory().apply(id);
    hostSessions = sim.hooks().sessionsInStateMachine() ? null
        : new SessionStateMachine(inner, sim.options().workload().sessionTimeoutEntries());
    stateMachine = hostSessions != null ? hostSessions : inner;
    if (recovered.restore()) {
      stateMachine.restore(snapshot.data());
      appliedIndex = snapshot.index();
      oracles.onRestore(id, snapshot, "restarted from");
      sim.marks().hit(SimMark.SNAPSHOT_RESTORED_ON_RESTART);
    }
    writtenHardState = recoveredState;
    role = Role.FOLLOWER;
    proposals.clear();
    reads.clear();
    confirmedReads.clear();
    receivingSnapshot = false;
    snapshotRequested = false;
    lastSequence.clear();
    raw = host.addGroup(config, storage, seed, appliedIndex);
  }

  /** The process dies (or the run ends): count what this incarnation hit. */
  void retire(Marks marks) {
    if (raw == null) {
      return;
    }
    marks.add(raw.coverage());
    if (hostSessions != null) {
      marks.add(SimMark.SESSION_EXPIRED, hostSessions.expiredCount());
    } else if (inner instanceof SimHooks.ExpiredSessions own) {
      marks.add(SimMark.SESSION_EXPIRED, own.expiredSessions());
    }
    raw = null;
    storage = null;
    inner = null;
    stateMachine = null;
    hostSessions = null;
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
        ProposeResult result = raw.propose(request.command());
        trace(request, result);
        replyUnlessPending(request, result);
      }
      case REGISTER, LOG_GET -> {
        // Matched by log position, so only a leader proposes them.
        if (role != Role.LEADER) {
          reply(request, Workload.Reply.Outcome.NOT_LEADER, raw.status().leader());
          return;
        }
        ProposeResult result = raw.propose(request.command());
        trace(request, result);
        if (result instanceof ProposeResult.Accepted accepted) {
          proposals.put(accepted.index(), new Proposal(request, accepted.term()));
        } else {
          replyUnlessPending(request, result);
        }
      }
      case READ_INDEX -> {
        if (sim.hooks().staleReads()) {
          serve(request, request.command()); // The planted bug: no ReadIndex at all.
          return;
        }
        byte[] context = new byte[8];
        KvStateMachine.writeLong(context, 0, request.attempt());
        ProposeResult result = raw.readIndex(context);
        trace(request, result);
        if (result instanceof ProposeResult.Accepted
            || result instanceof ProposeResult.Forwarded) {
          reads.put(request.attempt(), request);
        } else {
          replyUnlessPending(request, result);
        }
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
    return raw.transferLeadership(target);
  }

  ProposeResult proposeMembership(MembershipChange change) {
    return raw.proposeMembership(change);
  }

  // ---------------------------------------------------------------- the Ready loop

  /**
   * Step 1 of the contract for this group: write the snapshot, then the entries, then the
   * hard state (if a crash keeps only a prefix of the writes, it must never keep a commit
   * index whose entries it lost).
   */
  void persist(Ready ready, NodeStorage nodeStorage) throws IOException {
    long now = sim.now();
    sim.trace().record(now, Trace.Kind.READY, id, (int) group,
        ready.entries().size() * 31L + ready.committedEntries().size(),
        ready.messages().size() * 2L + (ready.mustSync() ? 1 : 0), ready);
    Snapshot snapshot = ready.snapshot();
    if (snapshot != null) {
      oracles.checkSnapshot(id, snapshot, "received");
    }
    HardState previousHardState = writtenHardState;
    nodeStorage.persist(group, ready); // the node's real persist step
    if (snapshot != null) {
      resetChain(snapshot.index());
    }
    List<Entry> entries = ready.entries();
    if (!entries.isEmpty()) {
      for (Entry e : entries) {
        extendChain(e);
        unsyncedChains.set(unsyncedEntries.size(), chain.get((int) e.index()));
        unsyncedEntries.add(e);
      }
    }
    HardState hardState = ready.hardState();
    if (hardState != null) {
      oracles.onHardState(id, previousHardState, hardState);
      if (role == Role.LEADER && ready.softState() == null
          && hardState.commit() > previousHardState.commit()) {
        // Leader all along: it advanced its commit index by counting replicas.
        long termAtCommit = hardState.commit() <= storage.lastIndex()
            ? storage.term(hardState.commit()) : -1;
        oracles.onLeaderCommit(id, hardState, termAtCommit);
      }
      writtenHardState = hardState;
    }
    if (ready.softState() != null) {
      role = ready.softState().role();
      long term = raw.status().term();
      sim.trace().record(now, Trace.Kind.ROLE, id, (int) ready.softState().leader(), term,
          group * 8 + role.ordinal(), group == 1 ? role : "g" + group + " " + role);
      if (role == Role.LEADER) {
        oracles.onLeader(id, term, this);
        sim.nemesis().onLeader(id, group);
      } else if (role != Role.FOLLOWER && !oracles.committedMembership().isVoter(id)) {
        sim.marks().hit(SimMark.REMOVED_NODE_CAMPAIGNED);
      }
    }
  }

  void syncStarted() {
    syncingHardState = writtenHardState;
  }

  void syncDone() {
    oracles.onDurable(id, syncingHardState);
    for (int i = 0; i < unsyncedEntries.size(); i++) {
      oracles.onAppend(id, unsyncedEntries.get(i), unsyncedChains.get(i));
    }
    unsyncedEntries.clear();
    unsyncedChains.clear();
  }

  /** Step 4: restore a received snapshot, apply committed entries, serve confirmed reads. */
  void apply(Ready ready) {
    Snapshot snapshot = ready.snapshot();
    if (snapshot != null) {
      stateMachine.restore(snapshot.data());
      appliedIndex = snapshot.index();
      oracles.onRestore(id, snapshot, "installed");
      proposals.headMap(snapshot.index(), true).clear(); // Their clients time out and retry.
      sim.trace().record(sim.now(), Trace.Kind.RESTORE, id, (int) group, snapshot.index(),
          snapshot.term(), snapshot);
    }
    List<Entry> committed = ready.committedEntries();
    if (!committed.isEmpty()) {
      for (Entry e : committed) {
        applyEntry(e);
      }
      oracles.onCommitKnown(writtenHardState.term(), appliedIndex);
      sim.trace().record(sim.now(), Trace.Kind.APPLY, id, (int) group,
          committed.get(0).index(), appliedIndex, null);
    }
    for (ReadState read : ready.readStates()) {
      Workload.Request request = reads.remove(KvStateMachine.readLong(read.context(), 0));
      if (request != null) {
        confirmedReads.add(new ConfirmedRead(read.index(), request));
        if (read.index() > appliedIndex) {
          sim.marks().hit(SimMark.READ_WAITED_FOR_APPLY);
        }
      }
    }
    if (!confirmedReads.isEmpty()) {
      confirmedReads.removeIf(read -> {
        if (read.index() > appliedIndex) {
          return false;
        }
        serve(read.request(), read.request().command());
        return true;
      });
    }
  }

  private void applyEntry(Entry e) {
    oracles.onApply(id, e, chain.get((int) e.index()));
    appliedIndex = e.index();
    Proposal proposal = proposals.isEmpty() ? null : proposals.remove(e.index());
    byte[] data = e.data();
    if (e.type() != EntryType.NORMAL || data.length == 0) {
      if (proposal != null) {
        reply(proposal.request(), Workload.Reply.Outcome.LOST, 0);
      }
      return; // A leader's no-op or a configuration entry: nothing for the application.
    }
    byte[] result = stateMachine.apply(e.index(), data);
    if (data[0] == KIND_COMMAND && data.length >= 17) {
      long clientId = KvStateMachine.readLong(data, 1);
      long sequence = KvStateMachine.readLong(data, 9);
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
    if (proposal != null) {
      // Same index and term: our entry (log matching). Another term: ours was replaced.
      sim.workload().reply(proposal.request(), proposal.term() == e.term()
          ? Workload.Reply.applied(proposal.request(), id, e.index(), e.term(), result)
          : Workload.Reply.of(Workload.Reply.Outcome.LOST, proposal.request(), id, 0));
    }
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

  /** The nemesis asks for a snapshot; it is taken after the next Ready round. */
  void requestSnapshot() {
    snapshotRequested = true;
  }

  /**
   * Snapshots the state machine at the applied index and compacts the log behind it, when
   * requested or once {@code threshold} entries were applied since the last snapshot. Called
   * right after {@code advance}: then no received snapshot is pending in the core, so the
   * membership at the applied index is known.
   */
  void maybeSnapshot(long threshold, NodeStorage nodeStorage) throws IOException {
    long last = storage.snapshot().index();
    boolean due = snapshotRequested || (threshold > 0 && appliedIndex - last >= threshold);
    if (!due || appliedIndex <= last) {
      return;
    }
    snapshotRequested = false;
    Snapshot snapshot = new Snapshot(appliedIndex, storage.term(appliedIndex),
        raw.membershipAt(appliedIndex), stateMachine.snapshot());
    nodeStorage.saveSnapshot(group, snapshot, appliedIndex); // durable, log compacted behind it
    oracles.checkSnapshot(id, snapshot, "took");
    sim.marks().hit(SimMark.SNAPSHOT_TAKEN);
    sim.trace().record(sim.now(), Trace.Kind.SNAPSHOT, id, (int) group, snapshot.index(),
        snapshot.term(), snapshot);
  }

  /** End of run: this replica's state machine must equal the reference at its applied index. */
  void checkFinalState() {
    oracles.checkState(id, appliedIndex, stateMachine.snapshot());
  }

  // ---------------------------------------------------------------- observation

  private void resetChain(long base) {
    chainBase = base;
    chain.setAndTruncate((int) base, base == 0 ? 0 : oracles.committedChainAt(base));
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

  Membership membership() {
    return raw.membership();
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
    return raw.status().commit();
  }

  boolean isRunning() {
    return raw != null;
  }
}
