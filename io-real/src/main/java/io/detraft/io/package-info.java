/**
 * detraft's real adapters: the core's Ready contract carried out on real disks and sockets.
 *
 * <ul>
 *   <li>{@link io.detraft.io.WriteAheadLog}: one segmented, pre-allocated, checksummed log for
 *       every group of a node, one fsync per batch (group commit); recovery cuts a torn tail
 *       and refuses damage a crash cannot explain ({@link io.detraft.io.StorageCorruptionException}).
 *   <li>{@link io.detraft.io.SnapshotStore}: crash-atomic, checksummed snapshot files with
 *       the Raft metadata (index, term, membership) a restart needs.
 *   <li>{@link io.detraft.io.TcpTransport}: length-framed codec messages over TCP, with a
 *       handshake (cluster id, node id, versions), bounded send queues and reconnect backoff.
 *   <li>{@link io.detraft.io.NodeRunner}: one thread per node runs the Ready loop over all of
 *       its groups (a core {@code RaftHost}); takes snapshots and compacts the log behind
 *       them, installs snapshots from leaders, restarts from snapshot plus log; proposals,
 *       linearizable reads, membership changes and leadership transfers return futures
 *       ({@link io.detraft.io.ProposalException}).
 * </ul>
 *
 * <p>Everything else in this package is an internal part of those four. Benchmarks live in
 * {@code io.detraft.io.bench}.
 */
package io.detraft.io;
