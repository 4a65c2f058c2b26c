package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.detraft.core.Message.AppendResponse;
import io.detraft.core.Message.VoteResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One replica (node 1 of group 1) over a memory storage, fed with hand-written messages and
 * Readies handled as a host would (persist, then advance). The other nodes exist only as the
 * messages a test writes on their behalf.
 */
final class SingleReplica {
  final MemoryLogStorage storage;
  final RawNode raw;
  /** Every ReadState released so far, oldest first. */
  final List<ReadState> reads = new ArrayList<>();

  SingleReplica(Config config, Membership membership) {
    this(config, new MemoryLogStorage(membership));
  }

  SingleReplica(Config config, MemoryLogStorage storage) {
    this(config, storage, storage);
  }

  /** A replica that reads through {@code view} what the test writes to {@code storage}. */
  SingleReplica(Config config, MemoryLogStorage storage, LogStorage view) {
    this.storage = storage;
    this.raw = new RawNode(config, view, config.id());
  }

  /** Config of node 1 (or {@code id}): election timeout 10 ticks, heartbeat 1, no CheckQuorum. */
  static Config config(long id) {
    return Config.defaults(id).withTimeouts(10, 1).withCheckQuorum(false).withPreVote(false);
  }

  /**
   * Node 1 elected leader of term 1 by the other voters; the voters in {@code ackers}
   * acknowledge its first entry (index 1), which commits once they and it form a majority.
   */
  static SingleReplica leader(Config config, Membership membership, long... ackers) {
    SingleReplica r = new SingleReplica(config, membership);
    r.raw.campaign();
    r.drain();
    for (long voter : membership.voters()) {
      if (voter != 1 && r.status().role() != Role.LEADER) {
        r.answer(new VoteResponse(1, voter, 1, 1, true, false));
      }
    }
    assertEquals(Role.LEADER, r.status().role());
    for (long node : ackers) {
      r.answer(ack(node, 1, 1));
    }
    return r;
  }

  static AppendResponse ack(long from, long term, long index) {
    return new AppendResponse(1, from, 1, term, false, index, 0, 0);
  }

  /** Handles every Ready and returns the messages sent. */
  List<Message> drain() {
    List<Message> sent = new ArrayList<>();
    while (raw.hasReady()) {
      Ready rd = raw.ready();
      if (rd.hardState() != null) {
        storage.setHardState(rd.hardState());
      }
      if (rd.snapshot() != null) {
        storage.installSnapshot(rd.snapshot());
      }
      storage.append(rd.entries());
      sent.addAll(rd.messages());
      reads.addAll(rd.readStates());
      raw.advance(rd);
    }
    return sent;
  }

  /** Steps one message and returns what the replica sent in answer. */
  List<Message> answer(Message m) {
    raw.step(m);
    return drain();
  }

  /** The single message sent in answer to {@code m}, of the given type. */
  <T extends Message> T onlyAnswer(Message m, Class<T> type) {
    List<Message> sent = answer(m);
    assertEquals(1, sent.size(), "answers to " + m + ": " + sent);
    return assertInstanceOf(type, sent.get(0));
  }

  /** {@code ticks} ticks, each followed by its Ready; returns the messages sent. */
  List<Message> tick(int ticks) {
    List<Message> sent = new ArrayList<>();
    for (int i = 0; i < ticks; i++) {
      raw.tick();
      sent.addAll(drain());
    }
    return sent;
  }

  Status status() {
    return raw.status();
  }

  /** The messages of type {@code type} sent to {@code to}. */
  static <T extends Message> List<T> sentTo(List<Message> sent, long to, Class<T> type) {
    return sent.stream().filter(m -> m.to() == to && type.isInstance(m)).map(type::cast)
        .toList();
  }
}
