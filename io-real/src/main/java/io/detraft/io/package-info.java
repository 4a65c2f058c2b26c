/**
 * The node layer, which both worlds run, and detraft's real adapters.
 *
 * <p><b>The node layer</b> (no threads, no clock, no I/O but through a {@link
 * io.detraft.io.Disk}; an architecture test keeps it so):
 *
 * <ul>
 *   <li>{@link io.detraft.io.Node}: one node's logic: the Ready loop over all of its groups (a
 *       core {@code RaftHost}) in persist / sync / finish rounds, recovery, applying committed
 *       entries (in batches for a {@link io.detraft.io.BatchingStateMachine}), the outcomes of
 *       proposals, reads, membership changes and leadership transfers
 *       ({@link io.detraft.io.ProposalException}), snapshots by policy;
 *   <li>{@link io.detraft.io.NodeStorage}: one node's durable state: the {@link
 *       io.detraft.io.WriteAheadLog} all groups share (segmented, pre-allocated, CRC32C, one
 *       fsync per batch; recovery cuts a torn tail and refuses damage a crash cannot explain,
 *       {@link io.detraft.io.StorageCorruptionException}) and the {@link
 *       io.detraft.io.SnapshotStore} (crash-atomic, checksummed files).
 * </ul>
 *
 * <p><b>The real adapters</b>, thin on purpose:
 *
 * <ul>
 *   <li>{@link io.detraft.io.RealDisk}: FileChannel, fdatasync, directory fsync, the WAL's
 *       pre-allocation thread;
 *   <li>{@link io.detraft.io.TcpTransport}: length-framed codec messages over TCP, with a
 *       handshake (cluster id, node id, versions), bounded send queues and reconnect backoff;
 *   <li>{@link io.detraft.io.NodeRunner}: the thread that runs a {@link io.detraft.io.Node}
 *       with the wall clock, bounded queues and futures for other threads.
 * </ul>
 *
 * <p>The simulator ({@code io.detraft.sim}) runs the same node layer on its own disk, network
 * and clock. Benchmarks live in {@code io.detraft.io.bench}.
 */
package io.detraft.io;
