package io.detraft.sim;

import io.detraft.core.Config;
import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.HardState;
import io.detraft.core.MemoryLogStorage;
import io.detraft.core.Membership;
import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.RawNode;
import io.detraft.core.Ready;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The host of one replica: a {@link RawNode} over a {@link MemoryLogStorage} (the process's
 * view of its log, page cache included), a {@link Disk} (what survives a crash), a state
 * machine, a ticker and an inbox. It follows the Ready contract: persist (entries before the
 * hard state), fsync when the Ready says so, send, apply, advance. While an fsync is in
 * progress or the process is paused, input waits in the inbox, as it would in a
 * single-threaded host blocked on I/O.
 *
 * <p>Commands are framed as {@code requestId(8) payload}: the host keeps a session table of
 * request ids it has applied, so a command duplicated by the network (a forwarded proposal
 * delivered twice) is applied once; the table is rebuilt by replay after a restart.
 */
final class SimNode {
  /** Input that waits while the process is busy or paused: messages and client requests. */
  private static final int INBOX_LIMIT = 100_000;

  final int id;
  private final Simulation sim;
  private final Config config;
  private final Membership membership;
  private final Disk disk;
  private final SimRandom random;
  /** This node's tick length: the nominal tick with this node's clock drift. */
  final long tickNanos;

  private boolean up;
  private boolean paused;
  /** Bumped at every crash and restart; events for an older incarnation are ignored. */
  private int incarnation;
  private MemoryLogStorage storage;
  private RawNode raw;
  private StateMachine stateMachine;
  /** chain.get(i): hash of this node's log up to index i (see {@link Oracles}). */
  private final LongList chain = new LongList();
  private final ArrayDeque<Object> inbox = new ArrayDeque<>();
  private boolean tickPending;
  /** The Ready waiting for its fsync, and the messages it holds back until then. */
  private Ready outstanding;
  private List<Message> heldMessages;
  private boolean syncCompletedWhilePaused;
  private HardState writtenHardState = HardState.EMPTY;
  private HardState syncingHardState;
  /**
   * Result of each command applied this incarnation, indexed by request id (exactly-once
   * sessions). The workload hands out dense request ids from 1, so an array beats a map.
   */
  private byte[][] sessions = new byte[1024][];
  private Role role = Role.FOLLOWER;
  private long appliedIndex;
  long duplicateCommands;

  SimNode(int id, Simulation sim, Config config, Membership membership, Disk disk,
      SimRandom random, long tickNanos) {
    this.id = id;
    this.sim = sim;
    this.config = config;
    this.membership = membership;
    this.disk = disk;
    this.random = random;
    this.tickNanos = tickNanos;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Starts (or restarts) the process from what the disk holds. */
  void boot() {
    List<DiskRecord> records = disk.recover();
    storage = new MemoryLogStorage(membership);
    int torn = 0;
    for (int i = 0; i < records.size(); i++) {
      DiskRecord record = records.get(i);
      if (record.torn()) {
        if (i != records.size() - 1) {
          throw new SimulationFailure("disk", "n" + id + " has a torn record before the tail");
        }
        torn++; // Detected and dropped, never used.
        break;
      }
      if (record.hardState() != null) {
        storage.setHardState(record.hardState());
      } else {
        storage.append(record.entries());
      }
    }
    chain.clear();
    chain.set(0, 0);
    if (storage.lastIndex() > 0) {
      for (Entry e : storage.entries(1, storage.lastIndex() + 1, Long.MAX_VALUE)) {
        extendChain(e);
      }
    }
    HardState recovered = storage.hardState();
    sim.trace().record(sim.now(), Trace.Kind.RESTART, id, 0, recovered.term(),
        storage.lastIndex(), "from " + recovered + " lastIndex=" + storage.lastIndex()
            + (torn > 0 ? " (dropped a torn record)" : ""));
    sim.oracles().onRecover(id, recovered, this);
    writtenHardState = recovered;
    incarnation++;
    up = true;
    paused = false;
    role = Role.FOLLOWER;
    appliedIndex = 0;
    java.util.Arrays.fill(sessions, null);
    stateMachine = sim.hooks().stateMachineFactory().apply(id);
    raw = new RawNode(config, storage, random.nextLong());
    sim.schedule(new Event(sim.now() + 1 + random.nextLong(tickNanos), Event.Kind.TICK, id, 0,
        incarnation, 0, null));
    drive();
  }

  /** The process dies: memory is gone, unsynced writes may be lost or torn. */
  void crash(String why) {
    if (!up) {
      return;
    }
    up = false;
    paused = false;
    incarnation++;
    inbox.clear();
    tickPending = false;
    outstanding = null;
    heldMessages = null;
    syncCompletedWhilePaused = false;
    raw = null;
    stateMachine = null;
    java.util.Arrays.fill(sessions, null);
    disk.crash();
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, 0, 0, 0, why);
  }

