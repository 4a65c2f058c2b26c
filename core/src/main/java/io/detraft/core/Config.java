package io.detraft.core;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A replica's configuration, validated once here. Times are in ticks; the host decides how
 * long a tick is.
 *
 * @param id this replica's node id, positive
 * @param group the Raft group id, positive
 * @param electionTimeoutTicks base election timeout; each election draws a timeout uniformly
 *     from {@code [electionTimeoutTicks, 2 * electionTimeoutTicks)} (§5.2)
 * @param heartbeatIntervalTicks how often a leader sends heartbeats; well below the timeout
 * @param preVote campaign only after a PreVote round shows a majority would vote (thesis §9.6);
 *     replicas that heard from a leader within an election timeout refuse PreVotes, so a
 *     partitioned node rejoining cannot force a term change
 * @param checkQuorum a leader that has not heard from a majority within an election timeout
 *     steps down, and followers that heard from a leader within one ignore vote requests
 * @param forwardProposals a follower forwards proposals to the leader; otherwise it answers
 *     "not leader" with its leader hint
 * @param maxAppendBytes upper bound on the entry bytes in one AppendRequest (at least one
 *     entry is always sent)
 * @param maxInflightAppends how many AppendRequests may be unacknowledged to one follower in
 *     the replicate state
 * @param snapshotChunkBytes the size of one InstallSnapshot chunk
 * @param leaseReads serve linearizable reads from the leader's lease, without a heartbeat
 *     round; requires CheckQuorum, and assumes clocks drift less than the margin below
 * @param leaseDriftMarginTicks the lease is the election timeout minus this margin: followers
 *     whose clocks run fast by less than the margin still won't elect a new leader before the
 *     old leader's lease ends; at least 1 with lease reads (one tick of rounding, plus drift)
 * @param quiesceAfterTicks an idle group goes quiet after this many ticks (0: never), as
 *     dragonboat's quiesce: a follower that heard nothing but heartbeats, with everything it
 *     holds committed, stops its election timer; the leader, an election timeout later, stops
 *     heartbeats and CheckQuorum. Any other message or request wakes a replica. Saves the
 *     heartbeats of idle groups on hosts with many; a group whose leader dies while quiet
 *     elects a new one only when a request or a restarted node wakes it. At least twice the
 *     election timeout, so a woken follower campaigns before it could go quiet again
 * @param streamSnapshots a follower hands each accepted snapshot chunk to the host
 *     ({@link Ready#snapshotChunks}) instead of assembling the image in memory, and the
 *     snapshot it installs carries metadata only: for hosts that keep snapshots in files and
 *     serve them through {@link LogStorage#snapshotChunk}, so that no image is ever whole in
 *     memory. Off: the image is assembled in memory and installed with its data
 * @param plantedBugs bugs planted on purpose by a test ({@link PlantedBug}); always empty
 *     outside tests
 */
public record Config(
    long id,
    long group,
    int electionTimeoutTicks,
    int heartbeatIntervalTicks,
    boolean preVote,
    boolean checkQuorum,
    boolean forwardProposals,
    long maxAppendBytes,
    int maxInflightAppends,
    int snapshotChunkBytes,
    boolean leaseReads,
    int leaseDriftMarginTicks,
    int quiesceAfterTicks,
    boolean streamSnapshots,
    Set<PlantedBug> plantedBugs) {

  public Config {
    plantedBugs = Collections.unmodifiableSet(
        plantedBugs.isEmpty() ? EnumSet.noneOf(PlantedBug.class) : EnumSet.copyOf(plantedBugs));
    Invariants.check(id > 0, "id must be positive: %s", id);
    Invariants.check(group > 0, "group must be positive: %s", group);
    Invariants.check(heartbeatIntervalTicks >= 1, "heartbeatIntervalTicks must be >= 1");
    Invariants.check(
        electionTimeoutTicks > heartbeatIntervalTicks,
        "electionTimeoutTicks (%s) must exceed heartbeatIntervalTicks (%s)",
        electionTimeoutTicks,
        heartbeatIntervalTicks);
    Invariants.check(maxAppendBytes >= 1, "maxAppendBytes must be >= 1");
    Invariants.check(maxInflightAppends >= 1, "maxInflightAppends must be >= 1");
    Invariants.check(snapshotChunkBytes >= 1, "snapshotChunkBytes must be >= 1");
    Invariants.check(!leaseReads || checkQuorum,
        "leaseReads requires checkQuorum: without it a deposed leader would not step down");
    Invariants.check(leaseDriftMarginTicks >= 0
            && leaseDriftMarginTicks < electionTimeoutTicks,
        "leaseDriftMarginTicks (%s) must be in [0, electionTimeoutTicks)",
        leaseDriftMarginTicks);
    // Ticks are counted whole: a follower may tick right after the heartbeat that renewed its
    // promise, so its election timer can run out almost a tick before a margin-0 lease ends.
    Invariants.check(!leaseReads || leaseDriftMarginTicks >= 1,
        "leaseReads requires leaseDriftMarginTicks >= 1 (got %s): a lease as long as the "
            + "election timeout can outlast a follower's promise by up to one tick, more under "
            + "clock drift",
        leaseDriftMarginTicks);
    Invariants.check(quiesceAfterTicks == 0 || quiesceAfterTicks >= 2 * electionTimeoutTicks,
        "quiesceAfterTicks (%s) must be 0 or at least twice electionTimeoutTicks (%s)",
        quiesceAfterTicks, electionTimeoutTicks);
  }

  /** Sensible defaults: election 10 ticks, heartbeat 1, PreVote and CheckQuorum on. */
  public static Config defaults(long id) {
    return new Config(id, 1, 10, 1, true, true, true, 1 << 20, 256, 1 << 20, false, 2, 0, false,
        EnumSet.noneOf(PlantedBug.class));
  }

  public Config withGroup(long group) {
    return edit(b -> b.group = group);
  }

  public Config withTimeouts(int electionTimeoutTicks, int heartbeatIntervalTicks) {
    return edit(b -> {
      b.electionTimeoutTicks = electionTimeoutTicks;
      b.heartbeatIntervalTicks = heartbeatIntervalTicks;
    });
  }

  public Config withPreVote(boolean preVote) {
    return edit(b -> b.preVote = preVote);
  }

  public Config withCheckQuorum(boolean checkQuorum) {
    return edit(b -> b.checkQuorum = checkQuorum);
  }

  public Config withForwardProposals(boolean forwardProposals) {
    return edit(b -> b.forwardProposals = forwardProposals);
  }

  public Config withFlowControl(long maxAppendBytes, int maxInflightAppends) {
    return edit(b -> {
      b.maxAppendBytes = maxAppendBytes;
      b.maxInflightAppends = maxInflightAppends;
    });
  }

  public Config withSnapshotChunkBytes(int snapshotChunkBytes) {
    return edit(b -> b.snapshotChunkBytes = snapshotChunkBytes);
  }

  public Config withLeaseReads(boolean leaseReads, int leaseDriftMarginTicks) {
    return edit(b -> {
      b.leaseReads = leaseReads;
      b.leaseDriftMarginTicks = leaseDriftMarginTicks;
    });
  }

  public Config withQuiesce(int quiesceAfterTicks) {
    return edit(b -> b.quiesceAfterTicks = quiesceAfterTicks);
  }

  public Config withStreamSnapshots(boolean streamSnapshots) {
    return edit(b -> b.streamSnapshots = streamSnapshots);
  }

  /** Tests only: a copy with {@code bug} planted (see {@link PlantedBug}). */
  public Config withPlantedBug(PlantedBug bug) {
    return edit(b -> {
      EnumSet<PlantedBug> bugs = EnumSet.of(bug);
      bugs.addAll(b.plantedBugs);
      b.plantedBugs = bugs;
    });
  }

  boolean planted(PlantedBug bug) {
    return plantedBugs.contains(bug);
  }

  /** A copy with some fields changed, validated again by the constructor. */
  private Config edit(Consumer<Fields> change) {
    Fields f = new Fields(this);
    change.accept(f);
    return new Config(f.id, f.group, f.electionTimeoutTicks, f.heartbeatIntervalTicks,
        f.preVote, f.checkQuorum, f.forwardProposals, f.maxAppendBytes, f.maxInflightAppends,
        f.snapshotChunkBytes, f.leaseReads, f.leaseDriftMarginTicks, f.quiesceAfterTicks,
        f.streamSnapshots, f.plantedBugs);
  }

  /** The record's components, mutable, for {@link #edit}. */
  private static final class Fields {
    long id;
    long group;
    int electionTimeoutTicks;
    int heartbeatIntervalTicks;
    boolean preVote;
    boolean checkQuorum;
    boolean forwardProposals;
    long maxAppendBytes;
    int maxInflightAppends;
    int snapshotChunkBytes;
    boolean leaseReads;
    int leaseDriftMarginTicks;
    int quiesceAfterTicks;
    boolean streamSnapshots;
    Set<PlantedBug> plantedBugs;

    Fields(Config c) {
      id = c.id;
      group = c.group;
      electionTimeoutTicks = c.electionTimeoutTicks;
      heartbeatIntervalTicks = c.heartbeatIntervalTicks;
      preVote = c.preVote;
      checkQuorum = c.checkQuorum;
      forwardProposals = c.forwardProposals;
      maxAppendBytes = c.maxAppendBytes;
      maxInflightAppends = c.maxInflightAppends;
      snapshotChunkBytes = c.snapshotChunkBytes;
      leaseReads = c.leaseReads;
      leaseDriftMarginTicks = c.leaseDriftMarginTicks;
      quiesceAfterTicks = c.quiesceAfterTicks;
      streamSnapshots = c.streamSnapshots;
      plantedBugs = c.plantedBugs;
    }
  }
}
