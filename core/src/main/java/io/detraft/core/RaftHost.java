package io.detraft.core;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Many Raft groups on one node (multi-raft, as dragonboat's NodeHost), still pure and
 * deterministic: one tick source for every group, messages routed by group id, and one
 * combined {@link Ready} batch so the host persists every group's writes with a single fsync
 * before sending anything.
 *
 * <p>The contract is each group's Ready contract, batched: take {@link #ready()}, persist all
 * of it (fsync once if {@link Batch#mustSync()}), send all messages, apply each group's
 * committed entries, then {@link #advance}.
 */
public final class RaftHost {
  /** One group's share of a batch. */
  public record GroupReady(long group, Ready ready) {}

  /** Every group's Ready, in group id order. */
  public record Batch(List<GroupReady> groups) {
    public Batch {
      groups = List.copyOf(groups);
    }

    public boolean mustSync() {
      return groups.stream().anyMatch(g -> g.ready().mustSync());
    }

    /** Every message of every group, in group order. */
    public List<Message> messages() {
      List<Message> all = new ArrayList<>();
      for (GroupReady g : groups) {
        all.addAll(g.ready().messages());
      }
      return all;
    }

    /**
     * The messages that may leave before the fsync ({@code early}, see {@link
     * Ready#maySendBeforeSync}) or only after it, in group order.
     */
    public List<Message> messages(boolean early) {
      List<Message> some = new ArrayList<>();
      for (GroupReady g : groups) {
        Ready ready = g.ready();
        for (Message m : ready.messages()) {
          if (ready.maySendBeforeSync(m) == early) {
            some.add(m);
          }
        }
      }
      return some;
    }
  }

  private final long nodeId;
  private final TreeMap<Long, RawNode> groups = new TreeMap<>();
  /**
   * The groups in id order, as arrays: tick, hasReady and ready visit every group on every
   * tick and round, and walking a TreeMap's scattered entries showed in profiles of a
   * thousand groups.
   */
  private long[] orderedIds = new long[0];
  private RawNode[] ordered = new RawNode[0];
  private Batch outstanding;
  /** Messages for groups this host does not run (e.g. removed, or not yet created). */
  private long unroutable;

  public RaftHost(long nodeId) {
    Invariants.check(nodeId > 0, "node id must be positive: %s", nodeId);
    this.nodeId = nodeId;
  }

  /** Starts hosting a group; {@code config.id()} must be this host's node id. */
  public RawNode addGroup(Config config, LogStorage storage, long seed, long appliedIndex) {
    checkNoOutstandingBatch();
    Invariants.check(config.id() == nodeId, "group config for node %s on host %s",
        config.id(), nodeId);
    Invariants.check(!groups.containsKey(config.group()), "group %s already hosted",
        config.group());
    RawNode node = new RawNode(config, storage, seed, appliedIndex);
    groups.put(config.group(), node);
    reorder();
    return node;
  }

  public void removeGroup(long group) {
    checkNoOutstandingBatch();
    groups.remove(group);
    reorder();
  }

  /** The replica of {@code group}, for proposals, reads and admin; null if not hosted. */
  public RawNode group(long group) {
    return groups.get(group);
  }

  public List<Long> groupIds() {
    return List.copyOf(groups.keySet());
  }

  /** One tick for every group. */
  public void tick() {
    checkNoOutstandingBatch();
    for (RawNode node : ordered) {
      node.tick();
    }
  }

  private void reorder() {
    orderedIds = groups.keySet().stream().mapToLong(Long::longValue).toArray();
    ordered = groups.values().toArray(new RawNode[0]);
  }

  /**
   * Routes a message to its group. A message for a group this host does not run is counted
   * and dropped: Raft tolerates loss, and a removed group's peers stop sending eventually.
   */
  public void step(Message message) {
    checkNoOutstandingBatch();
    RawNode node = groups.get(message.group());
    if (node == null) {
      unroutable++;
      return;
    }
    node.step(message);
  }

  public long unroutableMessages() {
    return unroutable;
  }

  public boolean hasReady() {
    if (outstanding != null) {
      return false;
    }
    for (RawNode node : ordered) {
      if (node.touched) {
        if (node.hasReady()) {
          return true;
        }
        node.touched = false; // nothing to do until its next input
      }
    }
    return false;
  }

  /** Every group's pending work in one batch. */
  public Batch ready() {
    checkNoOutstandingBatch();
    List<GroupReady> ready = new ArrayList<>();
    for (int i = 0; i < ordered.length; i++) {
      if (ordered[i].touched && ordered[i].hasReady()) {
        ready.add(new GroupReady(orderedIds[i], ordered[i].ready()));
      }
    }
    outstanding = new Batch(ready);
    return outstanding;
  }

  public void advance(Batch batch) {
    Invariants.check(batch != null && batch == outstanding, "advance without matching ready()");
    outstanding = null;
    for (GroupReady g : batch.groups()) {
      groups.get(g.group()).advance(g.ready());
    }
  }

  private void checkNoOutstandingBatch() {
    Invariants.check(outstanding == null, "a batch is outstanding: call advance() first");
  }
}
