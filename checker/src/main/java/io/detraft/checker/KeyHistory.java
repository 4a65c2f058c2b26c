package io.detraft.checker;

import java.util.List;

/**
 * The operations on one key, encoded for {@link WglSearch}: values become small ints so the
 * search never boxes, compares objects or hashes them.
 *
 * <p>Operations are numbered 0..n-1 in the order of their invoke events. Each is either
 * <em>definite</em> (ended ok: it took effect inside its interval and must be linearized) or
 * <em>indefinite</em> (ended info or never completed: it may be linearized anywhere after its
 * invoke, or not at all, so it has no return event).
 */
final class KeyHistory {
  static final int GET = 0;
  static final int PUT = 1;
  static final int CAS = 2;
  static final int DELETE = 3;
  /** Value id of "absent"; every key starts absent. */
  static final int ABSENT = 0;

  /** The key, a Long or a String. */
  final Object key;
  /** Value id to value; index {@link #ABSENT} holds null. */
  final List<Object> values;
  /** Operation id to the recorded operation, for explanations. */
  final List<Operation> sources;
  /** Operation id to {@link #GET}, {@link #PUT}, {@link #CAS} or {@link #DELETE}. */
  final int[] kind;
  /** get: observed value id; put: written value id; cas: expected value id. */
  final int[] first;
  /** cas: the new value id; unused otherwise. */
  final int[] second;
  /** Operation id to whether it ended ok (and therefore must be linearized). */
  final boolean[] definite;
  /**
   * Call and return events in real-time order; entry {@code e} belongs to operation {@code
   * eventOp[e]}. Invariant: each operation's call comes before its return, indefinite
   * operations have no return.
   */
  final int[] eventOp;
  /** Whether event {@code e} is a call (otherwise a return). */
  final boolean[] eventIsCall;

  KeyHistory(Object key, List<Object> values, List<Operation> sources, int[] kind, int[] first,
      int[] second, boolean[] definite, int[] eventOp, boolean[] eventIsCall) {
    this.key = key;
    this.values = values;
    this.sources = sources;
    this.kind = kind;
    this.first = first;
    this.second = second;
    this.definite = definite;
    this.eventOp = eventOp;
    this.eventIsCall = eventIsCall;
    checkInvariants();
  }

  int operationCount() {
    return kind.length;
  }

  /**
   * The key/value model: applies operation {@code op} to value id {@code state} and returns
   * the new value id, or -1 if the operation cannot happen in that state. An indefinite cas
   * is linearized only where it applied; where it would not apply, leaving it out is the same.
   */
  int step(int op, int state) {
    switch (kind[op]) {
      case GET:
        return first[op] == state ? state : -1;
      case PUT:
        return first[op];
      case CAS:
        return first[op] == state ? second[op] : -1;
      case DELETE:
        return ABSENT;
      default:
        throw new IllegalStateException("unknown kind " + kind[op]);
    }
  }

  /** Whether {@code op} requires a particular state: a get or a cas. */
  boolean reads(int op) {
    return kind[op] == GET || kind[op] == CAS;
  }

  private void checkInvariants() {
    int n = kind.length;
    if (sources.size() != n || first.length != n || second.length != n || definite.length != n) {
      throw new IllegalStateException("key " + key + ": operation arrays differ in length");
    }
    if (values.isEmpty() || values.get(ABSENT) != null) {
      throw new IllegalStateException("key " + key + ": value id 0 must be absent");
    }
    int[] calls = new int[n];
    int[] returns = new int[n];
    int nextCall = 0;
    for (int e = 0; e < eventOp.length; e++) {
      int op = eventOp[e];
      if (eventIsCall[e]) {
        if (op != nextCall++) {
          throw new IllegalStateException("key " + key + ": op " + op + " is called out of order");
        }
        calls[op]++;
      } else {
        if (calls[op] != 1 || !definite[op]) {
          throw new IllegalStateException("key " + key + ": return of op " + op
              + " without an earlier call, or op is indefinite");
        }
        returns[op]++;
      }
    }
    for (int op = 0; op < n; op++) {
      if (calls[op] != 1 || returns[op] != (definite[op] ? 1 : 0)) {
        throw new IllegalStateException("key " + key + ": op " + op + " has " + calls[op]
            + " calls and " + returns[op] + " returns");
      }
    }
  }
}
