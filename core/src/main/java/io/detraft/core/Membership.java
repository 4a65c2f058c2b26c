package io.detraft.core;

import java.util.Arrays;

/**
 * The voters of a group, sorted and de-duplicated so iteration order is deterministic.
 * Invariant: ids are positive (0 means "none" everywhere in detraft).
 */
public record Membership(long[] voters) {
  public Membership {
    Invariants.check(voters != null, "voters is null");
    voters = Arrays.stream(voters).sorted().distinct().toArray();
    for (long id : voters) {
      Invariants.check(id > 0, "node ids must be positive: %s", id);
    }
  }

  public static Membership of(long... voters) {
    return new Membership(voters);
  }

  public boolean isVoter(long id) {
    return Arrays.binarySearch(voters, id) >= 0;
  }

  /** The smallest number of voters that forms a majority. */
  public int quorum() {
    return voters.length / 2 + 1;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Membership m && Arrays.equals(voters, m.voters);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(voters);
  }

  @Override
  public String toString() {
    return "voters=" + Arrays.toString(voters);
  }
}
