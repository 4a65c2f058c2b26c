package io.detraft.core;

import java.util.List;

/**
 * A batch of work for the host; see the package documentation for the order in which to do it.
 *
 * @param softState the new role/leader, or null if unchanged
 * @param hardState the hard state to persist, or null if unchanged
 * @param snapshot a snapshot received from the leader, or null: persist it (it replaces the
 *     whole log), then restore the state machine from it before applying committed entries
 * @param entries entries to append to storage (persist before sending)
 * @param committedEntries entries to apply to the state machine, in index order
 * @param messages messages to send once the writes are durable
 * @param readStates confirmed reads; serve each once its index is applied
 * @param mustSync whether the writes must be fsynced before sending (term, vote or entries
 *     changed); a commit-index-only change may be written lazily
 * @param replicationBeforeSync this replica leads and this Ready changes neither its term nor
 *     its vote: its replication messages may leave before the fsync (see
 *     {@link #maySendBeforeSync})
 * @param snapshotChunks with {@link Config#streamSnapshots}: pieces of a snapshot from the
 *     leader, to write (in order) before anything else of this Ready; {@code snapshot} then
 *     carries metadata only, and its image is what the chunks wrote
 */
public record Ready(
    SoftState softState,
    HardState hardState,
    Snapshot snapshot,
    List<Entry> entries,
    List<Entry> committedEntries,
    List<Message> messages,
    List<ReadState> readStates,
    boolean mustSync,
    boolean replicationBeforeSync,
    List<SnapshotChunk> snapshotChunks) {

  public Ready {
    snapshotChunks = List.copyOf(snapshotChunks);
    entries = List.copyOf(entries);
    committedEntries = List.copyOf(committedEntries);
    messages = List.copyOf(messages);
    readStates = List.copyOf(readStates);
  }

  /** A Ready without snapshot chunks. */
  public Ready(SoftState softState, HardState hardState, Snapshot snapshot, List<Entry> entries,
      List<Entry> committedEntries, List<Message> messages, List<ReadState> readStates,
      boolean mustSync, boolean replicationBeforeSync) {
    this(softState, hardState, snapshot, entries, committedEntries, messages, readStates,
        mustSync, replicationBeforeSync, List.of());
  }

  /**
   * Whether {@code m} may be sent before this Ready's writes are durable. A leader's
   * AppendRequest, Heartbeat and InstallSnapshot claim nothing about its own disk: it counts
   * its own copy of new entries only in {@code advance}, after the host persisted them, and
   * the commit index they carry rests on durable copies alone. So the leader may write its
   * log in parallel with replicating it (Raft thesis §10.2.1), which takes one fsync off the
   * latency of every commit. The term they carry must be durable already: a leader that
   * crashed before its term reached the disk could lead that term a second time with another
   * log. Votes and acknowledgements always wait for the fsync.
   */
  public boolean maySendBeforeSync(Message m) {
    return replicationBeforeSync && (m instanceof Message.AppendRequest
        || m instanceof Message.Heartbeat || m instanceof Message.InstallSnapshot);
  }
}
