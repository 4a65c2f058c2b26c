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
 */
public record Ready(
    SoftState softState,
    HardState hardState,
    Snapshot snapshot,
    List<Entry> entries,
    List<Entry> committedEntries,
    List<Message> messages,
    List<ReadState> readStates,
    boolean mustSync) {

  public Ready {
    entries = List.copyOf(entries);
    committedEntries = List.copyOf(committedEntries);
    messages = List.copyOf(messages);
    readStates = List.copyOf(readStates);
  }
}
