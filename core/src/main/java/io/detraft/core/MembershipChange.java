package io.detraft.core;

/**
 * One single-server membership change (thesis §4.1). Changing one voter at a time keeps every
 * majority of the old voters overlapping every majority of the new ones, so no joint
 * configuration is needed.
 */
public record MembershipChange(Type type, long node) {
  public enum Type {
    /** Adds a voter directly (prefer a learner first, so it catches up without voting). */
    ADD_VOTER,
    /** Adds a non-voting member that receives the log. */
    ADD_LEARNER,
    /**
     * Adds a witness: a voter that keeps only the log's metadata and never leads (see {@link
     * Membership}). A witness is only ever removed, never promoted or demoted, and its id is
     * never given to a data member later (its log holds no payloads).
     */
    ADD_WITNESS,
    /** Turns a caught-up learner into a voter. */
    PROMOTE_LEARNER,
    /** Turns a voter into a learner. */
    DEMOTE_VOTER,
    /** Removes a voter or learner; the leader may remove itself and steps down once done. */
    REMOVE
  }

  public MembershipChange {
    Invariants.check(type != null, "change type is null");
    Invariants.check(node > 0, "node id must be positive: %s", node);
  }
}
