package io.detraft.io;

import io.detraft.core.ReadState;
import io.detraft.io.ProposalException.Reason;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * One group's linearizable reads on their way through ReadIndex (thesis §6.4): first waiting
 * for the leader to confirm a read index (a {@link ReadState} carrying the read's context),
 * then waiting for this replica to apply up to that index. Each future completes exactly once:
 * with the read index, on the Raft thread, once the state machine reflects it; or with a
 * {@link ProposalException}. Touched only by the Raft thread.
 */
final class PendingReads {
  /** A read waiting for its index (0 until confirmed) and then for the apply. */
  private record Waiting(long index, CompletableFuture<Long> future, long deadlineNanos) {
    Waiting at(long confirmedIndex) {
      return new Waiting(confirmedIndex, future, deadlineNanos);
    }
  }

  /**
   * Contexts count up from a random start drawn at each start of the node: a counter from 0
   * would repeat the contexts of an earlier incarnation, and a ReadState answering one of
   * those, delivered late in the same term, would release a new read at an old index (the
   * simulator found that: a replayed answer served a read 19 entries stale).
   */
  private long lastContext;

  PendingReads(long start) {
    this.lastContext = start;
  }
  /** Unconfirmed reads by context, oldest first (deadlines grow in that order). */
  private final LinkedHashMap<Long, Waiting> unconfirmed = new LinkedHashMap<>();
  /** Confirmed reads by index, waiting for the apply. */
  private final PriorityQueue<Waiting> confirmed =
      new PriorityQueue<>((a, b) -> Long.compare(a.index, b.index));

  /** Registers a read and returns the context to pass to {@code RawNode.readIndex}. */
  byte[] register(CompletableFuture<Long> future, long deadlineNanos) {
    long context = ++lastContext;
    unconfirmed.put(context, new Waiting(0, future, deadlineNanos));
    return ByteBuffer.allocate(8).putLong(context).array();
  }

  /** The core did not take the read registered last: fails it with {@code error}. */
  void refuse(byte[] context, ProposalException error) {
    Waiting w = unconfirmed.remove(ByteBuffer.wrap(context).getLong());
    w.future.completeExceptionally(error);
  }

  /**
   * A read index arrived; the read completes now if {@code applied} covers it. Returns
   * whether it must wait for the apply.
   */
  boolean confirm(ReadState state, long applied) {
    if (state.context().length != 8) {
      return false; // Not one of ours.
    }
    Waiting w = unconfirmed.remove(ByteBuffer.wrap(state.context()).getLong());
    if (w == null) {
      return false; // Already timed out or abandoned.
    }
    if (state.index() <= applied) {
      w.future.complete(state.index());
      return false;
    }
    confirmed.add(w.at(state.index()));
    return true;
  }

  /** Completes the confirmed reads that {@code applied} now covers. */
  void applied(long applied) {
    while (!confirmed.isEmpty() && confirmed.peek().index <= applied) {
      Waiting w = confirmed.poll();
      w.future.complete(w.index);
    }
  }

  /**
   * The leader changed: the core drops unconfirmed reads then, so fail them at once (a read
   * has no effect, so a retry is always safe). Confirmed ones stay valid and keep waiting.
   */
  void failUnconfirmed(Reason reason, long leaderHint, String why) {
    for (Waiting w : unconfirmed.values()) {
      fail(w, reason, leaderHint, why);
    }
    unconfirmed.clear();
  }

  void expire(long nowNanos, long leaderHint) {
    for (Iterator<Waiting> it = unconfirmed.values().iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (w.deadlineNanos - nowNanos >= 0) {
        break;
      }
      fail(w, Reason.TIMEOUT, leaderHint, "read index not confirmed in time");
      it.remove();
    }
    if (!confirmed.isEmpty()) {
      confirmed.removeIf(w -> w.deadlineNanos - nowNanos < 0
          && fail(w, Reason.TIMEOUT, leaderHint, "read index " + w.index + " not applied in time"));
    }
  }

  void failAll(Reason reason, long leaderHint, String why) {
    failUnconfirmed(reason, leaderHint, why);
    for (Waiting w; (w = confirmed.poll()) != null; ) {
      fail(w, reason, leaderHint, why);
    }
  }

  private static boolean fail(Waiting w, Reason reason, long leaderHint, String why) {
    w.future.completeExceptionally(new ProposalException(reason, leaderHint, why));
    return true;
  }
}
