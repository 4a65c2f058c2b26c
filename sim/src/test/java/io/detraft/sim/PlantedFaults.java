package io.detraft.sim;

import io.detraft.core.Message;
import io.detraft.core.PlantedBug;

/**
 * Broken host parts, planted by tests only, that the simulator must catch ("canaries").
 * Neither may ever be used by main code.
 */
final class PlantedFaults {
  private PlantedFaults() {}

  /** A host that sends votes and append acknowledgements before their writes are durable. */
  static boolean acknowledgesBeforeSync(Message message) {
    return message instanceof Message.VoteResponse || message instanceof Message.AppendResponse;
  }

  /**
   * A host that lets every replication message of a leader overlap the fsync, also in a
   * Ready that raises the leader's term: it ignores the second half of {@link
   * io.detraft.core.Ready#maySendBeforeSync}.
   */
  static boolean replicatesBeforeTermIsDurable(Message message) {
    return message instanceof Message.AppendRequest || message instanceof Message.Heartbeat
        || message instanceof Message.InstallSnapshot;
  }

  static SimHooks earlyReplicationInANewTerm() {
    return SimHooks.defaults().withEarlySend(PlantedFaults::replicatesBeforeTermIsDurable);
  }

  /**
   * A disk that says an fsync completed but never makes anything durable: a crash loses every
   * write that the background write-back did not happen to persist.
   */
  static SimHooks lyingDisk() {
    return SimHooks.defaults().withDiskFactory((node, options, random) -> {
      SimDisk disk = new SimDisk(options, random);
      disk.forceLies = true;
      return disk;
    });
  }

  /**
   * A host that, after a failed fsync, retries it and goes on (PostgreSQL before 2018): the
   * retry succeeds because the page cache marked the lost writes clean, and the node
   * acknowledges what its disk does not hold.
   */
  static SimHooks retriedFsync() {
    return SimHooks.defaults().withNodeBug(SimHooks.NodeBug.RETRY_FAILED_FSYNC);
  }

  static SimHooks nodeBug(SimHooks.NodeBug bug) {
    return SimHooks.defaults().withNodeBug(bug);
  }

  /**
   * A crash-heavy mix on small WAL segments (frequent rotations) whose crashes often hit an
   * fsync in flight and tear the last write: what recovery's torn-tail rule and the directory
   * syncs of a rotation are for.
   */
  static SimOptions storageHeavy(long seed, double safetySeconds) {
    SimOptions options = crashHeavy(seed, safetySeconds);
    SimOptions.DiskOptions d = options.disk();
    return options.withDisk(new SimOptions.DiskOptions(d.fsyncMinNanos(), d.fsyncMaxNanos(),
        1.0, d.earlyReplication(), 16 << 10, 0, 0, 0.05, d.stateMachinePersists()));
  }

  /** A host that grants votes before the vote (its hard state) is durable. */
  static SimHooks earlyVotes() {
    return SimHooks.defaults().withEarlySend(message -> message instanceof Message.VoteResponse);
  }

  /** A bug planted in the core's Raft rules. */
  static SimHooks coreBug(PlantedBug bug) {
    return SimHooks.defaults().withCoreBug(bug);
  }

  static SimHooks earlyAcknowledgements() {
    return SimHooks.defaults().withEarlySend(PlantedFaults::acknowledgesBeforeSync);
  }

  /**
   * A disk whose every fsync takes a virtual day: nothing ever becomes durable in a run, so no
   * node may grant a vote or acknowledge an entry, no leader emerges and no client operation
   * completes. Safe but never live: the liveness check must fail every seed with it.
   */
  static SimHooks stuckFsync() {
    long day = 24 * 3600 * SimOptions.SECOND;
    return SimHooks.defaults().withDiskFactory(
        (node, options, random) -> new SimDisk(options.withFsyncNanos(day, day), random));
  }

  /** A host that serves gets from its local state machine at once, without ReadIndex. */
  static SimHooks staleReads() {
    return SimHooks.defaults().withStaleReads(true);
  }

  /** A host that answers read-only transactions from its local state machine, off the log. */
  static SimHooks staleTxnReads() {
    return SimHooks.defaults().withStaleTxnReads(true);
  }

  /**
   * A host whose exactly-once sessions are broken: a retried command that reached the log
   * twice is applied twice (its client still gets the first answer).
   */
  static SimHooks reappliedRetries() {
    return SimHooks.defaults().withReapplyRetries(true);
  }

  /**
   * A seed's options with every nemesis on ({@code --all-nemeses}): client timeouts during
   * partitions, crashes and transfers, and duplicated or replayed forwarded proposals, put
   * the same session command in the log twice.
   */
  static SimOptions allNemeses(long seed, double safetySeconds) {
    return SimOptions.derive(seed).withAllNemeses().withSafetySeconds(safetySeconds);
  }

