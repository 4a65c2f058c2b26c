package io.detraft.checker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Splits a key/value history by key (P-compositionality: a history is linearizable iff the
 * sub-history of every key is, because every operation touches one key) and encodes each
 * key for {@link WglSearch}.
 */
final class KvModel {
  /** Longs before strings, then natural order: a stable, reproducible order of keys. */
  static final Comparator<Object> KEY_ORDER = (left, right) -> {
    if (left instanceof Long l && right instanceof Long r) {
      return Long.compare(l, r);
    }
    if (left instanceof String l && right instanceof String r) {
      return l.compareTo(r);
    }
    return left instanceof Long ? -1 : 1;
  };

  private KvModel() {}

  /**
   * One operation on one key. {@code first}: a get's observed value, a put's written value or
   * a cas's expected value; {@code second}: a cas's new value.
   */
  private record Parsed(Operation source, int kind, Object key, Object first, Object second) {}

  /** The per-key histories, in {@link #KEY_ORDER}. */
  static List<KeyHistory> split(History history) {
    Map<Object, List<Parsed>> byKey = new TreeMap<>(KEY_ORDER);
    for (Operation operation : history.operations()) {
      Parsed parsed = parse(operation);
      if (parsed != null) {
        byKey.computeIfAbsent(parsed.key(), key -> new ArrayList<>()).add(parsed);
      }
    }
    List<KeyHistory> keys = new ArrayList<>(byKey.size());
    for (Map.Entry<Object, List<Parsed>> entry : byKey.entrySet()) {
      keys.add(encode(entry.getKey(), prune(entry.getValue())));
    }
    return keys;
  }

  /** Returns null for an operation that constrains nothing (fail, or a get without result). */
  private static Parsed parse(Operation operation) {
    Op invoke = operation.invoke();
    List<?> argument = pairOf(invoke);
    Object key = argument.get(0);
    checkAtom(key, invoke, "key");
    OpType outcome = operation.outcome();
    Parsed parsed;
    switch (invoke.f()) {
      case Kv.GET: {
        if (outcome != OpType.OK) {
          // A fail did not happen; a get with unknown outcome observed nothing.
          return null;
        }
        List<?> result = pairOf(operation.completion());
        if (!key.equals(result.get(0))) {
          throw new IllegalArgumentException("op " + operation.completion().index()
              + ": get result is for key " + Values.format(result.get(0)) + " but op "
              + invoke.index() + " read key " + Values.format(key));
        }
        checkAtom(result.get(1), operation.completion(), "value");
        parsed = new Parsed(operation, KeyHistory.GET, key, result.get(1), null);
        break;
      }
      case Kv.PUT:
        checkAtom(argument.get(1), invoke, "value");
        parsed = new Parsed(operation, KeyHistory.PUT, key, argument.get(1), null);
        break;
      case Kv.CAS: {
        if (!(argument.get(1) instanceof List<?> swap) || swap.size() != 2) {
          throw new IllegalArgumentException("op " + invoke.index()
              + ": cas value must be [key [expected new]], got " + Values.format(argument));
        }
        checkAtom(swap.get(0), invoke, "expected value");
        checkAtom(swap.get(1), invoke, "new value");
        parsed = new Parsed(operation, KeyHistory.CAS, key, swap.get(0), swap.get(1));
        break;
      }
      case Kv.DELETE:
        parsed = new Parsed(operation, KeyHistory.DELETE, key, null, null);
        break;
      default:
        throw new IllegalArgumentException("op " + invoke.index() + ": f '" + invoke.f()
            + "' is not a key/value operation (get, put, cas, delete)");
    }
    // Checked after parsing so that a malformed failed op is still reported.
    return outcome == OpType.FAIL ? null : parsed;
  }

