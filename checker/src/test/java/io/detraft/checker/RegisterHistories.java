package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded rw-register histories from a correct store, for the properties. */
final class RegisterHistories {
  private RegisterHistories() {}

  /**
   * Each transaction takes effect at one instant while in flight, so the history is strictly
   * serializable and every key is linearizable. Writes are unique per key; some transactions
   * fail, some crash (info) before or after taking effect.
   */
  static History strict(SplittableRandom random, int transactions, int clients, int keys) {
    Map<Long, Long> store = new HashMap<>();
    long[] counter = new long[keys];
    HistoryBuilder history = new HistoryBuilder();
    long[] process = new long[clients];
    List<Object>[] pending = newArray(clients);
    List<Object>[] result = newArray(clients);
    int[] fate = new int[clients];
    for (int c = 0; c < clients; c++) {
      process[c] = c;
    }
    long nextProcess = clients;
    long time = 0;
    int invoked = 0;
    int open = 0;
    while (invoked < transactions || open > 0) {
      time += 1 + random.nextInt(3);
      int c = random.nextInt(clients);
      if (pending[c] == null) {
        if (invoked < transactions) {
          pending[c] = transaction(random, keys, counter);
          result[c] = null;
          // 0 ok, 1 fail, 2 info after applying, 3 info without applying
          int roll = random.nextInt(20);
          fate[c] = roll == 0 ? 1 : roll == 1 ? 2 : roll == 2 ? 3 : 0;
          history.invoke(process[c], Txn.F, pending[c], time);
          invoked++;
          open++;
        }
        continue;
      }
      if (result[c] == null && (fate[c] == 0 || fate[c] == 2)) {
        result[c] = apply(store, pending[c]);
        continue;
      }
      switch (fate[c]) {
        case 0 -> history.ok(process[c], Txn.F, result[c], time);
        case 1 -> history.fail(process[c], Txn.F, pending[c], time);
        default -> {
          history.info(process[c], Txn.F, pending[c], time);
          process[c] = nextProcess++;
        }
      }
      pending[c] = null;
      open--;
    }
    return history.build();
  }

  @SuppressWarnings("unchecked")
  private static List<Object>[] newArray(int size) {
    return new List[size];
  }

  private static List<Object> transaction(SplittableRandom random, int keys, long[] counter) {
    int size = 1 + random.nextInt(4);
    List<Object> mops = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      int key = random.nextInt(keys);
      mops.add(random.nextBoolean() ? Txn.read((long) key)
          : Txn.write((long) key, ++counter[key]));
    }
    return mops;
  }

  private static List<Object> apply(Map<Long, Long> store, List<Object> mops) {
    List<Object> out = new ArrayList<>(mops.size());
    for (Object op : mops) {
      List<?> mop = (List<?>) op;
      Long key = (Long) mop.get(1);
      if (mop.get(0).equals(Txn.WRITE)) {
        store.put(key, (Long) mop.get(2));
        out.add(mop);
      } else {
        out.add(Txn.read(key, store.get(key)));
      }
    }
    return out;
  }
}
