package io.detraft.checker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/** Seeded generators of key/value histories for the properties. */
final class RandomHistories {
  private RandomHistories() {}

  /** Keys 1..keyCount, sometimes as strings, so both kinds of key are exercised. */
  private static Object key(SplittableRandom random, int keyCount) {
    int k = 1 + random.nextInt(keyCount);
    return random.nextInt(4) == 0 ? "k" + k : (Object) (long) k;
  }

  /** Values 1..valueCount; a tiny domain on purpose: repeated values make the search harder. */
  private static Object value(SplittableRandom random, int valueCount) {
    return (long) (1 + random.nextInt(valueCount));
  }

  /**
   * A history from an atomic execution: each operation takes effect at one instant inside its
   * interval, against a real map. Some operations fail without effect, some crash (info)
   * before or after taking effect, some are still open at the end. Always linearizable.
   * Writes use values 1..valueCount.
   */
  static History atomic(SplittableRandom random, int operationCount, int keyCount,
      int clientCount, int valueCount) {
    Map<Object, Object> store = new HashMap<>();
    HistoryBuilder history = new HistoryBuilder();
    long[] process = new long[clientCount];
    Object[][] pending = new Object[clientCount][];
    boolean[] applied = new boolean[clientCount];
    Object[] result = new Object[clientCount];
    for (int client = 0; client < clientCount; client++) {
      process[client] = client;
    }
    long nextProcess = clientCount;
    long time = 0;
    int invoked = 0;
    while (invoked < operationCount) {
      time += random.nextInt(3);
      int client = random.nextInt(clientCount);
      Object[] op = pending[client];
      if (op == null) {
        pending[client] = op = randomOperation(random, keyCount, valueCount);
        applied[client] = false;
        history.invoke(process[client], (String) op[0], op[1], time);
        invoked++;
        continue;
      }
      int roll = random.nextInt(20);
      String f = (String) op[0];
      if (roll == 0) {
        // The client crashes; the operation may or may not have taken effect.
        history.info(process[client], f, op[1], time);
        process[client] = nextProcess++;
        pending[client] = null;
      } else if (!applied[client] && roll == 1) {
        history.fail(process[client], f, op[1], time);
        pending[client] = null;
      } else if (!applied[client]) {
        result[client] = apply(store, op);
        applied[client] = true;
      } else if (result[client] == Boolean.FALSE) {
        history.fail(process[client], f, op[1], time);
        pending[client] = null;
      } else {
        history.ok(process[client], f, result[client], time);
        pending[client] = null;
      }
    }
    // Operations still pending stay open: the history ends before they complete.
    return history.build();
  }

  /** {f, invoke value} of a random operation. */
  private static Object[] randomOperation(SplittableRandom random, int keyCount,
      int valueCount) {
    Object key = key(random, keyCount);
    return switch (random.nextInt(8)) {
      case 0, 1, 2 -> new Object[] {Kv.GET, Kv.pair(key, null)};
      case 3, 4 -> new Object[] {Kv.PUT, Kv.pair(key, value(random, valueCount))};
      case 5, 6 -> new Object[] {Kv.CAS,
          Kv.casValue(key, value(random, valueCount), value(random, valueCount))};
      default -> new Object[] {Kv.DELETE, Kv.pair(key, null)};
    };
  }

  /** Applies atomically; returns the ok value, or FALSE for a cas whose comparison failed. */
  private static Object apply(Map<Object, Object> store, Object[] op) {
    List<?> argument = (List<?>) op[1];
    Object key = argument.get(0);
    switch ((String) op[0]) {
      case Kv.GET:
        return Kv.pair(key, store.get(key));
      case Kv.PUT:
        store.put(key, argument.get(1));
        return argument;
      case Kv.DELETE:
        store.remove(key);
        return argument;
      case Kv.CAS:
        List<?> swap = (List<?>) argument.get(1);
        if (!Objects.equals(store.get(key), swap.get(0))) {
          return Boolean.FALSE;
        }
        store.put(key, swap.get(1));
        return argument;
      default:
        throw new IllegalArgumentException((String) op[0]);
    }
  }

  private record Event(long time, long tiebreak, OpType type, long process, String f,
      Object value) {}

  /**
   * A well-formed history with arbitrary results: each process runs operations one after the
   * other with random intervals and outcomes, and gets return random values. Often not
   * linearizable. Equal times across processes are recorded in random order.
   */
  static History arbitrary(SplittableRandom random, int operationCount, int keyCount,
      int processCount) {
    List<Event> events = new ArrayList<>();
    long[] free = new long[processCount];
    long[] process = new long[processCount];
    for (int p = 0; p < processCount; p++) {
      process[p] = p;
    }
    for (int i = 0; i < operationCount; i++) {
      int p = random.nextInt(processCount);
      long start = free[p] + random.nextInt(4);
      long end = start + 1 + random.nextInt(6);
      free[p] = end + 1;
      Object[] op = randomOperation(random, keyCount, 3);
      String f = (String) op[0];
      events.add(new Event(start, random.nextLong(), OpType.INVOKE, process[p], f, op[1]));
      int roll = random.nextInt(20);
      if (roll < 4) {
        events.add(new Event(end, random.nextLong(), OpType.INFO, process[p], f, op[1]));
        process[p] += processCount;
      } else if (roll < 6) {
        events.add(new Event(end, random.nextLong(), OpType.FAIL, process[p], f, op[1]));
      } else if (roll == 6) {
        // Left open: the history ends first; the slot goes on as a new process.
        process[p] += processCount;
      } else {
        Object okValue = f.equals(Kv.GET)
            ? Kv.pair(((List<?>) op[1]).get(0),
                random.nextInt(4) == 0 ? null : value(random, 3))
            : op[1];
        events.add(new Event(end, random.nextLong(), OpType.OK, process[p], f, okValue));
      }
    }
    events.sort(Comparator.comparingLong(Event::time).thenComparingLong(Event::tiebreak));
    HistoryBuilder history = new HistoryBuilder();
    for (Event event : events) {
      history.add(event.type(), event.process(), event.f(), event.value(), event.time());
    }
    return history.build();
  }
}
