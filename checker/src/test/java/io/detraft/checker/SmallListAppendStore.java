package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small list-append histories from a simulated store, correct or with one fault planted, for
 * comparing {@link ElleChecker} with {@link TxnBruteForce}. Up to three client slots run up
 * to eight transactions over one to three keys; each step picks at random one thing that may
 * happen next (invoke, execute, complete, crash), and the time is the step number. A correct
 * store executes a transaction atomically between its invoke and its completion, so its
 * histories are strict-serializable. A crashed transaction is reported :info and its process
 * retired (the slot continues under a new process), as Jepsen does; it may execute later, or
 * never.
 */
final class SmallListAppendStore {
  enum Fault {
    NONE,
    /** A read returns an older, shorter list. */
    STALE_READ,
    /** An acknowledged append is not applied. */
    LOST_APPEND,
    /** A transaction is applied but reported failed. */
    ABORTED_READ,
    /** Two appends of one transaction to one key are applied apart, others may run between. */
    INTERMEDIATE_READ,
    /** Snapshot isolation: reads from the snapshot taken at invoke, first committer wins. */
    WRITE_SKEW,
    /** A transaction's micro-ops are applied in two parts, others may run between. */
    FRACTURED,
    /** An append is applied twice. */
    DUPLICATED_APPEND,
    /** Many crashed transactions, applied or not (not a fault: the history stays valid). */
    CRASHED
  }

  private static final int SLOTS_MAX = 3;
  private static final int TRANSACTIONS_MAX = 8;

  private final SplittableRandom random;
  private final Fault fault;
  private final int keys;
  private final HistoryBuilder history = new HistoryBuilder();
  private final Map<Long, List<Long>> store = new HashMap<>();
  private long nextElement = 1;
  private long time;
  private int invoked;

  /** One transaction in flight. */
  private final class Running {
    final long process;
    final List<List<Object>> mops;
    final List<List<Object>> results = new ArrayList<>();
    /** Micro-ops before this index run in the first part, the rest in the second. */
    final int split;
    final Map<Long, List<Long>> snapshot;
    final boolean faulty;
    int done;
    boolean failed;

    Running(long process) {
      this.process = process;
      this.mops = newMops();
      this.faulty = fault != Fault.NONE && random.nextInt(3) > 0;
      boolean splits = faulty && mops.size() > 1
          && (fault == Fault.FRACTURED || fault == Fault.INTERMEDIATE_READ);
      this.split = splits ? 1 + random.nextInt(mops.size() - 1) : mops.size();
      this.snapshot = fault == Fault.WRITE_SKEW ? copy(store) : null;
    }

    List<List<Object>> newMops() {
      List<List<Object>> out = new ArrayList<>();
      if (fault == Fault.WRITE_SKEW && keys > 1 && random.nextBoolean()) {
        // The shape of write skew: read one key, append to another.
        long read = random.nextInt(keys);
        out.add(Txn.read(read));
        out.add(Txn.append((read + 1 + random.nextInt(keys - 1)) % keys, nextElement++));
        return out;
      }
      int count = 1 + random.nextInt(3);
      for (int i = 0; i < count; i++) {
        long key = random.nextInt(keys);
        if (random.nextBoolean()) {
          out.add(Txn.read(key));
        } else {
          out.add(Txn.append(key, nextElement++));
          if (fault == Fault.INTERMEDIATE_READ && random.nextBoolean()) {
            out.add(Txn.append(key, nextElement++));
          }
        }
      }
      return out;
    }

    boolean executed() {
      return done == mops.size();
    }

