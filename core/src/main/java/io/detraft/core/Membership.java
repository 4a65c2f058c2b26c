package io.detraft.core;

import java.util.Arrays;

/**
 * The members of a group: voters, who elect leaders and form quorums, and learners, who
 * receive the log but never vote or count towards a quorum. Some voters may be witnesses (as
 * in dragonboat): they vote and count in quorums like any voter, but keep only the log's
 * metadata (terms, indexes, membership entries; the leader strips every command's payload
 * before sending it) and never campaign, so they never lead. Two data replicas and a witness
 * survive the loss of either data replica at the storage cost of two. All three lists are
 * sorted and de-duplicated so iteration order is deterministic.
 *
 * <p>Invariants: ids are positive (0 means "none" everywhere in detraft); no id is both a
 * voter and a learner; every witness is a voter.
 */
public record Membership(long[] voters, long[] learners, long[] witnesses) {
  public Membership {
    Invariants.check(voters != null && learners != null && witnesses != null,
        "voters, learners or witnesses is null");
    voters = Arrays.stream(voters).sorted().distinct().toArray();
    learners = Arrays.stream(learners).sorted().distinct().toArray();
    witnesses = Arrays.stream(witnesses).sorted().distinct().toArray();
    for (long id : witnesses) {
      Invariants.check(Arrays.binarySearch(voters, id) >= 0, "witness %s is not a voter", id);
    }
    for (long id : voters) {
      Invariants.check(id > 0, "node ids must be positive: %s", id);
    }
    for (long id : learners) {
      Invariants.check(id > 0, "node ids must be positive: %s", id);
      Invariants.check(Arrays.binarySearch(voters, id) < 0, "%s is both voter and learner", id);
    }
  }

  /** Voters and learners, no witnesses. */
  public Membership(long[] voters, long[] learners) {
    this(voters, learners, new long[0]);
  }

  /** Voters only. */
  public static Membership of(long... voters) {
    return new Membership(voters, new long[0]);
  }

  /**
   * The voters with every witness's id negated: how the codecs store witnesses without a new
   * field, so a membership without witnesses encodes exactly as before they existed.
   */
  public long[] votersWitnessesNegated() {
    long[] out = voters.clone();
    for (int i = 0; i < out.length; i++) {
      if (isWitness(out[i])) {
        out[i] = -out[i];
      }
    }
    return out;
  }

  /** The inverse of {@link #votersWitnessesNegated}. */
  public static Membership fromWitnessesNegated(long[] signedVoters, long[] learners) {
    long[] voters = Arrays.stream(signedVoters).map(Math::abs).toArray();
    long[] witnesses = Arrays.stream(signedVoters).filter(v -> v < 0).map(v -> -v).toArray();
    return new Membership(voters, learners, witnesses);
  }

  /** Whether {@code id} is a witness: a voter that keeps no data and never leads. */
  public boolean isWitness(long id) {
    return Arrays.binarySearch(witnesses, id) >= 0;
  }

  public boolean isVoter(long id) {
    return Arrays.binarySearch(voters, id) >= 0;
  }

  public boolean isLearner(long id) {
    return Arrays.binarySearch(learners, id) >= 0;
  }

  public boolean isMember(long id) {
    return isVoter(id) || isLearner(id);
  }

  /** Voters and learners, in id order. */
  public long[] members() {
    long[] all = Arrays.copyOf(voters, voters.length + learners.length);
    System.arraycopy(learners, 0, all, voters.length, learners.length);
    Arrays.sort(all);
    return all;
  }

  /** The smallest number of voters that forms a majority. */
  public int quorum() {
    return voters.length / 2 + 1;
  }

  /** This membership changed by one step; see {@link MembershipChange}. */
  public Membership apply(MembershipChange change) {
    long id = change.node();
    long[] v = voters;
    long[] l = learners;
    long[] w = without(witnesses, id); // a witness stays one only while nothing changes it
    switch (change.type()) {
      case ADD_VOTER -> {
        v = with(v, id);
        l = without(l, id);
      }
      case ADD_WITNESS -> {
        v = with(v, id);
        l = without(l, id);
        w = with(w, id);
      }
      case ADD_LEARNER -> l = with(l, id);
      case PROMOTE_LEARNER -> {
        l = without(l, id);
        v = with(v, id);
      }
      case DEMOTE_VOTER -> {
        v = without(v, id);
        l = with(l, id);
      }
      case REMOVE -> {
        v = without(v, id);
        l = without(l, id);
      }
    }
    return new Membership(v, l, w);
  }

  private static long[] with(long[] ids, long id) {
    long[] out = Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = id;
    return out;
  }

  private static long[] without(long[] ids, long id) {
    return Arrays.stream(ids).filter(x -> x != id).toArray();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Membership m
        && Arrays.equals(voters, m.voters)
        && Arrays.equals(learners, m.learners)
        && Arrays.equals(witnesses, m.witnesses);
  }

  @Override
  public int hashCode() {
    return (Arrays.hashCode(voters) * 31 + Arrays.hashCode(learners)) * 31
        + Arrays.hashCode(witnesses);
  }

  @Override
  public String toString() {
    return "voters=" + Arrays.toString(voters)
        + (learners.length == 0 ? "" : " learners=" + Arrays.toString(learners))
        + (witnesses.length == 0 ? "" : " witnesses=" + Arrays.toString(witnesses));
  }
}
