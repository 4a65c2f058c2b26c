package io.detraft.sim;

import io.detraft.core.Membership;
import java.util.ArrayList;
import java.util.List;

/**
 * The membership oracle of one group, watching the rule rather than its consequences: any two
 * configurations that can be in effect at once (the committed one, and every one durable in
 * some node's log beyond the commit index) must have intersecting quorums; otherwise two
 * leaders could each be elected, and each commit, by a majority the other never heard from
 * (the single-server change bug reported on raft-dev in 2015). Single-step changes from the
 * committed configuration always intersect; two different changes from the same
 * configuration of an even size need not. And one leader (one term) never holds two
 * uncommitted changes: the second is a single step from the first, not from what committed.
 */
final class MembershipOracle {
  /** A configuration durable in some log beyond the commit index. */
  private record Pending(long index, long term, Membership config) {}

  private final List<Pending> pending = new ArrayList<>();
  /** The highest commit index any node wrote to its hard state. */
  private long knownCommit;
  /** The highest term of an entry at such a commit index: a committed term. */
  private long knownCommittedTerm;

  /**
   * A node wrote {@code commit} to its hard state, its entry there of {@code term} (0:
   * unknown): what its log holds up to there is committed, so no other configuration at or
   * below it can take effect, and the one that did is where the next change starts from.
   * The term counts before anyone applies the entry (seed 500000000000000514: a new leader
   * committed its term's no-op and appended a membership change in one Ready).
   */
  void onCommit(long commit, long term) {
    knownCommit = Math.max(knownCommit, commit);
    knownCommittedTerm = Math.max(knownCommittedTerm, term);
  }

  /**
   * Node {@code node} made {@code config}, of {@code term}, durable at {@code index}; {@code
   * appliedTerm} is the term of the highest entry known applied. Returns the violation, or
   * null.
   */
  String onConfig(int node, long index, long term, Membership config, long appliedTerm) {
    long committedTerm = Math.max(appliedTerm, knownCommittedTerm);
    // Out of play: a configuration at or below a commit index (committed, or replaced there;
    // the next change starts from the committed one), and one of a term older than a
    // committed entry: no log holding it can win an election any more. That is why a new
    // leader commits an entry of its term before it changes the membership.
    pending.removeIf(p -> p.index <= knownCommit || p.term < committedTerm);
    if (index <= knownCommit || term < committedTerm) {
      return null;
    }
    for (Pending p : pending) {
      if (p.term == term && p.index != index) {
        // One leader per term: it appended a second change before the first committed.
        pending.add(new Pending(index, term, config));
        return "the leader of term " + term + " holds two uncommitted membership changes, "
            + p.config + " at index " + p.index + " and " + config + " at index " + index
            + " (n" + node + " made the second durable): one change at a time";
      }
    }
    String broken = null;
    for (Pending p : pending) {
      if (broken == null && !p.config.equals(config)) {
        broken = disjoint(config, p.config, p.config + " (term " + p.term + ", index "
            + p.index + ", in some log)");
      }
    }
    pending.add(new Pending(index, term, config));
    return broken == null ? null : "n" + node + " holds " + config + " at index " + index
        + " while " + broken + " can be in effect too: a majority of each can be disjoint,"
        + " so two leaders could commit without hearing of each other";
  }

  /** Null if every quorum of {@code a} meets every quorum of {@code b}, else {@code what}. */
  private static String disjoint(Membership a, Membership b, String what) {
    return canBeDisjoint(a, b) ? what : null;
  }

  /**
   * Two quorums can be disjoint iff the voters only one side has, plus a share of the common
   * voters, can fill both majorities: max(0, qa - |a \ b|) + max(0, qb - |b \ a|) <= |a ∩ b|.
   */
  static boolean canBeDisjoint(Membership a, Membership b) {
    int common = 0;
    for (long v : a.voters()) {
      if (b.isVoter(v)) {
        common++;
      }
    }
    int onlyA = a.voters().length - common;
    int onlyB = b.voters().length - common;
    return Math.max(0, a.quorum() - onlyA) + Math.max(0, b.quorum() - onlyB) <= common;
  }
}
