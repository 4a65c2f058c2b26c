package io.detraft.core;

/**
 * Disaster recovery for a group that permanently lost its quorum (most voters' disks are
 * gone). <b>This is unsafe by design</b>, as hashicorp/raft's RecoverCluster and dragonboat's
 * ImportSnapshot are: it throws away Raft's guarantees for the group. Entries committed after
 * the exported snapshot may be lost, and running the old members next to the rebuilt ones
 * can elect two leaders. Use it only when the old quorum can never return, with every old
 * replica stopped for good.
 *
 * <p>Procedure: export the most recent snapshot from any surviving replica (the host's
 * {@link LogStorage#snapshot()}); choose the new membership; on every new member, start from
 * empty storage prepared by {@link #rebuild} with the same snapshot, membership and term; then
 * start the replicas normally. They elect a leader among themselves and continue from the
 * snapshot.
 */
public final class UnsafeRecovery {
  private UnsafeRecovery() {}

  /**
   * Returns storage holding only {@code exported}, re-labelled with {@code newMembership}, and
   * a hard state at {@code term} with the snapshot committed. {@code term} must exceed every
   * term the old group used (pass the highest term any survivor saw, plus one), so no old
   * message can be mistaken for a current one.
   */
  public static MemoryLogStorage rebuild(Snapshot exported, Membership newMembership,
      long term) {
    Invariants.check(!exported.isEmpty(), "cannot rebuild from an empty snapshot");
    Invariants.check(newMembership.voters().length >= 1, "the new membership has no voter");
    Invariants.check(term > exported.term(), "term %s must exceed the snapshot's term %s",
        term, exported.term());
    Snapshot relabelled = new Snapshot(exported.index(), exported.term(), newMembership,
        exported.data());
    MemoryLogStorage storage = new MemoryLogStorage(newMembership);
    storage.installSnapshot(relabelled);
    storage.setHardState(new HardState(term, 0, exported.index()));
    return storage;
  }
}
