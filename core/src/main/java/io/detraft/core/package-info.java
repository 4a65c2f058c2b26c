/**
 * detraft's pure Raft core: one Raft group replica as a deterministic state machine.
 *
 * <p>Nothing in this package reads a clock, starts a thread, performs I/O or draws
 * unseeded randomness; an architecture test keeps it so. Time is counted in ticks and all
 * randomness (election jitter) comes from a {@link io.detraft.core.Prng} seeded by the host.
 *
 * <h2>The Ready contract</h2>
 *
 * <p>{@link io.detraft.core.RawNode#tick()}, {@link io.detraft.core.RawNode#step},
 * {@link io.detraft.core.RawNode#propose} only accumulate work. The host then loops:
 *
 * <ol>
 *   <li>{@code if (node.hasReady()) Ready rd = node.ready();}
 *   <li><b>Persist</b>: write {@code rd.hardState()} (when non-null) and append
 *       {@code rd.entries()} to its {@link io.detraft.core.LogStorage} (an append at index
 *       {@code i} discards any stored entries at {@code i} and above). When
 *       {@code rd.mustSync()} is true the writes must be durable (fsync) before step 3: a vote
 *       or an acknowledgement sent before its cause is durable can elect two leaders in a term
 *       or lose a committed entry after a crash.
 *   <li><b>Send</b> {@code rd.messages()}; loss, duplication and reordering are tolerated.
 *       A host may send the messages for which {@code rd.maySendBeforeSync(m)} holds (a
 *       leader's replication, once its term is durable) before step 2's fsync, so that the
 *       leader's disk and its followers' disks write in parallel.
 *   <li><b>Apply</b> {@code rd.committedEntries()} to the state machine, in order.
 *   <li>{@code node.advance(rd)}. No other call on the node may come between {@code ready()}
 *       and {@code advance()}; the node checks this.
 * </ol>
 *
 * <p>On restart the host builds a new {@link io.detraft.core.RawNode} over what its storage
 * holds durably; the node recovers term, vote, commit index and log from it.
 */
package io.detraft.core;
