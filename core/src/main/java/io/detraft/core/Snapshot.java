package io.detraft.core;

import java.util.Arrays;

/**
 * A state machine image that replaces every log entry up to {@code index}.
 *
 * @param index the last entry the image includes
 * @param term that entry's term (so log matching still works right after the snapshot)
 * @param membership the membership in force at {@code index}
 * @param data the state machine's serialized state; owned by the snapshot, never mutated
 */
public record Snapshot(long index, long term, Membership membership, byte[] data) {
  public Snapshot {
    Invariants.check(index >= 0 && term >= 0, "negative snapshot index or term");
    Invariants.check(index == 0 || term >= 1, "snapshot at %s has no term", index);
    Invariants.check(membership != null, "snapshot membership is null");
    data = data == null ? new byte[0] : data;
  }

  /** The snapshot of an empty log. */
  public static Snapshot empty(Membership membership) {
    return new Snapshot(0, 0, membership, new byte[0]);
  }

  public boolean isEmpty() {
    return index == 0;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Snapshot s
        && index == s.index
        && term == s.term
        && membership.equals(s.membership)
        && Arrays.equals(data, s.data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(index) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Snapshot{" + index + "@" + term + " " + membership + " " + data.length + "B}";
  }
}
