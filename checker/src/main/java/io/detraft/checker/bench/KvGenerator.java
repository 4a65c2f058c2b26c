package io.detraft.checker.bench;

import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Kv;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Seeded linearizable key/value histories (get, put, cas) for the linearizability benchmark:
 * each operation takes effect at one instant while in flight, against a real map. Puts write
 * values unique per key, as a real workload would, and some operations crash (info).
 */
public final class KvGenerator {
  private KvGenerator() {}

  /**
   * @param operations how many operations
   * @param keys how many keys
   * @param clients concurrent clients
   * @param infoPercent chance that an operation crashes, in percent
   */
  public static History generate(long seed, int operations, int keys, int clients,
      int infoPercent) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<Long, Long> store = new HashMap<>();
    Map<Long, Long> written = new HashMap<>();
    HistoryBuilder history = new HistoryBuilder();
    long[] process = new long[clients];
    Object[][] pending = new Object[clients][];
    Object[] result = new Object[clients];
    boolean[] applied = new boolean[clients];
    for (int c = 0; c < clients; c++) {
      process[c] = c;
    }
    long nextProcess = clients;
    long time = 0;
    int invoked = 0;
    while (invoked < operations || anyPending(pending)) {
      time += 1 + random.nextInt(3);
      int c = random.nextInt(clients);
      Object[] op = pending[c];
      if (op == null) {
        if (invoked < operations) {
          pending[c] = op = operation(random, keys, written, store);
          applied[c] = false;
          history.invoke(process[c], (String) op[0], op[1], time);
          invoked++;
        }
        continue;
      }
      if (!applied[c] && random.nextInt(100) >= infoPercent) {
        result[c] = apply(store, op);
        applied[c] = true;
        continue;
      }
      String f = (String) op[0];
      if (!applied[c]) {
        // Crashed: it may yet take effect, or not.
        if (random.nextBoolean()) {
          apply(store, op);
        }
        history.info(process[c], f, op[1], time);
        process[c] = nextProcess++;
      } else if (result[c] == Boolean.FALSE) {
        history.fail(process[c], f, op[1], time);
      } else {
        history.ok(process[c], f, result[c], time);
      }
      pending[c] = null;
    }
    return history.build();
  }

  private static boolean anyPending(Object[][] pending) {
    for (Object[] op : pending) {
      if (op != null) {
        return true;
      }
    }
    return false;
  }

  private static Object[] operation(SplittableRandom random, int keys, Map<Long, Long> written,
      Map<Long, Long> store) {
    long key = random.nextInt(keys);
    int roll = random.nextInt(10);
    if (roll < 5) {
      return new Object[] {Kv.GET, Kv.pair(key, null)};
    }
    long value = written.merge(key, 1L, Long::sum);
    if (roll < 8) {
      return new Object[] {Kv.PUT, Kv.pair(key, value)};
    }
    // A cas that usually expects the current value, so it mostly applies.
    Long expected = random.nextInt(4) == 0 ? Long.valueOf(value - 1) : store.get(key);
    return new Object[] {Kv.CAS, Kv.casValue(key, expected, value)};
  }

  /** Applies {@code op}; returns its ok value, or FALSE for a cas that did not apply. */
  private static Object apply(Map<Long, Long> store, Object[] op) {
    List<?> argument = (List<?>) op[1];
    Long key = (Long) argument.get(0);
    switch ((String) op[0]) {
      case Kv.GET:
        return Kv.pair(key, store.get(key));
      case Kv.PUT:
        store.put(key, (Long) argument.get(1));
        return op[1];
      default:
        List<?> swap = (List<?>) argument.get(1);
        if (!Objects.equals(store.get(key), swap.get(0))) {
          return Boolean.FALSE;
        }
        store.put(key, (Long) swap.get(1));
        return op[1];
    }
  }
}