    /** Runs the next part; under snapshot isolation, the whole transaction. */
    void execute() {
      if (snapshot != null) {
        executeSnapshot();
        return;
      }
      int end = done < split ? split : mops.size();
      for (; done < end; done++) {
        List<Object> mop = mops.get(done);
        long key = (Long) mop.get(1);
        List<Long> current = store.computeIfAbsent(key, k -> new ArrayList<>());
        if (mop.get(0).equals(Txn.READ)) {
          List<Long> seen = List.copyOf(current);
          if (faulty && fault == Fault.STALE_READ && !seen.isEmpty()) {
            seen = seen.subList(0, random.nextInt(seen.size()));
          }
          results.add(Txn.read(key, seen));
        } else {
          long element = (Long) mop.get(2);
          boolean lost = faulty && fault == Fault.LOST_APPEND && random.nextBoolean();
          if (!lost) {
            current.add(element);
          }
          if (faulty && fault == Fault.DUPLICATED_APPEND && random.nextBoolean()) {
            current.add(element);
          }
          results.add(mop);
        }
      }
      failed = faulty && fault == Fault.ABORTED_READ;
    }

    private void executeSnapshot() {
      Map<Long, List<Long>> view = copy(snapshot);
      boolean conflict = false;
      for (List<Object> mop : mops) {
        long key = (Long) mop.get(1);
        List<Long> current = view.computeIfAbsent(key, k -> new ArrayList<>());
        if (mop.get(0).equals(Txn.READ)) {
          results.add(Txn.read(key, List.copyOf(current)));
        } else {
          current.add((Long) mop.get(2));
          results.add(mop);
          conflict |= !store.getOrDefault(key, List.of())
              .equals(snapshot.getOrDefault(key, List.of()));
        }
      }
      failed = conflict;
      if (!conflict) {
        for (List<Object> mop : mops) {
          if (mop.get(0).equals(Txn.APPEND)) {
            store.computeIfAbsent((Long) mop.get(1), k -> new ArrayList<>()).add(
                (Long) mop.get(2));
          }
        }
      }
      done = mops.size();
    }
  }

  private SmallListAppendStore(SplittableRandom random, Fault fault) {
    this.random = random;
    this.fault = fault;
    this.keys = 1 + random.nextInt(3);
  }

  static History generate(long seed, Fault fault) {
    return new SmallListAppendStore(new SplittableRandom(seed), fault).run();
  }

  private History run() {
    int slots = 1 + random.nextInt(SLOTS_MAX);
    int transactions = 1 + random.nextInt(TRANSACTIONS_MAX);
    int crashPercent = fault == Fault.CRASHED ? 30 : 8;
    Running[] slot = new Running[slots];
    long[] process = new long[slots];
    for (int s = 0; s < slots; s++) {
      process[s] = s;
    }
    List<Running> crashed = new ArrayList<>();
    while (true) {
      List<Runnable> choices = new ArrayList<>();
      for (int s = 0; s < slots; s++) {
        int at = s;
        Running running = slot[s];
        if (running == null && invoked < transactions) {
          choices.add(() -> {
            slot[at] = new Running(process[at]);
            invoked++;
            history.invoke(process[at], Txn.F, slot[at].mops, time);
          });
        } else if (running != null && !running.executed()) {
          choices.add(running::execute);
        } else if (running != null) {
          choices.add(() -> {
            if (running.failed) {
              history.fail(running.process, Txn.F, running.mops, time);
            } else {
              history.ok(running.process, Txn.F, running.results, time);
            }
            slot[at] = null;
          });
        }
        if (running != null && random.nextInt(100) < crashPercent) {
          choices.add(() -> {
            history.info(running.process, Txn.F, running.mops, time);
            crashed.add(running);
            slot[at] = null;
            process[at] += slots;
          });
        }
      }
      for (Running lost : crashed) {
        if (!lost.executed() && random.nextInt(3) == 0) {
          choices.add(lost::execute);
        }
      }
      if (choices.isEmpty()) {
        return history.build();
      }
      choices.get(random.nextInt(choices.size())).run();
      time++;
    }
  }

  private static Map<Long, List<Long>> copy(Map<Long, List<Long>> lists) {
    Map<Long, List<Long>> out = new HashMap<>();
    lists.forEach((key, list) -> out.put(key, new ArrayList<>(list)));
    return out;
  }
}
