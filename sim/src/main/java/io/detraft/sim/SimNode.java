package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.Message;
import io.detraft.core.ProposeResult;
import io.detraft.core.Ready;
import io.detraft.core.Snapshot;
import io.detraft.io.Node;
import io.detraft.io.NodeRunner;
import io.detraft.io.NodeStorage;
import io.detraft.io.StorageCorruptionException;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * One node's process, as the simulator schedules it: the node's real code ({@link Node}: the
 * Ready loop over every group, persisting through {@link NodeStorage} on a {@link SimDisk},
 * recovery, applying, request outcomes, snapshots) plus what the operating system and the
 * hardware would do around it: a ticker with this node's clock drift, an inbox, an fsync that
 * takes virtual time, crashes, pauses. While an fsync is in progress or the process is paused,
 * input waits in the inbox, as it would in a single-threaded host blocked on I/O; ticks missed
 * meanwhile are counted and delivered when the process runs again (up to two election
 * timeouts' worth), so a paused leader cannot mistake a stale lease for a fresh one. A failed
 * write or fsync stops the process (fail-stop); it restarts later from what its disk kept. The
 * node's {@link Node.Observer} calls feed each group's {@link Replica}, the oracles' view.
 */
final class SimNode implements Node.Observer {
  /** Input that waits while the process is busy or paused: messages and client requests. */
  private static final int INBOX_LIMIT = 100_000;

  /** Where the node's data directory lives on its disk. */
  static final Path DATA_DIR = Path.of("/data");

  final int id;
  private final Simulation sim;
  private final SimDisk disk;
  /** The storage of the running incarnation; null while the node is down. */
  private NodeStorage storage;
  private final SimRandom random;
  /** This node's tick length: the nominal tick with this node's clock drift. */
  final long ownTickNanos;
  /** The tick length now: {@link #ownTickNanos}, or skewed by the nemesis for a while. */
  private long tickNanos;
  /** Replicas by group - 1. */
  private final Replica[] replicas;
  private final int maxTicksPending;
  private final NodeRunner.SnapshotPolicy snapshotPolicy;

  private boolean up;
  private boolean refused;
  private boolean paused;
  /**
   * Groups whose replica the nemesis stopped on this node; they stay stopped across a crash
   * (an operator's decision, recorded as kv-app records it) until the nemesis or the heal
   * starts them again.
   */
  private final TreeSet<Long> stoppedGroups = new TreeSet<>();
  /** Groups whose stop was requested ({@link Node#requestStop}) and has not run yet. */
  private final TreeSet<Long> stopsRequested = new TreeSet<>();
  /** Bumped at every crash and restart; events for an older incarnation are ignored. */
  private int incarnation;
  /** The node of the running incarnation; null while the process is down. */
  private Node node;
  private final ArrayDeque<Object> inbox = new ArrayDeque<>();
  private int ticksPending;
  /** The round waiting for its fsync, and the messages it holds back until then. */
  private Node.Round outstanding;
  private List<Message> heldMessages;
  private boolean syncCompletedWhilePaused;
  /** The planted {@link SimHooks.NodeBug#APPLY_BEFORE_SYNC} finished the outstanding round. */
  private boolean finishedEarly;

  SimNode(int id, Simulation sim, Replica[] replicas, SimDisk disk, SimRandom random,
      long tickNanos) {
    this.id = id;
    this.sim = sim;
    this.replicas = replicas;
    this.disk = disk;
    this.random = random;
    this.ownTickNanos = tickNanos;
    this.tickNanos = tickNanos;
    this.maxTicksPending = 2 * sim.options().cluster().electionTicks();
    // Snapshots by policy compact the whole log (tiny thresholds in some seeds); the nemesis
    // asks for more at random points.
    this.snapshotPolicy = new NodeRunner.SnapshotPolicy(
        sim.options().protocol().snapshotThreshold(), 0, 2);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts (or restarts) the process from what the disk holds, through the node's real
   * recovery. Recovery may refuse a disk only if it was really damaged (bit flips, misdirected
   * writes): lost and torn unsynced writes it must handle. A node that refused stays down for
   * good, as it would until an operator repaired it.
   */
  void boot() {
    if (refused) {
      return;
    }
    try {
      storage = openStorage();
    } catch (StorageCorruptionException e) {
      refuse(e);
      return;
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
    List<Node.GroupSpec> groups = new ArrayList<>(replicas.length);
    for (Replica replica : replicas) {
      if (!stoppedGroups.contains(replica.group)) {
        groups.add(replica.start());
      }
    }
    try {
      node = Node.recover(id, storage, groups, snapshotPolicy, sim.options().disk().earlyReplication(),
          random.nextLong(), this);
      for (Replica replica : replicas) {
        if (!stoppedGroups.contains(replica.group)) {
          replica.started(node);
        }
      }
    } catch (StorageCorruptionException e) {
      node = null;
      up = false;
      refuse(e);
      return;
    } catch (IOException e) {
      failStop(e);
      return;
    }
    sim.schedule(new Event(sim.now() + 1 + random.nextLong(tickNanos), Event.Kind.TICK, id, 0,
        incarnation, 0, null));
    drive();
  }

  /** The node's storage on its disk, as the deployed node opens it (2 snapshot files kept). */
  private NodeStorage openStorage() throws IOException {
    return NodeStorage.open(disk, DATA_DIR,
        new WriteAheadLog.Options(sim.options().disk().segmentBytes(), tailRule()), 2);
  }

  private WriteAheadLog.TailRule tailRule() {
    if (sim.hooks().has(SimHooks.NodeBug.KEEP_TORN_TAIL)) {
      return WriteAheadLog.TailRule.KEEPS_TORN_TAIL;
    }
    return sim.hooks().has(SimHooks.NodeBug.CUT_DAMAGED_LAST_BATCH)
        ? WriteAheadLog.TailRule.CUTS_WHOLE_DAMAGED_BATCH : WriteAheadLog.TailRule.CORRECT;
  }

  /**
   * Recovery refused the disk. Right only if the disk was damaged, and only with the file and
   * offset named; the node then stays down.
   */
  private void refuse(StorageCorruptionException e) {
    if (!disk.damaged()) {
      throw new SimulationFailure("storage", "n" + id + " refused to start on a disk that only"
          + " lost or tore unsynced writes: " + e.getMessage());
    }
    if (e.file() == null || !e.getMessage().contains(" at offset ")) {
      throw new SimulationFailure("storage", "n" + id + " refused to start without naming"
          + " the damaged file and offset: " + e.getMessage());
    }
    refused = true;
    storage = null;
    retireReplicas();
    sim.marks().hit(SimMark.DAMAGED_DISK_REFUSED);
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, 0, 0, 0,
        "refused to start: " + e.getMessage());
  }

  /** Whether the node refused its damaged disk: it stays down for the rest of the run. */
  boolean refused() {
    return refused;
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

  // ---------------------------------------------------------------- disaster recovery

  /**
   * Disaster recovery's export, as {@code detraft snapshot export} asks a running node: a
   * snapshot of {@code group} taken now through the node's code, read back whole from its
   * snapshot store (the simulated export file). Null if the node is in the middle of a round
   * (try again later) or never applied anything.
   */
  Snapshot exportSnapshot(long group) {
    if (!up || paused || outstanding != null) {
      return null;
    }
    try {
      node.snapshot(group);
      Snapshot latest = storage.log(group).snapshot();
      if (latest.index() == 0) {
        return null;
      }
      try (var image = storage.openSnapshot(group, latest)) {
        return new Snapshot(latest.index(), latest.term(), latest.membership(), image.readAll());
      }
    } catch (IOException e) {
      throw new IllegalStateException("export failed after the heal: " + e.getMessage(), e);
    }
  }

  /**
   * The disaster reaches this node: the process dies (its disk replaced by a blank one when
   * {@code diskLost}), the operator imports {@code exported} into its data directory as
   * {@code detraft snapshot import} does (through {@link NodeStorage#importSnapshot}, with the
   * group's own membership, at a term above {@code minTerm}), and the node starts again. Its
   * state machine is rebuilt from the imported snapshot.
   */
  void rebuildFrom(long group, Snapshot exported, boolean diskLost, long minTerm) {
    crash(diskLost ? "disaster: disk lost for good" : "disaster: the group lost its quorum");
    if (diskLost) {
      disk.wipe();
    }
    try (NodeStorage s = openStorage()) {
      s.importSnapshot(group, exported.withoutData(),
          io.detraft.core.SnapshotSource.of(exported.data()), exported.membership(), minTerm);
    } catch (IOException e) {
      throw new IllegalStateException("import failed after the heal: " + e.getMessage(), e);
    }
    disk.crash(); // what the import made durable is all there is
    replica(group).forgetStateMachine();
    boot();
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
    stopsRequested.clear(); // the stops waited in the inbox, lost with the process
    ticksPending = 0;
    outstanding = null;
    heldMessages = null;
    syncCompletedWhilePaused = false;
    finishedEarly = false;
    node = null;
    storage = null; // the process's memory, its WAL buffer included, is gone
    retireReplicas();
    disk.crash();
    sim.trace().record(sim.now(), Trace.Kind.CRASH, id, 0, 0, 0, why);
    sim.network().connections().onCrash(id, sim.now());
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

  /**
   * Runs this node's clock at {@code tickNanos} per tick from the next tick on (the nemesis
   * pushes clocks to the drift bound); 0 restores the node's own rate.
   */
  void skewClock(long tickNanos) {
    this.tickNanos = tickNanos == 0 ? ownTickNanos : tickNanos;
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
    node.tick(sim.now());
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
    serve(request);
    drive();
  }

  private void serve(Workload.Request request) {
    if (stoppedGroups.contains(request.group())) {
      sim.workload().reply(request, Workload.Reply.of(Workload.Reply.Outcome.UNAVAILABLE,
          request, id, 0));
      return;
    }
    replica(request.group()).onRequest(request);
  }

  /** An operator action from the nemesis (snapshot, transfer, membership change). */
  void onAdmin(Nemesis.Admin admin) {
    if (!up) {
      return;
    }
    if (admin.kind() == Nemesis.Admin.Kind.STOP_GROUP && !stoppedGroups.contains(admin.group())) {
      // As NodeRunner.stopGroup does: the stop is requested at once, from the operator's side,
      // so a snapshot the loop saves before the stop itself runs gives up. One is asked for
      // here, between the request and the stop: it must give up without a trace on disk.
      if (!sim.hooks().has(SimHooks.NodeBug.STOP_NOT_REQUESTED)) {
        node.requestStop(admin.group());
      }
      stopsRequested.add(admin.group());
      onAdmin(new Nemesis.Admin(Nemesis.Admin.Kind.SNAPSHOT, admin.group(), 0, null, 0));
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
    if (message.group() >= 1 && message.group() <= replicas.length
        && !stoppedGroups.contains(message.group())) {
      replica(message.group()).beforeStep(message);
    }
    node.step(message);
  }

  private void runAdmin(Nemesis.Admin admin) {
    Replica replica = replica(admin.group());
    if (admin.kind() == Nemesis.Admin.Kind.STOP_GROUP
        || admin.kind() == Nemesis.Admin.Kind.START_GROUP) {
      stopOrStart(admin);
      return;
    }
    if (stoppedGroups.contains(admin.group())) {
      return; // the operator asked a node that no longer runs the group
    }
    ProposeResult result = switch (admin.kind()) {
      case SNAPSHOT -> {
        try {
          node.snapshot(admin.group());
        } catch (IOException e) {
          failStop(e);
        }
        yield null;
      }
      case TRANSFER -> replica.transferLeadership(admin.target());
      case MEMBERSHIP -> replica.proposeMembership(admin.change());
      case STOP_GROUP, START_GROUP -> throw new IllegalStateException("handled above");
    };
    if (result != null) {
      sim.nemesis().onAdminResult(id, admin, result);
    }
  }

  /**
   * Stops or starts this node's replica of a group through the node's real code ({@link
   * Node#stopGroup}, {@link Node#startGroup}), between rounds; the process keeps running. A
   * stop that runs after the heal (it waited in the inbox) is followed by a start at once: the
   * liveness phase wants every replica running, and its stop was already requested.
   */
  private void stopOrStart(Nemesis.Admin admin) {
    long group = admin.group();
    Replica replica = replica(group);
    if (admin.kind() == Nemesis.Admin.Kind.STOP_GROUP) {
      if (stoppedGroups.contains(group)) {
        return;
      }
      stopsRequested.remove(group);
      sim.marks().add(SimMark.SNAPSHOT_ABANDONED_FOR_STOP, node.snapshotsAbandoned(group));
      if (replica.receivingSnapshot()) {
        sim.marks().hit(SimMark.GROUP_STOPPED_DURING_SNAPSHOT_INSTALL);
      }
      sim.marks().hit(SimMark.GROUP_REPLICA_STOPPED);
      replica.stopped(sim.marks());
      node.stopGroup(group, "g" + group + " stopped on n" + id + " by the nemesis");
      stoppedGroups.add(group);
      if (!sim.nemesis().isActive()) {
        // The stop waited past the heal: the liveness phase wants every replica running.
        stopOrStart(new Nemesis.Admin(Nemesis.Admin.Kind.START_GROUP, group, 0, null, 0));
      }
      return;
    }
    if (!stoppedGroups.remove(group)) {
      return;
    }
    try {
      node.startGroup(replica.start(), random.nextLong());
      replica.started(node);
      sim.marks().hit(SimMark.GROUP_REPLICA_RESTARTED);
    } catch (StorageCorruptionException e) {
      // The group's own files are damaged: judged as at a boot, and a right refusal takes the
      // whole node down for good (the operator rebuilds it; see refuse).
      crash("g" + group + " refused to start: " + e.getMessage());
      refuse(e);
    } catch (IOException e) {
      failStop(e);
    }
  }

  /**
   * Starts this node's stopped replica of {@code group} again: between rounds if the node is
   * up, else at its next boot.
   */
  void startGroup(long group) {
    if (!up) {
      stoppedGroups.remove(group);
    } else {
      onAdmin(new Nemesis.Admin(Nemesis.Admin.Kind.START_GROUP, group, 0, null, 0));
    }
  }

  /** Starts every stopped group again (the heal). */
  void startStoppedGroups() {
    for (long group : List.copyOf(stoppedGroups)) {
      startGroup(group);
    }
  }

  /** How many groups' replicas are stopped on this node. */
  int stoppedGroups() {
    return stoppedGroups.size();
  }

  /** Whether this node's replica of {@code group} is stopped. */
  boolean isStopped(long group) {
    return stoppedGroups.contains(group);
  }

  // ---------------------------------------------------------------- the Ready loop

  /** Runs queued input and Ready rounds until the node is idle, blocked on fsync or paused. */
  private void drive() {
    while (up && !paused && outstanding == null) {
      // Time first: a process that was stopped catches up with the clock before it acts.
      for (; ticksPending > 0 && up; ticksPending--) {
        node.tick(sim.now());
      }
      while (!inbox.isEmpty() && up) {
        Object input = inbox.poll();
        if (input instanceof Message message) {
          step(message);
        } else if (input instanceof Workload.Request request) {
          serve(request);
        } else {
          runAdmin((Nemesis.Admin) input);
        }
      }
      if (!up || !node.hasReady()) {
        return;
      }
      handleRound();
    }
  }

  /** One round of the Ready contract; the fsync, if the round needs one, takes virtual time. */
  private void handleRound() {
    Node.Round round;
    try {
      round = node.persist(); // every group's writes, handed to the disk's page cache
    } catch (IOException e) {
      failStop(e);
      return;
    }
    for (Message m : round.early()) {
      send(m); // a leader's replication, overlapping its fsync (when the seed says so)
    }
    if (!round.mustSync()) {
      // Commit-index-only changes may stay in the page cache; nothing waits for them.
      finish(round, round.held());
      return;
    }
    // Hold the messages until the fsync completes, but for what a planted bug sends early.
    List<Message> held = round.held();
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
    if (sim.hooks().has(SimHooks.NodeBug.APPLY_BEFORE_SYNC)) {
      try {
        node.finish(round); // the planted bug: apply and advance before the fsync
      } catch (IOException e) {
        failStop(e);
        return;
      }
      finishedEarly = true;
    }
    long now = sim.now();
    long latency = disk.fsyncLatencyNanos();
    outstanding = round;
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
      node.sync();
    } catch (IOException e) {
      if (!sim.hooks().has(SimHooks.NodeBug.RETRY_FAILED_FSYNC)) {
        failStop(e);
        return;
      }
      try {
        node.sync(); // the planted bug: the retry "succeeds", the lost writes stay lost
      } catch (IOException again) {
        failStop(again);
        return;
      }
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
    Node.Round round = outstanding;
    List<Message> held = heldMessages;
    outstanding = null;
    heldMessages = null;
    if (finishedEarly) {
      finishedEarly = false;
      held.forEach(this::send);
      return;
    }
    finish(round, held);
  }

  /** The rest of the round: send what waited, then apply, advance and snapshot. */
  private void finish(Node.Round round, List<Message> messages) {
    for (Message m : messages) {
      send(m);
    }
    try {
      node.finish(round);
    } catch (IOException e) {
      failStop(e);
    }
  }

  private void send(Message message) {
    sim.oracles(message.group()).onSend(id, message, replica(message.group()));
    sim.network().send(id, message);
  }

  // ---------------------------------------------------------------- Node.Observer

  @Override
  public void recovered(long group, NodeStorage.RecoveredGroup recovered) {
    replica(group).recovered(recovered);
  }

  @Override
  public void persisted(long group, Ready ready) {
    replica(group).persisted(ready);
  }

  @Override
  public void synced() {
    for (Replica replica : replicas) {
      // A stopped replica's bookkeeping is what it wrote before the stop, and a crash since
      // may have lost part of that: nothing of it may be called durable now.
      if (replica.isRunning()) {
        replica.synced();
      }
    }
  }

  @Override
  public void restored(long group, Snapshot snapshot) {
    replica(group).restored(snapshot);
  }

  @Override
  public void applied(long group, Entry entry, byte[] result) {
    replica(group).applied(entry, result);
  }

  @Override
  public void readWaitedForApply(long group) {
    sim.marks().hit(SimMark.READ_WAITED_FOR_APPLY);
  }

  @Override
  public void snapshotTaken(long group, Snapshot snapshot) {
    if (stopsRequested.contains(group)) {
      throw new SimulationFailure("snapshot-stop", "n" + id + " took a snapshot of g" + group
          + " at " + snapshot.index() + " after the group's stop was requested");
    }
    replica(group).snapshotTaken(snapshot);
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