  void pause(long until) {
    if (up && !paused) {
      paused = true;
      sim.trace().record(sim.now(), Trace.Kind.PAUSE, id, 0, incarnation, until, null);
    }
  }

  void resume() {
    if (!up || !paused) {
      return;
    }
    paused = false;
    sim.trace().record(sim.now(), Trace.Kind.RESUME, id, 0, 0, 0, null);
    if (syncCompletedWhilePaused) {
      syncCompletedWhilePaused = false;
      finishOutstanding();
    }
    drive();
  }

  // ---------------------------------------------------------------- input

  void onTick(long forIncarnation) {
    if (!up || forIncarnation != incarnation) {
      return;
    }
    sim.schedule(new Event(sim.now() + tickNanos, Event.Kind.TICK, id, 0, incarnation, 0, null));
    sim.trace().fold(sim.now(), Trace.Kind.TICK, id);
    if (paused || outstanding != null) {
      tickPending = true; // Like a ticker channel of capacity one: missed ticks coalesce.
      return;
    }
    raw.tick();
    drive();
  }

  void receive(Message message) {
    if (!up) {
      sim.trace().record(sim.now(), Trace.Kind.DROP, (int) message.from(), id, 0, 0,
          "receiver down");
      return;
    }
    if (paused || outstanding != null) {
      enqueue(message);
      return;
    }
    raw.step(message);
    drive();
  }

  void onClientRequest(Workload.Request request) {
    if (!up) {
      sim.workload().reply(request, Workload.Reply.unavailable(request, id));
      return;
    }
    if (paused || outstanding != null) {
      enqueue(request);
      return;
    }
    propose(request);
    drive();
  }

  private void enqueue(Object input) {
    if (inbox.size() < INBOX_LIMIT) {
      inbox.add(input);
    }
  }

  private void propose(Workload.Request request) {
    ProposeResult result = raw.propose(request.command());
    sim.trace().record(sim.now(), Trace.Kind.CLIENT_PROPOSE, id, 0, request.process(),
        request.requestId(), result);
    if (result instanceof ProposeResult.NotLeader notLeader) {
      // Nothing was appended, so the client may safely retry elsewhere.
      sim.workload().reply(request, Workload.Reply.notLeader(request, id, notLeader.leaderHint()));
    }
    // Accepted or forwarded: the client waits until this node applies the command.
  }

  // ---------------------------------------------------------------- the Ready loop

  /** Runs queued input and Ready rounds until the node is idle, blocked on fsync or paused. */
  private void drive() {
    while (up && !paused && outstanding == null) {
      if (tickPending || !inbox.isEmpty()) {
        if (tickPending) {
          tickPending = false;
          raw.tick();
        }
        while (!inbox.isEmpty()) {
          Object input = inbox.poll();
          if (input instanceof Message message) {
            raw.step(message);
          } else {
            propose((Workload.Request) input);
          }
        }
      }
      if (!raw.hasReady()) {
        return;
      }
      handleReady(raw.ready());
    }
  }

