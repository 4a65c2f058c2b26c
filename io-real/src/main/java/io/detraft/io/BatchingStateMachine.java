package io.detraft.io;

import io.detraft.core.StateMachine;

/**
 * A state machine that applies the committed entries of one Ready as a unit. The runner calls
 * {@link #beginBatch()}, then {@link #apply} for each entry of the run, then
 * {@link #endBatch()}, and only then hands the entries' results to whoever waits for them,
 * confirms reads, or takes a snapshot.
 *
 * <p>Between the two calls, {@code apply} may stage its writes instead of making each entry
 * visible on its own; {@code endBatch} makes the whole run visible (and, for a state machine
 * that persists itself, as durable as a single entry would have been). A state machine that
 * writes through to its own storage thereby pays for one durable unit per batch instead of per
 * entry. Outside a batch, {@code apply} behaves as a plain {@link StateMachine}'s.
 *
 * <p>Restoring a snapshot and taking one never happen inside a batch.
 */
public interface BatchingStateMachine extends StateMachine {
  /** Entries follow; {@link #apply} may stage them until {@link #endBatch()}. */
  void beginBatch();

  /** Makes every entry applied since {@link #beginBatch()} visible. */
  void endBatch();
}
