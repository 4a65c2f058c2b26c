package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.RaftHost;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One node's process: a {@link RaftHost} running one {@link Replica} per Raft group, a {@link
 * Disk} (what survives a crash), a ticker and an inbox. It follows the Ready contract, batched
 * over groups: persist every group's writes, fsync once if any group needs it, send, apply,
 * advance. While an fsync is in progress or the process is paused, input waits in the inbox,
 * as it would in a single-threaded host blocked on I/O; ticks missed meanwhile are counted and
 * delivered when the process runs again (up to two election timeouts' worth), so a paused
 * leader cannot mistake a stale lease for a fresh one.
 */
final class SimNode {
  /** Input that waits while the process is busy or paused: messages and client requests. */
  private static final int INBOX_LIMIT = 100_000;

  final int id;
  private final Simulation sim;
  private final Disk disk;
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

  SimNode(int id, Simulation sim, Replica[] replicas, Disk disk, SimRandom random,
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

  /** Starts (or restarts) the process from what the disk holds. */
  void boot() {
    List<DiskRecord> records = disk.recover();
    List<List<DiskRecord>> byGroup = new ArrayList<>();
    for (int g = 0; g < replicas.length; g++) {
      byGroup.add(new ArrayList<>());
    }
    for (int i = 0; i < records.size(); i++) {
      DiskRecord record = records.get(i);
      if (record.torn()) {
        if (i != records.size() - 1) {
          throw new SimulationFailure("disk", "n" + id + " has a torn record before the tail");
        }
        if (record.isSnapshot()) {
          sim.marks().hit(SimMark.TORN_SNAPSHOT_DROPPED);
        }
        break; // Detected and dropped, never used.
      }
      byGroup.get((int) record.group() - 1).add(record);
    }
    incarnation++;
    up = true;
    paused = false;
    host = new RaftHost(id);
    for (Replica replica : replicas) {
      replica.boot(byGroup.get((int) replica.group - 1), host, random.nextLong());
    }
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
    ticksPending = 0;
    outstanding = null;
    heldMessages = null;
    syncCompletedWhilePaused = false;
    host = null;
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
    for (RaftHost.GroupReady g : batch.groups()) {
      replica(g.group()).persist(g.ready(), disk);
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
    long latency = disk.startSync();
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
    sim.schedule(new Event(now + latency, Event.Kind.SYNC_DONE, id, 0, incarnation, 0, null));
  }

  void onSyncDone(long forIncarnation) {
    if (!up || forIncarnation != incarnation) {
      return; // The process crashed meanwhile: this fsync never completed.
    }
    disk.completeSync();
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
    for (Replica replica : replicas) {
      replica.maybeSnapshot(snapshotThreshold, disk);
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