  private void handleReady(Ready ready) {
    long now = sim.now();
    sim.trace().record(now, Trace.Kind.READY, id, 0,
        ready.entries().size() * 31L + ready.committedEntries().size(),
        ready.messages().size() * 2L + (ready.mustSync() ? 1 : 0), ready);
    // 1. Persist. Entries go before the hard state: if a crash keeps only a prefix of the
    // writes, it must never keep a commit index whose entries it lost.
    List<Entry> entries = ready.entries();
    if (!entries.isEmpty()) {
      disk.write(DiskRecord.of(entries));
      storage.append(entries);
      for (Entry e : entries) {
        extendChain(e);
        sim.oracles().onAppend(id, e, chain.get((int) e.index()));
      }
    }
    HardState hardState = ready.hardState();
    if (hardState != null) {
      sim.oracles().onHardState(id, writtenHardState, hardState);
      if (role == Role.LEADER && ready.softState() == null
          && hardState.commit() > writtenHardState.commit()) {
        // Leader all along: it advanced its commit index by counting replicas.
        long termAtCommit = hardState.commit() <= storage.lastIndex()
            ? storage.term(hardState.commit()) : -1;
        sim.oracles().onLeaderCommit(id, hardState, termAtCommit);
      }
      disk.write(DiskRecord.of(hardState));
      storage.setHardState(hardState);
      writtenHardState = hardState;
    }
    if (ready.softState() != null) {
      role = ready.softState().role();
      long term = raw.status().term();
      sim.trace().record(now, Trace.Kind.ROLE, id, (int) ready.softState().leader(), term,
          role.ordinal(), role);
      if (role == Role.LEADER) {
        sim.oracles().onLeader(id, term, this);
      }
    }
    if (!ready.mustSync()) {
      // A commit-index-only change may stay in the page cache; nothing waits for it.
      finish(ready, ready.messages());
      return;
    }
    // 2. fsync, and hold the messages until it completes (unless a planted bug sends early).
    long latency = disk.startSync();
    syncingHardState = writtenHardState;
    List<Message> held = ready.messages();
    if (sim.hasEarlySend()) {
      held = new ArrayList<>();
      for (Message m : ready.messages()) {
        if (sim.hooks().earlySend().beforeSync(m)) {
          send(m);
        } else {
          held.add(m);
        }
      }
    }
    outstanding = ready;
    heldMessages = held;
    sim.trace().record(now, Trace.Kind.SYNC_START, id, 0, incarnation, now + latency, null);
    sim.schedule(new Event(now + latency, Event.Kind.SYNC_DONE, id, 0, incarnation, 0, null));
  }

  void onSyncDone(long forIncarnation) {
    if (!up || forIncarnation != incarnation) {
      return; // The process crashed meanwhile: this fsync never completed.
    }
    disk.completeSync();
    sim.oracles().onDurable(id, syncingHardState);
    sim.trace().record(sim.now(), Trace.Kind.SYNC_DONE, id, 0, incarnation, 0, null);
    if (paused) {
      syncCompletedWhilePaused = true; // The process will notice when it runs again.
      return;
    }
    finishOutstanding();
    drive();
  }

  private void finishOutstanding() {
    Ready ready = outstanding;
    List<Message> held = heldMessages;
    outstanding = null;
    heldMessages = null;
    finish(ready, held);
  }

  /** Steps 3-5 of the contract: send, apply, advance. */
  private void finish(Ready ready, List<Message> messages) {
    for (Message m : messages) {
      send(m);
    }
    apply(ready.committedEntries());
    raw.advance(ready);
  }

  private void send(Message message) {
    sim.oracles().onSend(id, message, this);
    sim.network().send(id, message);
  }

  private void apply(List<Entry> committed) {
    if (committed.isEmpty()) {
      return;
    }
    for (Entry e : committed) {
      sim.oracles().onApply(id, e, chain.get((int) e.index()));
      appliedIndex = e.index();
      byte[] data = e.data();
      if (e.type() != EntryType.NORMAL || data.length == 0) {
        continue; // A leader's no-op or a configuration entry: nothing for the application.
      }
      if (data.length < 8) {
        throw new SimulationFailure("command", "n" + id + " applied a " + data.length
            + "-byte command at " + e.index() + ", shorter than its request id");
      }
      long requestId = Workload.requestIdOf(data);
      if (requestId <= 0 || requestId >= Integer.MAX_VALUE) {
        throw new SimulationFailure("command", "n" + id + " applied request id " + requestId
            + " at " + e.index() + ": not one the workload issued");
      }
      if (requestId >= sessions.length) {
        sessions = java.util.Arrays.copyOf(sessions,
            (int) Math.min(Integer.MAX_VALUE - 8, Math.max(requestId + 1, 2L * sessions.length)));
      }
      if (sessions[(int) requestId] != null) {
        duplicateCommands++; // Applied before at a lower index: exactly once, not twice.
        continue;
      }
      byte[] result = stateMachine.apply(e.index(), java.util.Arrays.copyOfRange(data, 8,
          data.length));
      sessions[(int) requestId] = result == null ? new byte[0] : result;
      sim.workload().onApplied(id, requestId, e.index(), e.term(), result);
    }
    long first = committed.get(0).index();
    sim.oracles().onCommitKnown(writtenHardState.term(), appliedIndex);
    sim.trace().record(sim.now(), Trace.Kind.APPLY, id, 0, first, appliedIndex, null);
  }

  // ---------------------------------------------------------------- observation

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

  /** Hash of this node's log up to {@code index} (requires {@code index <= lastIndex()}). */
  long chainAt(long index) {
    return chain.get((int) index);
  }

  boolean isUp() {
    return up;
  }

  boolean isPaused() {
    return paused;
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

  int incarnation() {
    return incarnation;
  }
}
