package io.detraft.core;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Exactly-once client sessions over any {@link StateMachine} (thesis §6.3). A retried command
 * (a lost answer, a duplicated or replayed message, a proposal that reached two leaders)
 * would otherwise apply twice; here each client numbers its commands and the session table
 * remembers the last result per client, so a retry gets the original answer instead.
 *
 * <p>Clients are sequential: one command outstanding at a time, numbered 1, 2, 3, ... A
 * client registers first and is identified by the log index of its registration, which every
 * replica agrees on. Sessions expire deterministically: a session unused for
 * {@code sessionTimeoutEntries} log entries is dropped when the entry that makes it too old is
 * applied, identically on every replica. The table travels in snapshots.
 *
 * <p>Wire format of commands (see the static helpers): a kind byte, then for a session
 * command the client id and sequence as 8-byte big-endian longs, then the payload. Results:
 * a status byte, then the payload.
 */
public final class SessionStateMachine implements StateMachine {
  private static final byte KIND_REGISTER = 1;
  static final byte KIND_COMMAND = 2; // Package-private: tests print commands readably.
  private static final byte KIND_UNSESSIONED = 3;

  /** The outcome of a command run through sessions. */
  public enum Status {
    /** Applied now, or earlier and this is the remembered answer. */
    OK,
    /** The client's session expired or never existed: the command was not applied. */
    SESSION_EXPIRED,
    /** An older sequence than the last one: the client already had this answer. */
    STALE_SEQUENCE,
    /** The command bytes were not a session command. Nothing was applied. */
    MALFORMED
  }

  /** A decoded result; {@code payload} is the inner state machine's result when OK. */
  public record Result(Status status, byte[] payload) {}

  private record Session(long lastSequence, long lastIndex, byte[] lastResult) {}

  private final StateMachine inner;
  private final long sessionTimeoutEntries;
  /** Sessions by client id. */
  private final TreeMap<Long, Session> sessions = new TreeMap<>();
  /** Client id by the index of its last activity, to expire the idlest first. */
  private final TreeMap<Long, Long> byLastIndex = new TreeMap<>();
  private long expiredCount;

  public SessionStateMachine(StateMachine inner, long sessionTimeoutEntries) {
    Invariants.check(inner != null, "inner state machine is null");
    Invariants.check(sessionTimeoutEntries >= 1, "sessionTimeoutEntries must be >= 1");
    this.inner = inner;
    this.sessionTimeoutEntries = sessionTimeoutEntries;
  }

  // ---------------------------------------------------------------- client-side encoding

  public static byte[] register() {
    return new byte[] {KIND_REGISTER};
  }

  public static byte[] command(long clientId, long sequence, byte[] payload) {
    byte[] out = new byte[17 + payload.length];
    out[0] = KIND_COMMAND;
    putLong(out, 1, clientId);
    putLong(out, 9, sequence);
    System.arraycopy(payload, 0, out, 17, payload.length);
    return out;
  }

