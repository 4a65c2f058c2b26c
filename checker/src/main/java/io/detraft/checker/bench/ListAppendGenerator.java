package io.detraft.checker.bench;

import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Txn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded list-append histories from a correct in-memory store, for benchmarks and property
 * tests. Keys rotate as in Jepsen's list-append workload: {@code activeKeys} keys are in use
 * at a time, and a key that received {@code maxAppendsPerKey} appends is replaced by a fresh
 * one, so reads stay short however long the history.
 *
 * <ul>
 *   <li>{@link Mode#STRICT}: each transaction takes effect atomically at one instant between
 *       its invoke and its completion, so the history is strictly serializable;
 *   <li>{@link Mode#SERIAL}: transactions execute one after another in one order, but are laid
 *       out on the timeline in a shuffled order, so the history is serializable and usually
 *       not strictly serializable.
 * </ul>
 *
 * <p>Some transactions fail without effect; some crash (info) after or before taking effect,
 * after which their client continues as a new process.
 */
public final class ListAppendGenerator {
  /** How transactions take effect; see the class comment. */
  public enum Mode { STRICT, SERIAL }

  /**
   * What to generate.
   *
   * @param transactions how many transactions (plus the final read, if asked)
   * @param clients how many clients run concurrently (each a process until it crashes)
   * @param activeKeys how many keys are in use at a time
   * @param maxAppendsPerKey appends after which a key is retired
   * @param maxMicroOps micro-ops per transaction, 1 to this
   * @param failPercent chance that a transaction fails, in percent
   * @param infoPercent chance that a transaction crashes (info), in percent
   * @param mode how transactions take effect
   * @param finalRead whether a last transaction reads every active key after all others
   */
  public record Options(int transactions, int clients, int activeKeys, int maxAppendsPerKey,
      int maxMicroOps, int failPercent, int infoPercent, Mode mode, boolean finalRead) {

    public Options {
      if (transactions < 0 || clients < 1 || activeKeys < 1 || maxAppendsPerKey < 1
          || maxMicroOps < 1 || failPercent < 0 || infoPercent < 0
          || failPercent + infoPercent > 100) {
        throw new IllegalArgumentException("bad options " + this);
      }
    }

    /** The benchmark's shape: 10 clients, 100 keys, 1-4 micro-ops, 5% fail, 2% info. */
    public static Options benchmark(int transactions) {
      return new Options(transactions, 10, 100, 100, 4, 5, 2, Mode.STRICT, false);
    }
  }

  private enum Outcome { OK, FAIL, INFO_APPLIED, INFO_NOT_APPLIED }

  /** One transaction: its invoke value, its result once applied, and its fate. */
  private static final class Pending {
    List<Object> invoked;
    List<Object> result;
    Outcome outcome;
  }

  private final SplittableRandom random;
  private final Options options;
  private final Map<Long, List<Long>> store = new HashMap<>();
  private final Map<Long, Long> appends = new HashMap<>();
  private final long[] active;
  private long nextKey;
  /** The next unused process id: for a client that crashed, and for the final read. */
  private long nextProcess;

  private ListAppendGenerator(long seed, Options options) {
    this.random = new SplittableRandom(seed);
    this.options = options;
    this.active = new long[options.activeKeys()];
    for (int i = 0; i < active.length; i++) {
      active[i] = nextKey++;
    }
  }

  /** A history for {@code seed}; the same seed and options give the same history. */
  public static History generate(long seed, Options options) {
    ListAppendGenerator generator = new ListAppendGenerator(seed, options);
    HistoryBuilder history = new HistoryBuilder();
    long time = options.mode() == Mode.STRICT
        ? generator.strict(history) : generator.serial(history);
    if (options.finalRead()) {
      List<Object> reads = new ArrayList<>();
      for (long key : generator.active) {
        reads.add(Txn.read(key));
      }
      long process = generator.nextProcess++;
      history.invoke(process, Txn.F, reads, time + 1);
      history.ok(process, Txn.F, generator.apply(reads), time + 2);
    }
    return history.build();
  }

  private Pending next() {
    Pending txn = new Pending();
    int size = 1 + random.nextInt(options.maxMicroOps());
    txn.invoked = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      int slot = random.nextInt(active.length);
      long key = active[slot];
      if (random.nextBoolean()) {
        long count = appends.merge(key, 1L, Long::sum);
        txn.invoked.add(Txn.append(key, count));
        if (count >= options.maxAppendsPerKey()) {
          active[slot] = nextKey++;
        }
      } else {
        txn.invoked.add(Txn.read(key));
      }
    }
    int roll = random.nextInt(100);
    txn.outcome = roll < options.failPercent() ? Outcome.FAIL
        : roll < options.failPercent() + options.infoPercent()
            ? (random.nextBoolean() ? Outcome.INFO_APPLIED : Outcome.INFO_NOT_APPLIED)
            : Outcome.OK;
    return txn;
  }

  /** Runs the micro-ops against the store; returns them with reads filled in. */
  private List<Object> apply(List<Object> invoked) {
    List<Object> result = new ArrayList<>(invoked.size());
    for (Object op : invoked) {
      List<?> mop = (List<?>) op;
      long key = (Long) mop.get(1);
      List<Long> list = store.computeIfAbsent(key, k -> new ArrayList<>());
      if (mop.get(0).equals(Txn.APPEND)) {
        list.add((Long) mop.get(2));
        result.add(mop);
      } else {
        result.add(Txn.read(key, new ArrayList<>(list)));
      }
    }
    return result;
  }

  /** Transactions take effect at a random instant while in flight. */
  private long strict(HistoryBuilder history) {
    int clients = options.clients();
    long[] process = new long[clients];
    Pending[] pending = new Pending[clients];
    for (int c = 0; c < clients; c++) {
      process[c] = c;
    }
    nextProcess = clients;
    long time = 0;
    int invoked = 0;
    int open = 0;
    while (invoked < options.transactions() || open > 0) {
      time += 1 + random.nextInt(3);
      int c = random.nextInt(clients);
      Pending txn = pending[c];
      if (txn == null) {
        if (invoked < options.transactions()) {
          pending[c] = txn = next();
          history.invoke(process[c], Txn.F, txn.invoked, time);
          invoked++;
          open++;
        }
        continue;
      }
      boolean applies = txn.outcome == Outcome.OK || txn.outcome == Outcome.INFO_APPLIED;
      if (txn.result == null && applies) {
        txn.result = apply(txn.invoked);
        continue;
      }
      if (txn.outcome == Outcome.OK) {
        history.ok(process[c], Txn.F, txn.result, time);
      } else if (txn.outcome == Outcome.FAIL) {
        history.fail(process[c], Txn.F, txn.invoked, time);
      } else {
        history.info(process[c], Txn.F, txn.invoked, time);
        process[c] = nextProcess++;
      }
      pending[c] = null;
      open--;
    }
    return time;
  }

  /** A serial execution in generation order, laid out in a shuffled order. */
  private long serial(HistoryBuilder history) {
    List<Pending> txns = new ArrayList<>(options.transactions());
    for (int i = 0; i < options.transactions(); i++) {
      Pending txn = next();
      if (txn.outcome == Outcome.OK || txn.outcome == Outcome.INFO_APPLIED) {
        txn.result = apply(txn.invoked);
      }
      txns.add(txn);
    }
    for (int i = txns.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Pending swap = txns.get(i);
      txns.set(i, txns.get(j));
      txns.set(j, swap);
    }
    int clients = options.clients();
    long[] process = new long[clients];
    Pending[] running = new Pending[clients];
    for (int c = 0; c < clients; c++) {
      process[c] = c;
    }
    nextProcess = clients;
    long time = 0;
    int next = 0;
    int open = 0;
    while (next < txns.size() || open > 0) {
      time += 1 + random.nextInt(3);
      int c = random.nextInt(clients);
      Pending txn = running[c];
      if (txn == null) {
        if (next < txns.size()) {
          running[c] = txns.get(next++);
          history.invoke(process[c], Txn.F, running[c].invoked, time);
          open++;
        }
        continue;
      }
      switch (txn.outcome) {
        case OK -> history.ok(process[c], Txn.F, txn.result, time);
        case FAIL -> history.fail(process[c], Txn.F, txn.invoked, time);
        default -> {
          history.info(process[c], Txn.F, txn.invoked, time);
          process[c] = nextProcess++;
        }
      }
      running[c] = null;
      open--;
    }
    return time;
  }
}
