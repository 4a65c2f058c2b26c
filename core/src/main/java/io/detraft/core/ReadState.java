package io.detraft.core;

import java.util.Arrays;

/**
 * A confirmed linearizable read: once the host has applied {@code index}, it may serve the
 * read identified by {@code context} from its state machine.
 */
public record ReadState(long index, byte[] context) {
  @Override
  public boolean equals(Object other) {
    return other instanceof ReadState r && index == r.index
        && Arrays.equals(context, r.context);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(index) * 31 + Arrays.hashCode(context);
  }

  @Override
  public String toString() {
    return "ReadState{" + index + " " + context.length + "B}";
  }
}