  /** A command outside any session (e.g. a read through the log): applied every time. */
  public static byte[] unsessioned(byte[] payload) {
    byte[] out = new byte[1 + payload.length];
    out[0] = KIND_UNSESSIONED;
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  public static Result decodeResult(byte[] result) {
    if (result.length == 0 || result[0] < 0 || result[0] >= Status.values().length) {
      return new Result(Status.MALFORMED, new byte[0]);
    }
    return new Result(Status.values()[result[0]], Arrays.copyOfRange(result, 1, result.length));
  }

  /** The client id a successful registration returns. */
  public static long clientIdOf(Result registration) {
    Invariants.check(registration.status() == Status.OK && registration.payload().length == 8,
        "not a successful registration: %s", registration.status());
    return getLong(registration.payload(), 0);
  }

  // ---------------------------------------------------------------- replica side

  @Override
  public byte[] apply(long index, byte[] command) {
    expireOlderThan(index - sessionTimeoutEntries);
    if (command.length == 0) {
      return result(Status.MALFORMED, new byte[0]);
    }
    switch (command[0]) {
      case KIND_REGISTER -> {
        if (command.length != 1) {
          return result(Status.MALFORMED, new byte[0]);
        }
        byte[] id = new byte[8];
        putLong(id, 0, index);
        touch(index, new Session(0, index, new byte[0]));
        return result(Status.OK, id);
      }
      case KIND_COMMAND -> {
        if (command.length < 17) {
          return result(Status.MALFORMED, new byte[0]);
        }
        return applyInSession(index, getLong(command, 1), getLong(command, 9),
            Arrays.copyOfRange(command, 17, command.length));
      }
      case KIND_UNSESSIONED -> {
        return result(Status.OK, inner.apply(index, Arrays.copyOfRange(command, 1,
            command.length)));
      }
      default -> {
        return result(Status.MALFORMED, new byte[0]);
      }
    }
  }

  private byte[] applyInSession(long index, long clientId, long sequence, byte[] payload) {
    Session session = sessions.get(clientId);
    if (session == null) {
      return result(Status.SESSION_EXPIRED, new byte[0]);
    }
    if (sequence == session.lastSequence()) {
      // A retry of the last command: answer as the first time, apply nothing.
      touch(clientId, new Session(sequence, index, session.lastResult()));
      return result(Status.OK, session.lastResult());
    }
    if (sequence < session.lastSequence()) {
      return result(Status.STALE_SEQUENCE, new byte[0]);
    }
    byte[] answer = inner.apply(index, payload);
    touch(clientId, new Session(sequence, index, answer));
    return result(Status.OK, answer);
  }

  private void touch(long clientId, Session session) {
    Session old = sessions.put(clientId, session);
    if (old != null) {
      byLastIndex.remove(old.lastIndex());
    }
    byLastIndex.put(session.lastIndex(), clientId);
  }

  private void expireOlderThan(long index) {
    while (!byLastIndex.isEmpty() && byLastIndex.firstKey() < index) {
      Map.Entry<Long, Long> idlest = byLastIndex.pollFirstEntry();
      sessions.remove(idlest.getValue());
      expiredCount++;
    }
  }

  /** Live sessions; for tests and metrics. */
  public int sessionCount() {
    return sessions.size();
  }

  /** Sessions expired so far by this replica. */
  public long expiredCount() {
    return expiredCount;
  }

  @Override
  public byte[] snapshot() {
    byte[] state = inner.snapshot();
    int size = 8 + 4 + state.length;
    for (Session s : sessions.values()) {
      size += 8 * 3 + 4 + s.lastResult().length;
    }
    byte[] out = new byte[size];
    int at = 0;
    putLong(out, at, sessions.size());
    at += 8;
    for (Map.Entry<Long, Session> e : sessions.entrySet()) {
      Session s = e.getValue();
      putLong(out, at, e.getKey());
      putLong(out, at + 8, s.lastSequence());
      putLong(out, at + 16, s.lastIndex());
      putInt(out, at + 24, s.lastResult().length);
      System.arraycopy(s.lastResult(), 0, out, at + 28, s.lastResult().length);
      at += 28 + s.lastResult().length;
    }
    putInt(out, at, state.length);
    System.arraycopy(state, 0, out, at + 4, state.length);
    return out;
  }

  @Override
  public void restore(byte[] snapshot) {
    sessions.clear();
    byLastIndex.clear();
    int at = 0;
    long count = getLong(snapshot, at);
    at += 8;
    for (long i = 0; i < count; i++) {
      long clientId = getLong(snapshot, at);
      long sequence = getLong(snapshot, at + 8);
      long lastIndex = getLong(snapshot, at + 16);
      int length = getInt(snapshot, at + 24);
      byte[] lastResult = Arrays.copyOfRange(snapshot, at + 28, at + 28 + length);
      at += 28 + length;
      touch(clientId, new Session(sequence, lastIndex, lastResult));
    }
    int stateLength = getInt(snapshot, at);
    inner.restore(Arrays.copyOfRange(snapshot, at + 4, at + 4 + stateLength));
  }

  private static byte[] result(Status status, byte[] payload) {
    byte[] out = new byte[1 + payload.length];
    out[0] = (byte) status.ordinal();
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  private static void putLong(byte[] b, int at, long v) {
    for (int i = 7; i >= 0; i--) {
      b[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  private static long getLong(byte[] b, int at) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[at + i] & 0xFF);
    }
    return v;
  }

  private static void putInt(byte[] b, int at, int v) {
    for (int i = 3; i >= 0; i--) {
      b[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  private static int getInt(byte[] b, int at) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (b[at + i] & 0xFF);
    }
    return v;
  }
}