  /**
   * Drops indefinite writes (put, cas) of a value that nothing observes. Sound: in any
   * linearization containing such a write, the next operation on the key cannot be a get or a
   * cas (they would have to observe the value), so it is a put or delete that overwrites it,
   * or there is none; removing the write leaves a valid linearization. Without this, every
   * crashed writer would stay a candidate at every point of the search until the end.
   */
  private static List<Parsed> prune(List<Parsed> operations) {
    Set<Object> observed = new HashSet<>();
    for (Parsed operation : operations) {
      if (operation.kind() == KeyHistory.GET || operation.kind() == KeyHistory.CAS) {
        observed.add(operation.first());
      }
    }
    List<Parsed> kept = new ArrayList<>(operations.size());
    for (Parsed operation : operations) {
      Object written = switch (operation.kind()) {
        case KeyHistory.PUT -> operation.first();
        case KeyHistory.CAS -> operation.second();
        default -> null;
      };
      boolean indefinite = operation.source().outcome() != OpType.OK;
      if (indefinite && written != null && !observed.contains(written)) {
        continue;
      }
      kept.add(operation);
    }
    return kept;
  }

  private static KeyHistory encode(Object key, List<Parsed> unsorted) {
    // Number operations in real-time order of their invokes (see the event order below).
    List<Parsed> operations = new ArrayList<>(unsorted);
    operations.sort(Comparator.<Parsed>comparingLong(parsed -> parsed.source().invoke().time())
        .thenComparingLong(parsed -> parsed.source().invoke().index()));
    int n = operations.size();
    List<Object> values = new ArrayList<>();
    values.add(null);
    Map<Object, Integer> ids = new HashMap<>();
    List<Operation> sources = new ArrayList<>(n);
    int[] kind = new int[n];
    int[] first = new int[n];
    int[] second = new int[n];
    boolean[] definite = new boolean[n];
    // Each event as {time, history index, op id, 1 if call}.
    List<long[]> events = new ArrayList<>(2 * n);
    for (int op = 0; op < n; op++) {
      Parsed parsed = operations.get(op);
      Operation source = parsed.source();
      sources.add(source);
      kind[op] = parsed.kind();
      first[op] = idOf(parsed.first(), values, ids);
      second[op] = idOf(parsed.second(), values, ids);
      definite[op] = source.outcome() == OpType.OK;
      events.add(new long[] {source.invoke().time(), source.invoke().index(), op, 1});
      if (definite[op]) {
        events.add(new long[] {source.completion().time(), source.completion().index(), op, 0});
      }
    }
    // Real-time order is time order; equal times are ordered as recorded (history index), so
    // a completion recorded before an invoke with the same time precedes it. For a single-
    // threaded simulator that is exact; for a real client it holds when invokes are recorded
    // before the request is sent and completions after the response arrived (Jepsen's rule).
    // Times are never compared across keys, so clocks only need to agree per key.
    events.sort(Comparator.<long[]>comparingLong(event -> event[0])
        .thenComparingLong(event -> event[1]));
    int[] eventOp = new int[events.size()];
    boolean[] eventIsCall = new boolean[events.size()];
    for (int e = 0; e < eventOp.length; e++) {
      eventOp[e] = (int) events.get(e)[2];
      eventIsCall[e] = events.get(e)[3] == 1;
    }
    return new KeyHistory(key, Collections.unmodifiableList(values),
        Collections.unmodifiableList(sources), kind, first, second, definite, eventOp,
        eventIsCall);
  }

  private static int idOf(Object value, List<Object> values, Map<Object, Integer> ids) {
    if (value == null) {
      return KeyHistory.ABSENT;
    }
    Integer id = ids.get(value);
    if (id == null) {
      id = values.size();
      values.add(value);
      ids.put(value, id);
    }
    return id;
  }

  private static List<?> pairOf(Op op) {
    if (op.value() instanceof List<?> list && list.size() == 2) {
      return list;
    }
    throw new IllegalArgumentException("op " + op.index() + ": " + op.f()
        + " value must be a list [key value], got " + Values.format(op.value()));
  }

  /** Keys and register values are Long or String; nil is allowed only as a value. */
  private static void checkAtom(Object atom, Op op, String role) {
    boolean allowed = atom instanceof Long || atom instanceof String
        || (atom == null && !role.equals("key"));
    if (!allowed) {
      throw new IllegalArgumentException("op " + op.index() + ": " + op.f() + " " + role
          + " must be a Long or a String, got " + Values.format(atom));
    }
  }
}
