package io.detraft.sim;

/**
 * One scheduled happening. A plain mutable holder (not a record) so the queue can stamp the
 * sequence number; the fields' meaning depends on {@link #kind}, see {@link Kind}.
 */
final class Event {
  /** What an event does. Node-scoped kinds carry the incarnation they were scheduled for. */
  enum Kind {
    /** node: whose ticker fired; first: incarnation. */
    TICK,
    /**
     * node: receiver; peer: sender; payload: encoded message bytes; first: bytes' hash;
     * second: 1 for a replay of an older packet, else 2 × the connection it was sent on (see
     * {@link SimConnections}).
     */
    DELIVER,
    /**
     * A dialer's hello reaches the listener, or its answer the dialer. node: receiver; peer:
     * sender (0: a stray dialer from outside the cluster); first: the dial attempt; second: 1
     * for an answer; payload: the handshake's bytes.
     */
    HANDSHAKE,
    /** node: the dialer; peer: the listener; first: the attempt that may have timed out. */
    HANDSHAKE_TIMEOUT,
    /** node: whose fsync completed; first: incarnation. */
    SYNC_DONE,
    /** node: the node asked; payload: the client request. */
    CLIENT_REQUEST,
    /** payload: the reply; first: client index. */
    CLIENT_REPLY,
    /** first: client index; the client starts its next operation. */
    CLIENT_NEXT,
    /** first: client index; second: the request id that timed out. */
    CLIENT_TIMEOUT,
    /**
     * The nemesis acts; first: which action (see {@link Nemesis.Action}); node: the node acted
     * on (for a membership change, the group); second: 1 for a one-off membership change;
     * payload: a retried {@link Nemesis.Admin}.
     */
    NEMESIS,
    /** The safety phase ends: heal everything. */
    HEAL_ALL,
    /** Periodic check of the liveness phase's goal. */
    LIVENESS_CHECK
  }

  final long time;
  long sequence;
  final Kind kind;
  final int node;
  final int peer;
  final long first;
  final long second;
  final Object payload;

  Event(long time, Kind kind, int node, int peer, long first, long second, Object payload) {
    this.time = time;
    this.kind = kind;
    this.node = node;
    this.peer = peer;
    this.first = first;
    this.second = second;
    this.payload = payload;
  }
}
