package io.detraft.core;

import java.util.Arrays;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/** Majority arithmetic over a set of voters. */
final class Quorum {
  private Quorum() {}

  enum VoteResult {
    PENDING,
    WON,
    LOST
  }

  /**
   * The largest index acknowledged by a majority of {@code voters}: sort the acknowledged
   * indexes in descending order and take the quorum-th.
   */
  static long committedIndex(Membership membership, LongUnaryOperator acknowledged) {
    long[] voters = membership.voters();
    if (voters.length == 0) {
      return 0;
    }
    long[] indexes = new long[voters.length];
    for (int i = 0; i < voters.length; i++) {
      indexes[i] = acknowledged.applyAsLong(voters[i]);
    }
    Arrays.sort(indexes);
    return indexes[voters.length - membership.quorum()];
  }

  /** Tallies votes (voter id to granted) cast by {@code membership}'s voters. */
  static VoteResult voteResult(Membership membership, Map<Long, Boolean> votes) {
    int granted = 0;
    int rejected = 0;
    for (long voter : membership.voters()) {
      Boolean vote = votes.get(voter);
      if (vote == null) {
        continue;
      }
      if (vote) {
        granted++;
      } else {
        rejected++;
      }
    }
    int quorum = membership.quorum();
    if (granted >= quorum) {
      return VoteResult.WON;
    }
    if (rejected > membership.voters().length - quorum) {
      return VoteResult.LOST;
    }
    return VoteResult.PENDING;
  }
}