  /**
   * A crash-heavy fault mix on top of a seed's own options: frequent crashes, quick restarts
   * and slow fsyncs, so a crash often lands while a write is not yet durable.
   */
  static SimOptions crashHeavy(long seed, double safetySeconds) {
    SimOptions options = SimOptions.derive(seed).withSafetySeconds(safetySeconds);
    long ms = SimOptions.MS;
    return options
        .withProcess(new SimOptions.ProcessOptions(true, 300 * ms, 200 * ms, false, 1000 * ms,
            100 * ms))
        .withDisk(options.disk().withFsyncNanos(2 * ms, 20 * ms));
  }

  /**
   * Crash-heavy, one group of 3 voters with a fixed membership, where one node's disk
   * corrupts data (misdirected writes, bits flipped at rest and on reads), without snapshots
   * (so that a node's last batch holds entries and votes more often than compaction records):
   * what recovery's judging of a damaged last batch and its refusals are for.
   */
  static SimOptions corruptionHeavy(long seed, double safetySeconds) {
    SimOptions options = crashHeavy(seed, safetySeconds).withVoters(3);
    SimOptions.ProtocolOptions q = options.protocol();
    return options
        .withDisk(options.disk().withCorruption(0.0001))
        .withProtocol(new SimOptions.ProtocolOptions(0, 0, 0, q.transferEveryNanos()));
  }

  /**
   * Crash-heavy, with one voter and two spare nodes that membership churn keeps adding as
   * learners (and promoting, and removing): a lone voter wins its election in the Ready that
   * raises its term, so that Ready's messages to learners are sent in a term not yet durable.
   */
  static SimOptions loneVoterCrashHeavy(long seed, double safetySeconds) {
    SimOptions options = crashHeavy(seed, safetySeconds);
    SimOptions.ClusterOptions c = options.cluster();
    SimOptions.ProtocolOptions q = options.protocol();
    return options
        .withCluster(new SimOptions.ClusterOptions(3, 1, 1, c.tickNanos(), c.electionTicks(),
            c.heartbeatTicks(), c.preVote(), c.checkQuorum(), c.forwardProposals(),
            c.maxInflightAppends(), c.maxAppendBytes(), c.snapshotChunkBytes(), c.leaseReads(),
            c.leaseMarginTicks(), c.driftMax(), c.quiesceTicks()))
        .withProtocol(new SimOptions.ProtocolOptions(q.snapshotThreshold(),
            q.snapshotEveryNanos(), 200 * SimOptions.MS, 0));
  }

  /**
   * A crash-heavy mix whose disks fail one fsync in a hundred (EIO): a node stops at each, or,
   * with {@link #retriedFsync}, goes on.
   */
  static SimOptions fsyncFailureHeavy(long seed, double safetySeconds) {
    SimOptions options = crashHeavy(seed, safetySeconds);
    SimOptions.DiskOptions d = options.disk();
    return options.withDisk(new SimOptions.DiskOptions(d.fsyncMinNanos(), d.fsyncMaxNanos(),
        d.tornWrite(), d.earlyReplication(), d.segmentBytes(), 0.01, 0, d.crashDuringSync(),
        d.stateMachinePersists()));
  }

  /**
   * A partition-heavy, read-heavy mix on top of a seed's own options: the network splits
   * every few hundred milliseconds, and clients read and write a few keys, every get through
   * the read path (no gets through the log), so a node cut off from the majority is asked for
   * values the majority has overwritten. Five list-append clients run transactions of one or
   * two micro-ops on one key per group (at a time), most of them read-only.
   */
  static SimOptions partitionHeavy(long seed, double safetySeconds) {
    SimOptions options = SimOptions.derive(seed).withSafetySeconds(safetySeconds);
    SimOptions.ListAppendOptions l = options.listAppend();
    long ms = SimOptions.MS;
    SimOptions.NetworkOptions n = options.network();
    SimOptions.WorkloadOptions w = options.workload();
    return options
        .withNetwork(new SimOptions.NetworkOptions(n.loss(), n.duplicate(), n.delayMinNanos(),
            n.paretoTail(), n.tailScale(), n.tailShape(), n.delayMaxNanos(), n.reorder(), true,
            400 * ms, 2000 * ms, n.clogging(), n.clogEveryNanos(), n.clogMaxNanos(),
            n.replay(), n.corrupt(), n.strayDialers()))
        .withWorkload(new SimOptions.WorkloadOptions(w.clients(), w.opsPerSecond(), 4, 2, 1, 2,
            w.timeoutNanos(), w.clientLatencyNanos(), 0, w.sessionTimeoutEntries()))
        .withListAppend(new SimOptions.ListAppendOptions(5, 100, 1, l.appendsPerKey(), 2, 0.7));
  }
}
