package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.RaftHost;
import io.detraft.io.NodeStorage;
import io.detraft.io.StorageCorruptionException;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One node's process: a {@link RaftHost} running one {@link Replica} per Raft group, the
 * node's real storage code ({@link NodeStorage}: the WAL, its recovery, the snapshot store) on
 * a {@link SimDisk} (what survives a crash), a ticker and an inbox. It follows the Ready
 * contract, batched over groups: persist every group's writes, fsync once if any group needs
 * it, send, apply, advance. A failed write or fsync stops the process (fail-stop); it restarts
 * later from what its disk kept. While an fsync is in progress or the process is paused, input waits in the inbox,
 * as it would in a single-threaded host blocked on I/O; ticks missed meanwhile are counted and
 * delivered when the process runs again (up to two election timeouts' worth), so a paused
 * leader cannot mistake a stale lease for a fresh one.
 */
final class SimNode {
  /** Input that waits while the process is busy or paused: messages and client requests. */
  private static final int INBOX_LIMIT = 100_000;

  final int id;
  private final Simulation sim;
  /** Where the node's data directory lives on its disk. */
  static final Path DATA_DIR = Path.of("/data");

  private final SimDisk disk;
  /** The storage of the running incarnation; null while the node is down. */
  private NodeStorage storage;
  private final SimRandom random;
  /** This node's tick length: the nominal tick with this node's clock drift. */
  final long tickNanos;
  /** Replicas by group - 1. */
  private final Replica[] replicas;
  private final int maxTicksPending;
  private final long snapshotThreshold;
  private final boolean earlyReplication;

  private boolean up;
  private boolean paused;
  /** Bumped at every crash and restart; events for an older incarnation are ignored. */
  private int incarnation;
  private RaftHost host;
  private final ArrayDeque<Object> inbox = new ArrayDeque<>();
  private int ticksPending;
  /** The batch waiting for its fsync, and the messages it holds back until then. */
  private RaftHost.Batch outstanding;
  private List<Message> heldMessages;
  private boolean syncCompletedWhilePaused;

  SimNode(int id, Simulation sim, Replica[] replicas, SimDisk disk, SimRandom random,
      long tickNanos) {
    this.id = id;
    this.sim = sim;
    this.replicas = replicas;
    this.disk = disk;
    this.random = random;
    this.tickNanos = tickNanos;
    this.maxTicksPending = 2 * sim.options().cluster().electionTicks();
    this.snapshotThreshold = sim.options().protocol().snapshotThreshold();
    this.earlyReplication = sim.options().disk().earlyReplication();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts (or restarts) the process from what the disk holds, through the node's real
   * recovery. A disk that recovery refuses (damage a crash cannot explain) fails the run: this
   * simulator's disk only loses and tears unsynced writes, which recovery must handle.
   */
  void boot() {
    SimOptions.DiskOptions d = sim.options().disk();
    try {
      storage = NodeStorage.open(disk, DATA_DIR, new WriteAheadLog.Options(d.segmentBytes()), 2);
    } catch (StorageCorruptionException e) {
      throw new SimulationFailure("storage", "n" + id + " refused to start: " + e.getMessage());
    } catch (IOException e) {
      failedToStart(e);
      return;
    }
    if (storage.tornTail().isPresent()) {
      sim.marks().hit(SimMark.WAL_TORN_TAIL_CUT);
    }
    incarnation++;
    up = true;
    paused = false;
    host = new RaftHost(id);
    try {
      for (Replica replica : replicas) {
        replica.boot(storage, host, random.nextLong());
      }
      storage.sync(); // what recovery wrote, before the node says anything
    } catch (StorageCorruptionException e) {
      throw new SimulationFailure("storage", "n" + id + " refused to start: " + e.getMessage());
    } catch (IOException e) {
      failStop(e);
      return;
    }
    sim.schedule(new Event(sim.now() + 1 + random.nextLong(tickNanos), Event.Kind.TICK, id, 0,
        incarnation, 0, null));
    drive();
  }

  /** The disk failed while the node opened its storage: it tries again later. */
  private void failedToStart(IOException e) {
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, 0, 0, 0, "start failed: " + e.getMessage());
    disk.crash();
    storage = null;
    sim.nemesis().restartLater(id);
  }

  /**
   * A write or an fsync failed: what reached the disk is unknown, so the node stops (never
   * retrying the fsync and trusting the page cache) and restarts later from what recovery
   * finds.
   */
  private void failStop(IOException e) {
    sim.marks().hit(e.getMessage().contains("ENOSPC") ? SimMark.DISK_FULL_STOPPED
        : SimMark.FSYNC_FAILED_STOPPED);
    crash("fail-stop: " + e.getMessage());
    sim.nemesis().restartLater(id);
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
    ticksPending = 0;
    outstanding = null;
    heldMessages = null;
    syncCompletedWhilePaused = false;
    host = null;
    storage = null; // the process's memory, its WAL buffer included, is gone
    retireReplicas();
    disk.crash();
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, 0, 0, 0, why);
  }

  /** Counts what every replica of this incarnation hit (at a crash, or at the end of a run). */
  void retireReplicas() {
    for (Replica replica : replicas) {
      if (replica.isRunning() && replica.receivingSnapshot() && !up) {
        sim.marks().hit(SimMark.CRASH_DURING_SNAPSHOT_INSTALL);
      }
      replica.retire(sim.marks());
    }
  }

  /** The liveness phase: the disk stops failing writes and fsyncs. */
  void healDisk() {
    disk.heal();
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
      ticksPending = Math.min(ticksPending + 1, maxTicksPending);
      return;
    }
    host.tick();
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
    step(message);
    drive();
  }

  void onClientRequest(Workload.Request request) {
    if (!up) {
      sim.workload().reply(request, Workload.Reply.of(Workload.Reply.Outcome.UNAVAILABLE,
          request, id, 0));
      return;
    }
    if (paused || outstanding != null) {
      enqueue(request);
      return;
    }
    replica(request.group()).onRequest(request);
    drive();
  }

  /** An operator action from the nemesis (snapshot, transfer, membership change). */
  void onAdmin(Nemesis.Admin admin) {
    if (!up) {
      return;
    }
    if (paused || outstanding != null) {
      enqueue(admin);
      return;
    }
    runAdmin(admin);
    drive();
  }

  private void enqueue(Object input) {
    if (inbox.size() < INBOX_LIMIT) {
      inbox.add(input);
    }
  }

  private void step(Message message) {
    replica(message.group()).beforeStep(message);
    host.step(message);
  }

  private void runAdmin(Nemesis.Admin admin) {
    Replica replica = replica(admin.group());
    ProposeResult result = switch (admin.kind()) {
      case SNAPSHOT -> {
        replica.requestSnapshot();
        yield null;
      }
      case TRANSFER -> replica.transferLeadership(admin.target());
      case MEMBERSHIP -> replica.proposeMembership(admin.change());
    };
    if (result != null) {
      sim.nemesis().onAdminResult(id, admin, result);
    }
  }

  // ---------------------------------------------------------------- the Ready loop

  /** Runs queued input and Ready rounds until the node is idle, blocked on fsync or paused. */
  private void drive() {
    while (up && !paused && outstanding == null) {
      // Time first: a process that was stopped catches up with the clock before it acts.
      for (; ticksPending > 0; ticksPending--) {
        host.tick();
      }
      while (!inbox.isEmpty()) {
        Object input = inbox.poll();
        if (input instanceof Message message) {
          step(message);
        } else if (input instanceof Workload.Request request) {
          replica(request.group()).onRequest(request);
        } else {
          runAdmin((Nemesis.Admin) input);
        }
      }
      if (!host.hasReady()) {
        return;
      }
      handleBatch(host.ready());
    }
  }

  private void handleBatch(RaftHost.Batch batch) {
    // 1. Persist every group's writes.
    try {
      for (RaftHost.GroupReady g : batch.groups()) {
        replica(g.group()).persist(g.ready(), storage);
      }
      if (batch.mustSync()) {
        storage.flush(); // to the page cache now; the fsync completes after its latency
      }
    } catch (IOException e) {
      failStop(e);
      return;
    }
    if (!batch.mustSync()) {
      // Commit-index-only changes may stay in the page cache; nothing waits for them.
      finish(batch, batch.messages());
      return;
    }
    // 2. One fsync for every group; hold the messages until it completes, but for a leader's
    // replication messages when the seed lets them overlap the fsync (and for what a planted
    // bug sends early).
    long now = sim.now();
    long latency = disk.fsyncLatencyNanos();
    for (Replica replica : replicas) {
      replica.syncStarted();
    }
    List<Message> held = batch.messages();
    if (earlyReplication) {
      for (Message m : batch.messages(true)) {
        send(m);
      }
      held = batch.messages(false);
    }
    if (sim.hasEarlySend()) {
      List<Message> planted = held;
      held = new ArrayList<>();
      for (Message m : planted) {
        if (sim.hooks().earlySend().beforeSync(m)) {
          send(m);
        } else {
          held.add(m);
        }
      }
    }
    outstanding = batch;
    heldMessages = held;
    sim.trace().record(now, Trace.Kind.SYNC_START, id, 0, incarnation, now + latency, null);
    SimOptions.DiskOptions d = sim.options().disk();
    if (sim.options().process().crashes() && d.crashDuringSync() > 0
        && random.chance(d.crashDuringSync())) {
      sim.nemesis().crashDuringSync(id, incarnation, random.nextLong(Math.max(1, latency)));
    }
    sim.schedule(new Event(now + latency, Event.Kind.SYNC_DONE, id, 0, incarnation, 0, null));
  }

  void onSyncDone(long forIncarnation) {
    if (!up || forIncarnation != incarnation) {
      return; // The process crashed meanwhile: this fsync never completed.
    }
    try {
      storage.sync();
    } catch (IOException e) {
      if (!sim.hooks().retryFailedFsync()) {
        failStop(e);
        return;
      }
      try {
        storage.sync(); // the planted bug: the retry "succeeds", the lost writes stay lost
      } catch (IOException again) {
        failStop(again);
        return;
      }
    }
    for (Replica replica : replicas) {
      replica.syncDone();
    }
    sim.trace().record(sim.now(), Trace.Kind.SYNC_DONE, id, 0, incarnation, 0, null);
    if (paused) {
      syncCompletedWhilePaused = true; // The process will notice when it runs again.
      return;
    }
    finishOutstanding();
    drive();
  }

  private void finishOutstanding() {
    RaftHost.Batch batch = outstanding;
    List<Message> held = heldMessages;
    outstanding = null;
    heldMessages = null;
    finish(batch, held);
  }

  /** Steps 3-5 of the contract: send, apply, advance; then snapshot where it is due. */
  private void finish(RaftHost.Batch batch, List<Message> messages) {
    for (Message m : messages) {
      send(m);
    }
    for (RaftHost.GroupReady g : batch.groups()) {
      replica(g.group()).apply(g.ready());
    }
    host.advance(batch);
    try {
      for (Replica replica : replicas) {
        replica.maybeSnapshot(snapshotThreshold, storage);
      }
    } catch (IOException e) {
      failStop(e);
    }
  }

  private void send(Message message) {
    sim.oracles(message.group()).onSend(id, message, replica(message.group()));
    sim.network().send(id, message);
  }

  // ---------------------------------------------------------------- observation

  Replica replica(long group) {
    return replicas[(int) group - 1];
  }

  boolean isUp() {
    return up;
  }

  boolean isPaused() {
    return paused;
  }

  int incarnation() {
    return incarnation;
  }
}
