package io.detraft.sim;

import java.util.ArrayList;
import java.util.List;

import java.util.Locale;

/**
 * Every option of one run, derived from its seed ("swarm testing": each seed picks its own
 * cluster, timeouts, fault mix and workload, so a sweep covers fault combinations that no
 * hand-written configuration would) and printed first, so {@code --seed N} alone replays a
 * run. Times are in nanoseconds of virtual time. Tests may override a group with the
 * {@code withX} methods; the printed line then shows what actually ran.
 */
public record SimOptions(
    long seed,
    ClusterOptions cluster,
    NetworkOptions network,
    DiskOptions disk,
    ProcessOptions process,
    ProtocolOptions protocol,
    WorkloadOptions workload,
    ListAppendOptions listAppend,
    PhaseOptions phases) {

  static final long MS = 1_000_000L;
  static final long SECOND = 1_000_000_000L;
  /** The probability that a crash tears the last unsynced write, where torn writes are on. */
  private static final double TORN_WRITE = 0.5;
  /** Where stray dialers are drawn, the share of dials a stray hello comes with. */
  private static final double STRAY_DIALERS = 0.2;

  /**
   * The nodes, the Raft groups they run and their clocks.
   *
   * @param size nodes, voters and spares (spares start as non-members: targets for adds)
   * @param voters each group's initial voters, 1 to 7 (mostly 3 or 5; multi-group seeds 3)
   * @param groups Raft groups per node (1, or several through one {@code RaftHost})
   * @param tickNanos nominal length of one core tick
   * @param snapshotChunkBytes the size of one InstallSnapshot chunk
   * @param leaseReads leaders serve reads from a lease that ends {@code leaseMarginTicks}
   *     before an election timeout (see {@link #minLeaseMargin})
   * @param driftMax each node's tick length is {@code tickNanos * (1 + d)} with {@code d}
   *     drawn from {@code [-driftMax, driftMax]}: clocks run at different rates
   * @param quiesceTicks idle groups go quiet after this many ticks (0: never); the clients
   *     then pause now and then for long enough that groups do (see {@link Workload})
   */
  public record ClusterOptions(int size, int voters, int groups, long tickNanos,
      int electionTicks, int heartbeatTicks, boolean preVote, boolean checkQuorum,
      boolean forwardProposals, int maxInflightAppends, long maxAppendBytes,
      int snapshotChunkBytes, boolean leaseReads, int leaseMarginTicks, double driftMax,
      int quiesceTicks) {
    public ClusterOptions {
      check(size >= 1 && size <= 9, "cluster size must be 1..9: " + size);
      check(voters >= 1 && voters <= size, "voters must be 1..size: " + voters);
      check(groups >= 1 && groups <= 64, "groups must be 1..64: " + groups);
      check(tickNanos > 0, "tickNanos must be positive");
      check(driftMax >= 0 && driftMax < 0.5, "driftMax must be in [0, 0.5)");
      check(!leaseReads || (checkQuorum && leaseMarginTicks >= minLeaseMargin(electionTicks,
          driftMax)), "lease reads need checkQuorum and a margin covering the drift");
    }

    /**
     * The smallest sound lease margin: {@code ceil(electionTicks * 2d / (1 - d))} ticks so a
     * leader whose clock runs slow by d cannot outlast the election timeout of a follower whose
     * clock runs fast by d, plus one tick because both count whole ticks (a follower's first
     * tick may come right after the heartbeat that renewed its promise).
     */
    static int minLeaseMargin(int electionTicks, double driftMax) {
      return (int) Math.ceil(electionTicks * 2 * driftMax / (1 - driftMax)) + 1;
    }
  }

  /**
   * Packet faults. A switched-off fault has probability 0 or {@code false}.
   *
   * @param delayMinNanos every packet takes at least this long
   * @param paretoTail heavy tail: Pareto when true, log-normal otherwise
   * @param tailScale Pareto scale (ns) or log-normal median (ns) of the extra delay
   * @param tailShape Pareto shape (smaller = heavier) or log-normal sigma
   * @param delayMaxNanos cap of one packet's delay
   * @param reorder packets on one link overtake each other; off means FIFO links (TCP-like)
   * @param replay the probability that a send also re-sends an older packet of the same link,
   *     to arrive long after (a stale copy from a retransmitting middlebox or a slow path)
   * @param corrupt the probability that a packet arrives with one bit flipped (TCP's checksum
   *     lets some through); the receiver's frame checksum must refuse it
   */
  public record NetworkOptions(double loss, double duplicate, long delayMinNanos,
      boolean paretoTail, double tailScale, double tailShape, long delayMaxNanos,
      boolean reorder, boolean partitions, long partitionEveryNanos, long partitionMaxNanos,
      boolean clogging, long clogEveryNanos, long clogMaxNanos, double replay,
      double corrupt, double strayDialers) {
    public NetworkOptions {
      check(loss >= 0 && loss < 1 && duplicate >= 0 && duplicate < 1 && replay >= 0
          && replay < 1 && corrupt >= 0 && corrupt < 1 && strayDialers >= 0
          && strayDialers < 1, "bad probabilities");
      check(delayMinNanos > 0 && delayMaxNanos >= delayMinNanos, "bad delay bounds");
      check(tailScale > 0 && tailShape > 0, "bad tail parameters");
    }
  }

  /**
   * The simulated disk ({@link SimDisk}) under the node's real WAL and snapshot store: writes
   * are buffered until fsync; a crash loses what was not synced (a random prefix of it may
   * have reached the platter) and may tear the last write at a sector boundary.
   *
   * @param earlyReplication leaders send their replication messages while their own fsync is
   *     in flight ({@link io.detraft.core.Ready#maySendBeforeSync}, as io-real's runner does);
   *     off, every message waits for the fsync
   * @param segmentBytes the WAL's segment size (small ones make rollovers and segment
   *     deletion frequent)
   * @param fsyncFailure probability that an fsync fails with EIO (the node must stop)
   * @param diskFull probability that a write fails with ENOSPC (the node must stop)
   * @param crashDuringSync probability that the nemesis aims a crash at an fsync in flight
   * @param stateMachinePersists the state machine survives crashes with everything it
   *     applied (as kv-app's Chronicle Map store does), so a restart resumes after its applied
   *     index, often ahead of the commit index the WAL recorded; off, it starts empty
   * @param corruption probability that a write of the one node whose disk corrupts data lands
   *     at the wrong offset (a misdirected write); that disk also flips bits at rest and on
   *     reads ({@link SimDisk}). Active only where a lost node leaves a majority: {@link
   *     #corruptsStorage()}
   */
  public record DiskOptions(long fsyncMinNanos, long fsyncMaxNanos, double tornWrite,
      boolean earlyReplication, int segmentBytes, double fsyncFailure, double diskFull,
      double crashDuringSync, boolean stateMachinePersists, double corruption) {
    public DiskOptions {
      check(fsyncMinNanos >= 0 && fsyncMaxNanos >= fsyncMinNanos, "bad fsync bounds");
      check(tornWrite >= 0 && tornWrite <= 1, "bad torn-write probability");
      check(segmentBytes >= 4096, "WAL segments must hold at least 4 KiB");
      check(fsyncFailure >= 0 && fsyncFailure < 1 && diskFull >= 0 && diskFull < 1
          && crashDuringSync >= 0 && crashDuringSync < 1 && corruption >= 0 && corruption < 1,
          "bad disk-fault probability");
    }

    /** A disk that never corrupts data. */
    public DiskOptions(long fsyncMinNanos, long fsyncMaxNanos, double tornWrite,
        boolean earlyReplication, int segmentBytes, double fsyncFailure, double diskFull,
        double crashDuringSync, boolean stateMachinePersists) {
      this(fsyncMinNanos, fsyncMaxNanos, tornWrite, earlyReplication, segmentBytes, fsyncFailure,
          diskFull, crashDuringSync, stateMachinePersists, 0);
    }

    /** The same disk with fsyncs taking between {@code min} and {@code max} nanoseconds. */
    public DiskOptions withFsyncNanos(long min, long max) {
      return new DiskOptions(min, max, tornWrite, earlyReplication, segmentBytes, fsyncFailure,
          diskFull, crashDuringSync, stateMachinePersists, corruption);
    }

    /** The same disk, corrupting data at {@code rate} (see {@link #corruption}). */
    public DiskOptions withCorruption(double rate) {
      return new DiskOptions(fsyncMinNanos, fsyncMaxNanos, tornWrite, earlyReplication,
          segmentBytes, fsyncFailure, diskFull, crashDuringSync, stateMachinePersists, rate);
    }
  }

  /**
   * Whether one node's disk corrupts data in this run: only with at least 3 voters, where the
   * node that refuses to start on a damaged disk (for good: no operator repairs it) still
   * leaves a majority to serve. Membership churn then keeps every group at 3 voters or more
   * and removes the refused node ({@code Nemesis}). Not with witnesses: an entry committed by
   * one data voter and the witness has its payload on that voter alone, so losing that disk
   * for good leaves the group stuck (rightly: it must not lose the entry).
   */
  /**
   * Whether the run ends with a disaster recovery ({@link PhaseOptions#disaster}): drawn, and
   * a seed it suits: one group of 3 or more voters and no other nodes (the disaster takes a
   * majority for good), a fixed membership, no witness (a witness has no image to export) and
   * no corrupting disk (a node it took down for good would leave too few to rebuild from).
   */
  public boolean disasterRecovery() {
    return phases.disaster() && cluster.groups() == 1 && cluster.voters() >= 3
        && cluster.size() == cluster.voters() && protocol.churnEveryNanos() == 0
        && !protocol.witness() && !corruptsStorage();
  }

  public boolean corruptsStorage() {
    return disk.corruption() > 0 && cluster.voters() >= 3 && !protocol.witness();
  }

  /** Process faults: crash then restart from durable state; pause (the process stops). */
  public record ProcessOptions(boolean crashes, long crashEveryNanos, long restartMaxNanos,
      boolean pauses, long pauseEveryNanos, long pauseMaxNanos) {
    public ProcessOptions {
      check(crashEveryNanos > 0 && pauseEveryNanos > 0, "fault intervals must be positive");
      check(restartMaxNanos > 0 && pauseMaxNanos > 0, "fault durations must be positive");
    }
  }

  /**
   * Protocol nemeses. A switched-off one has interval 0 (or threshold 0).
   *
   * @param snapshotThreshold a node snapshots its state machine and compacts its log once this
   *     many entries were applied since its last snapshot (tiny in some seeds)
   * @param snapshotEveryNanos mean interval of snapshots at random points on random nodes
   * @param churnEveryNanos mean interval of membership changes asked of the leader
   * @param transferEveryNanos mean interval of leadership transfers to random voters
   * @param groupStopEveryNanos mean interval of stopping a group's replica on a random node
   *     (keeping its data) and starting it again a while later, as an operator would
   * @param witness whether each group's last initial voter is a witness (a voter that keeps
   *     only log metadata and never leads; with 3 or more voters)
   */
  public record ProtocolOptions(long snapshotThreshold, long snapshotEveryNanos,
      long churnEveryNanos, long transferEveryNanos, long groupStopEveryNanos,
      boolean witness) {
    public ProtocolOptions {
      check(snapshotThreshold >= 0 && snapshotEveryNanos >= 0 && churnEveryNanos >= 0
          && transferEveryNanos >= 0 && groupStopEveryNanos >= 0,
          "negative protocol nemesis setting");
    }

    /** Without group stops. */
    public ProtocolOptions(long snapshotThreshold, long snapshotEveryNanos,
        long churnEveryNanos, long transferEveryNanos) {
      this(snapshotThreshold, snapshotEveryNanos, churnEveryNanos, transferEveryNanos, 0,
          false);
    }
  }

  /**
   * KV clients. Each client has one operation in flight; all clients together aim at {@code
   * opsPerSecond}. Weights pick the operation kind. Writes run in exactly-once sessions; a
   * get goes through ReadIndex, or through the log with probability {@code logGetFraction}.
   *
   * @param keys keys per group
   * @param sessionTimeoutEntries a session unused for this many log entries expires
   */
  public record WorkloadOptions(int clients, double opsPerSecond, int getWeight, int putWeight,
      int casWeight, int keys, long timeoutNanos, long clientLatencyNanos,
      double logGetFraction, long sessionTimeoutEntries) {
    public WorkloadOptions {
      check(clients >= 1 && keys >= 1 && opsPerSecond > 0, "bad workload size");
      check(getWeight >= 0 && putWeight >= 0 && casWeight >= 0
          && getWeight + putWeight + casWeight > 0, "bad operation weights");
      check(timeoutNanos > 0 && clientLatencyNanos >= 0, "bad client timings");
      check(logGetFraction >= 0 && logGetFraction <= 1, "bad log-get fraction");
      check(sessionTimeoutEntries >= 1, "sessionTimeoutEntries must be >= 1");
    }
  }

  /**
   * List-append clients (Jepsen's list-append workload), alongside the KV clients: each
   * transaction is 1 to {@code maxTxnLength} micro-ops, reads or appends of unique elements,
   * on keys of one group, applied as one command in the client's session. A group has {@code
   * keysPerGroup} keys in use; a key that took {@code appendsPerKey} appends is retired for a
   * fresh one, so lists (and reads) stay short while new keys keep coming.
   *
   * @param clients list-append clients, each with one transaction in flight
   * @param txnsPerSecond what all of them together aim at
   * @param readFraction the probability that a micro-op reads
   */
  public record ListAppendOptions(int clients, double txnsPerSecond, int keysPerGroup,
      int appendsPerKey, int maxTxnLength, double readFraction) {
    public ListAppendOptions {
      check(clients >= 0 && txnsPerSecond > 0, "bad list-append workload size");
      check(keysPerGroup >= 1 && appendsPerKey >= 1, "bad list-append keys");
      check(maxTxnLength >= 1 && maxTxnLength <= ListTxn.MAX_MICRO_OPS, "bad txn length");
      check(readFraction >= 0 && readFraction <= 1, "bad read fraction");
    }
  }

  /**
   * @param safetyNanos how long faults run
   * @param livenessBoundNanos after healing, a leader must emerge and all client work finish
   *     within this bound
   * @param livenessOpsPerClient new operations each client must complete after healing
   * @param disaster after the liveness phase, a disaster: a majority of the nodes lose their
   *     disks for good, and the group is rebuilt from an exported snapshot (in the seeds it
   *     suits, {@link SimOptions#disasterRecovery()}); then another liveness round
   */
  public record PhaseOptions(long safetyNanos, long livenessBoundNanos, int livenessOpsPerClient,
      boolean disaster) {
    public PhaseOptions {
      check(safetyNanos >= 0 && livenessBoundNanos > 0 && livenessOpsPerClient >= 0,
          "bad phase lengths");
    }
  }

  /** The options seed {@code seed} stands for. */
  public static SimOptions derive(long seed) {
    // One generator per option group: adding a knob to one group leaves the others alone.
    SimRandom root = new SimRandom(seed);
    SimRandom q = root.fork(7);
    double thresholdRoll = q.nextDouble();
    long snapshotThreshold = thresholdRoll < 0.25 ? 0 : snapshotThreshold(q, thresholdRoll < 0.65);
    ProtocolOptions protocol = new ProtocolOptions(snapshotThreshold,
        q.chance(0.6) ? snapshotEvery(q) : 0,
        q.chance(0.45) ? churnEvery(q) : 0,
        q.chance(0.45) ? transferEvery(q) : 0,
        // Drawn last, so that adding them left every earlier protocol draw as it was.
        q.chance(0.3) ? groupStopEvery(q) : 0, q.chance(0.25));

    SimRandom c = root.fork(1);
    int voters = c.chance(0.5) ? 3 : 5;
    int election = (int) c.between(10, 30);
    int heartbeat = (int) c.between(1, Math.min(3, election / 4));
    double[] drifts = {0, 0.001, 0.01, 0.05, 0.1};
    boolean preVote = c.chance(0.5);
    boolean checkQuorum = c.chance(0.5);
    boolean forward = c.chance(0.5);
    int inflight = pick(c, 1, 4, 64, 256);
    int appendBytes = pick(c, 256, 4096, 1 << 20);
    double drift = drifts[c.nextInt(drifts.length)];
    // Multi-group seeds run 3 voters per group, so a run stays within a few replicas per core.
    int groups = c.chance(0.2) ? pick(c, 2, 4, 8) : 1;
    if (groups > 1) {
      voters = 3;
    }
    int spares = protocol.churnEveryNanos() > 0 ? (int) c.between(0, 2) : 0;
    int chunkBytes = c.chance(0.5) ? (int) logUniform(c, 16, 256) : 1 << 20;
    boolean leaseReads = checkQuorum && c.chance(0.5);
    int leaseMargin = Math.min(election - 1,
        ClusterOptions.minLeaseMargin(election, drift) + (int) c.between(0, 2));
    // Drawn last of the cluster's options, so the others stay what they were before it.
    int quiesce = c.chance(0.3) ? 2 * election + (int) c.between(0, 40) : 0;
    // Swarm depth: a third of the single-group seeds start with a less common size, from a
    // lone voter to seven (3 and 5 stay the most common). Drawn after every other cluster
    // option, so those stay what they were.
    if (groups == 1 && c.chance(0.35)) {
      voters = pick(c, 1, 2, 4, 6, 7);
    }
    ClusterOptions cluster = new ClusterOptions(voters + spares, voters, groups, 10 * MS,
        election, heartbeat, preVote, checkQuorum, forward, inflight, appendBytes, chunkBytes,
        leaseReads, leaseMargin, drift, quiesce);

    SimRandom n = root.fork(2);
    double loss = n.chance(0.5) ? lossRate(n) : 0;
    double duplicate = n.chance(0.3) ? duplicateRate(n) : 0;
    long delayMin = n.between(50_000, 500_000);
    boolean pareto = n.chance(0.5);
    double tailScale = n.uniform(100_000, 1_000_000);
    double tailShape = pareto ? n.uniform(1.2, 3.0) : n.uniform(0.5, 2.0);
    NetworkOptions network = new NetworkOptions(loss, duplicate, delayMin, pareto, tailScale,
        tailShape, 2 * SECOND, n.chance(0.5),
        n.chance(0.5), n.between(SECOND, 5 * SECOND), n.between(200 * MS, 4 * SECOND),
        n.chance(0.3), n.between(SECOND, 5 * SECOND), n.between(100 * MS, 2 * SECOND),
        // Drawn last, so that adding them left every earlier network draw as it was.
        n.chance(0.3) ? replayRate(n) : 0, n.chance(0.3) ? corruptRate(n) : 0,
        // From a generator of its own, so that adding it changed no other draw.
        new SimRandom(seed).fork(17).chance(0.3) ? STRAY_DIALERS : 0);

    SimRandom d = root.fork(3);
    long fsyncMin = d.between(50_000, 1 * MS);
    DiskOptions disk = new DiskOptions(fsyncMin, fsyncMin + logUniform(d, 100_000, 20 * MS),
        d.chance(0.5) ? TORN_WRITE : 0, d.chance(0.5),
        (int) logUniform(d, 16 << 10, 1 << 20),
        d.chance(0.2) ? fsyncFailureRate(d) : 0, d.chance(0.2) ? diskFullRate(d) : 0,
        d.chance(0.5) ? crashDuringSyncRate(d) : 0, d.chance(0.5),
        // Drawn last, so that adding it left every earlier disk draw as it was.
        d.chance(0.3) ? d.uniform(0.00005, 0.001) : 0);

    // Log-uniform intervals: some seeds crash a node every few hundred milliseconds (bugs
    // with a narrow window need many crashes), others rarely (long stable stretches).
    SimRandom p = root.fork(4);
    ProcessOptions process = new ProcessOptions(
        p.chance(0.6), logUniform(p, 150 * MS, 5 * SECOND), p.between(20 * MS, 3 * SECOND),
        p.chance(0.4), logUniform(p, 300 * MS, 5 * SECOND), p.between(20 * MS, 2 * SECOND));

    SimRandom w = root.fork(5);
    WorkloadOptions workload = new WorkloadOptions((int) w.between(2, 8), 200,
        (int) w.between(1, 4), (int) w.between(1, 4), (int) w.between(0, 3),
        (int) w.between(1, 8), w.between(500 * MS, 3 * SECOND), w.between(100_000, MS),
        w.chance(0.2) ? 0 : w.uniform(0.05, 0.5),
        w.chance(0.3) ? w.between(16, 128) : 1_000_000);

    SimRandom l = root.fork(8);
    ListAppendOptions listAppend = new ListAppendOptions((int) l.between(1, 3),
        l.uniform(20, 60), (int) l.between(2, 5), (int) l.between(4, 32),
        (int) l.between(1, 4), l.uniform(0.3, 0.7));

    SimRandom ph = root.fork(6);
    PhaseOptions phases = new PhaseOptions(ph.between(20, 30) * SECOND, 30 * SECOND, 3,
        ph.chance(0.5)); // drawn last: the other phase draws stay as they were
    return new SimOptions(seed, cluster, network, disk, process, protocol, workload, listAppend,
        phases);
  }

  public SimOptions withCluster(ClusterOptions value) {
    return new SimOptions(seed, value, network, disk, process, protocol, workload, listAppend,
        phases);
  }

  public SimOptions withNetwork(NetworkOptions value) {
    return new SimOptions(seed, cluster, value, disk, process, protocol, workload, listAppend,
        phases);
  }

  public SimOptions withDisk(DiskOptions value) {
    return new SimOptions(seed, cluster, network, value, process, protocol, workload, listAppend,
        phases);
  }

  public SimOptions withProcess(ProcessOptions value) {
    return new SimOptions(seed, cluster, network, disk, value, protocol, workload, listAppend,
        phases);
  }

  public SimOptions withProtocol(ProtocolOptions value) {
    return new SimOptions(seed, cluster, network, disk, process, value, workload, listAppend,
        phases);
  }

  public SimOptions withWorkload(WorkloadOptions value) {
    return new SimOptions(seed, cluster, network, disk, process, protocol, value, listAppend,
        phases);
  }

  public SimOptions withListAppend(ListAppendOptions value) {
    return new SimOptions(seed, cluster, network, disk, process, protocol, workload, value,
        phases);
  }

  public SimOptions withPhases(PhaseOptions value) {
    return new SimOptions(seed, cluster, network, disk, process, protocol, workload, listAppend,
        value);
  }

  /**
   * The same seed with {@code voters} initial voters in one group (spares kept): pins the
   * cluster size of a sweep, e.g. to measure the speed of 5-node runs alone. Multi-group
   * seeds run one group, since they would otherwise pin 3 voters.
   */
  public SimOptions withVoters(int voters) {
    ClusterOptions c = cluster;
    return withCluster(new ClusterOptions(voters + c.size() - c.voters(), voters, 1,
        c.tickNanos(), c.electionTicks(), c.heartbeatTicks(), c.preVote(), c.checkQuorum(),
        c.forwardProposals(), c.maxInflightAppends(), c.maxAppendBytes(),
        c.snapshotChunkBytes(), c.leaseReads(), c.leaseMarginTicks(), c.driftMax(),
        c.quiesceTicks()));
  }

  /**
   * The same seed with every fault and protocol nemesis on: loss, duplication, replays,
   * reordering, partitions, clogged links, torn writes, crashes, pauses, a snapshot threshold,
   * random snapshots, membership churn (with at least one spare to add), leadership
   * transfers and group replicas stopped and started. A fault the seed switched off but drew
   * a rate or interval for anyway (partitions, clogs, crashes, pauses) runs with that; the
   * others get values from a fork of the seed's generator of their own, in the ranges {@link
   * #derive} uses, so the options stay a function of the seed and the seed's other draws stay
   * what they were.
   */
  public SimOptions withAllNemeses() {
    SimRandom r = new SimRandom(seed).fork(9);
    ClusterOptions c = cluster;
    int spares = c.size() > c.voters() ? c.size() - c.voters() : (int) r.between(1, 2);
    NetworkOptions n = network;
    DiskOptions d = disk;
    ProcessOptions p = process;
    ProtocolOptions q = protocol;
    return new SimOptions(seed,
        new ClusterOptions(c.voters() + spares, c.voters(), c.groups(), c.tickNanos(),
            c.electionTicks(), c.heartbeatTicks(), c.preVote(), c.checkQuorum(),
            c.forwardProposals(), c.maxInflightAppends(), c.maxAppendBytes(),
            c.snapshotChunkBytes(), c.leaseReads(), c.leaseMarginTicks(), c.driftMax(),
            c.quiesceTicks()),
        new NetworkOptions(n.loss() > 0 ? n.loss() : lossRate(r),
            n.duplicate() > 0 ? n.duplicate() : duplicateRate(r), n.delayMinNanos(),
            n.paretoTail(), n.tailScale(), n.tailShape(), n.delayMaxNanos(), true, true,
            n.partitionEveryNanos(), n.partitionMaxNanos(), true, n.clogEveryNanos(),
            n.clogMaxNanos(), n.replay() > 0 ? n.replay() : replayRate(r),
            n.corrupt() > 0 ? n.corrupt() : corruptRate(r), STRAY_DIALERS),
        new DiskOptions(d.fsyncMinNanos(), d.fsyncMaxNanos(), TORN_WRITE, d.earlyReplication(),
            d.segmentBytes(), d.fsyncFailure() > 0 ? d.fsyncFailure() : fsyncFailureRate(r),
            d.diskFull() > 0 ? d.diskFull() : diskFullRate(r),
            d.crashDuringSync() > 0 ? d.crashDuringSync() : crashDuringSyncRate(r),
            d.stateMachinePersists(), d.corruption()),
        new ProcessOptions(true, p.crashEveryNanos(), p.restartMaxNanos(), true,
            p.pauseEveryNanos(), p.pauseMaxNanos()),
        new ProtocolOptions(
            q.snapshotThreshold() > 0 ? q.snapshotThreshold() : snapshotThreshold(r, r.chance(0.5)),
            q.snapshotEveryNanos() > 0 ? q.snapshotEveryNanos() : snapshotEvery(r),
            q.churnEveryNanos() > 0 ? q.churnEveryNanos() : churnEvery(r),
            q.transferEveryNanos() > 0 ? q.transferEveryNanos() : transferEvery(r),
            q.groupStopEveryNanos() > 0 ? q.groupStopEveryNanos() : groupStopEvery(r),
            q.witness()),
        workload, listAppend, phases);
  }

  /** A shorter run: the safety phase lasts {@code seconds} (tests keep {@code mvn verify} fast). */
  public SimOptions withSafetySeconds(double seconds) {
    return withPhases(new PhaseOptions((long) (seconds * SECOND), phases.livenessBoundNanos(),
        phases.livenessOpsPerClient(), phases.disaster()));
  }

  /** One readable line with every option; printed before a run. */
  /**
   * The swarm dimensions this seed drew (swarm testing: each seed switches features on and
   * off, so that rare combinations are reached), as labels a sweep counts: which cluster,
   * protocol features, timing regime, faults and workloads.
   */
  public List<String> swarm() {
    ClusterOptions c = cluster;
    List<String> drawn = new ArrayList<>();
    drawn.add("cluster: " + c.voters() + " voter" + (c.voters() == 1 ? "" : "s"));
    add(drawn, c.size() > c.voters(), "cluster: learners");
    add(drawn, c.groups() > 1, "cluster: several groups");
    add(drawn, c.preVote(), "protocol: PreVote");
    add(drawn, c.checkQuorum(), "protocol: CheckQuorum");
    add(drawn, c.leaseReads(), "protocol: lease reads");
    add(drawn, c.quiesceTicks() > 0, "protocol: quiescence");
    add(drawn, c.forwardProposals(), "protocol: proposals forwarded");
    add(drawn, c.driftMax() > 0, "timing: clock drift");
    add(drawn, network.paretoTail(), "timing: heavy-tailed (Pareto) network delays");
    add(drawn, disk.fsyncMaxNanos() >= 10_000_000L, "timing: slow disk (fsync up to >= 10 ms)");
    add(drawn, network.loss() > 0, "network: loss");
    add(drawn, network.duplicate() > 0, "network: duplication");
    add(drawn, network.replay() > 0, "network: replayed old messages");
    add(drawn, network.corrupt() > 0, "network: corruption");
    add(drawn, network.partitions(), "network: partitions");
    add(drawn, network.clogging(), "network: clogged links");
    add(drawn, network.strayDialers() > 0, "network: stray dialers (handshakes)");
    add(drawn, disk.tornWrite() > 0, "disk: torn writes");
    add(drawn, disk.fsyncFailure() > 0, "disk: failed fsyncs");
    add(drawn, disk.diskFull() > 0, "disk: full disk");
    add(drawn, disk.crashDuringSync() > 0, "disk: crashes during fsync");
    add(drawn, corruptsStorage(), "disk: corruption (bit flips, misdirected writes)");
    add(drawn, process.crashes(), "process: crashes");
    add(drawn, process.pauses(), "process: pauses");
    add(drawn, protocol.snapshotEveryNanos() > 0, "nemesis: snapshots");
    add(drawn, protocol.churnEveryNanos() > 0, "nemesis: membership churn");
    add(drawn, protocol.transferEveryNanos() > 0, "nemesis: leadership transfers");
    add(drawn, protocol.groupStopEveryNanos() > 0, "nemesis: group replicas stopped");
    add(drawn, protocol.witness() && cluster.voters() >= 3, "cluster: a witness per group");
    add(drawn, disasterRecovery(), "nemesis: disaster recovery (export, majority lost, import)");
    add(drawn, listAppend.clients() > 0, "workload: list-append transactions");
    return drawn;
  }

  private static void add(List<String> drawn, boolean on, String label) {
    if (on) {
      drawn.add(label);
    }
  }

  public String describe() {
    ClusterOptions c = cluster;
    NetworkOptions n = network;
    DiskOptions d = disk;
    ProcessOptions p = process;
    WorkloadOptions w = workload;
    StringBuilder out = new StringBuilder();
    out.append("seed=").append(seed);
    ProtocolOptions q = protocol;
    out.append(" cluster{n=").append(c.size()).append(" voters=").append(c.voters())
        .append(" groups=").append(c.groups()).append(" tick=").append(ms(c.tickNanos()))
        .append(" election=").append(c.electionTicks()).append("t heartbeat=")
        .append(c.heartbeatTicks()).append("t ").append(flag("preVote", c.preVote()))
        .append(' ').append(flag("checkQuorum", c.checkQuorum())).append(' ')
        .append(flag("forward", c.forwardProposals())).append(" inflight=")
        .append(c.maxInflightAppends()).append(" appendBytes=").append(c.maxAppendBytes())
        .append(" chunkBytes=").append(c.snapshotChunkBytes())
        .append(" lease=").append(c.leaseReads() ? "margin" + c.leaseMarginTicks() + "t" : "off")
        .append(" drift=").append(pct(c.driftMax()))
        .append(c.quiesceTicks() > 0 ? " quiesce=" + c.quiesceTicks() + "t" : "").append('}');
    out.append(" net{loss=").append(n.loss() > 0 ? pct(n.loss()) : "off")
        .append(" dup=").append(n.duplicate() > 0 ? pct(n.duplicate()) : "off")
        .append(" replay=").append(n.replay() > 0 ? pct(n.replay()) : "off")
        .append(" corrupt=").append(n.corrupt() > 0 ? fmt("%.2f%%", n.corrupt() * 100) : "off")
        .append(n.strayDialers() > 0 ? " strays=" + pct(n.strayDialers()) : "")
        .append(" delay=").append(ms(n.delayMinNanos())).append('+')
        .append(n.paretoTail()
            ? fmt("pareto(%s,a=%.2f)", ms((long) n.tailScale()), n.tailShape())
            : fmt("lognormal(%s,s=%.2f)", ms((long) n.tailScale()), n.tailShape()))
        .append("<=").append(ms(n.delayMaxNanos()))
        .append(' ').append(flag("reorder", n.reorder()))
        .append(" partitions=").append(n.partitions()
            ? "every~" + ms(n.partitionEveryNanos()) + ",<=" + ms(n.partitionMaxNanos()) : "off")
        .append(" clog=").append(n.clogging()
            ? "every~" + ms(n.clogEveryNanos()) + ",<=" + ms(n.clogMaxNanos()) : "off")
        .append('}');
    out.append(" disk{fsync=").append(ms(d.fsyncMinNanos())).append("..")
        .append(ms(d.fsyncMaxNanos())).append(" torn=")
        .append(d.tornWrite() > 0 ? pct(d.tornWrite()) : "off").append(' ')
        .append(flag("earlyReplication", d.earlyReplication()))
        .append(" segment=").append(d.segmentBytes() >> 10).append("KiB")
        .append(" eio=").append(d.fsyncFailure() > 0 ? fmt("%.3f%%", d.fsyncFailure() * 100) : "off")
        .append(" enospc=").append(d.diskFull() > 0 ? fmt("%.3f%%", d.diskFull() * 100) : "off")
        .append(" crashInSync=")
        .append(d.crashDuringSync() > 0 ? fmt("%.3f%%", d.crashDuringSync() * 100) : "off").append(' ')
        .append(flag("persistentStateMachine", d.stateMachinePersists()))
        .append(" corrupt=").append(corruptsStorage()
            ? fmt("%.3f%%", d.corruption() * 100) : "off").append('}');
    out.append(" process{crash=").append(p.crashes()
            ? "every~" + ms(p.crashEveryNanos()) + ",restart<=" + ms(p.restartMaxNanos()) : "off")
        .append(" pause=").append(p.pauses()
            ? "every~" + ms(p.pauseEveryNanos()) + ",<=" + ms(p.pauseMaxNanos()) : "off")
        .append('}');
    out.append(" protocol{snapshotAfter=").append(q.snapshotThreshold() > 0
            ? q.snapshotThreshold() + "entries" : "off")
        .append(" randomSnapshot=").append(every(q.snapshotEveryNanos()))
        .append(" churn=").append(every(q.churnEveryNanos()))
        .append(" transfer=").append(every(q.transferEveryNanos()))
        .append(" groupStop=").append(every(q.groupStopEveryNanos()))
        .append(q.witness() && c.voters() >= 3 ? " witness" : "").append('}');
    out.append(" workload{clients=").append(w.clients()).append(" rate=")
        .append(fmt("%.0f/s", w.opsPerSecond())).append(" mix=get").append(w.getWeight())
        .append(":put").append(w.putWeight()).append(":cas").append(w.casWeight())
        .append(" keys=").append(w.keys()).append("/group timeout=")
        .append(ms(w.timeoutNanos())).append(" latency=").append(ms(w.clientLatencyNanos()))
        .append(" logGets=").append(pct(w.logGetFraction())).append(" session=")
        .append(w.sessionTimeoutEntries()).append("entries}");
    ListAppendOptions l = listAppend;
    out.append(" listAppend{clients=").append(l.clients()).append(" rate=")
        .append(fmt("%.0f/s", l.txnsPerSecond())).append(" keys=").append(l.keysPerGroup())
        .append("/group appendsPerKey=").append(l.appendsPerKey()).append(" txnLength<=")
        .append(l.maxTxnLength()).append(" reads=").append(pct(l.readFraction())).append('}');
    out.append(" phases{safety=").append(ms(phases.safetyNanos())).append(" liveness<=")
        .append(ms(phases.livenessBoundNanos())).append(" +")
        .append(phases.livenessOpsPerClient()).append(" ops/client")
        .append(disasterRecovery() ? " disaster}" : "}");
    return out.toString();
  }

  private static String every(long nanos) {
    return nanos > 0 ? "every~" + ms(nanos) : "off";
  }

  /** A value whose logarithm is uniform in {@code [log low, log high]}. */
  private static long logUniform(SimRandom random, long low, long high) {
    return Math.round(Math.exp(random.uniform(Math.log(low), Math.log(high))));
  }

  // The ranges of the fault settings a seed may switch off, shared by derive and
  // withAllNemeses so that a forced-on fault draws from the same range as a seed's own.

  private static long snapshotThreshold(SimRandom r, boolean tiny) {
    return tiny ? logUniform(r, 1, 50) : logUniform(r, 100, 2000);
  }

  private static long groupStopEvery(SimRandom r) {
    return logUniform(r, 300 * MS, 5 * SECOND);
  }

  private static long snapshotEvery(SimRandom r) {
    return logUniform(r, 100 * MS, 3 * SECOND);
  }

  private static long churnEvery(SimRandom r) {
    return logUniform(r, 100 * MS, 3 * SECOND);
  }

  private static long transferEvery(SimRandom r) {
    return logUniform(r, 200 * MS, 4 * SECOND);
  }

  private static double lossRate(SimRandom r) {
    return r.uniform(0.001, 0.1);
  }

  private static double duplicateRate(SimRandom r) {
    return r.uniform(0.001, 0.05);
  }

  private static double replayRate(SimRandom r) {
    return r.uniform(0.001, 0.02);
  }

  /** Per packet. */
  private static double corruptRate(SimRandom r) {
    return r.uniform(0.0005, 0.01);
  }

  /** Per fsync; a node fsyncs a few hundred times a simulated second. */
  private static double fsyncFailureRate(SimRandom r) {
    return r.uniform(0.0001, 0.002);
  }

  /** Per write. */
  private static double diskFullRate(SimRandom r) {
    return r.uniform(0.0001, 0.001);
  }

  /** Per fsync (only in seeds that crash nodes). */
  private static double crashDuringSyncRate(SimRandom r) {
    return r.uniform(0.0005, 0.005);
  }

  private static int pick(SimRandom random, int... choices) {
    return choices[random.nextInt(choices.length)];
  }

  private static String flag(String name, boolean on) {
    return on ? name : "!" + name;
  }

  private static String pct(double fraction) {
    return fmt("%.1f%%", fraction * 100);
  }

  /** A duration in readable units: "250us", "12.5ms", "3.2s". */
  static String ms(long nanos) {
    if (nanos >= SECOND) {
      return fmt("%.1fs", nanos / 1e9);
    }
    if (nanos >= MS) {
      return fmt("%.1fms", nanos / 1e6);
    }
    return fmt("%dus", nanos / 1000);
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
