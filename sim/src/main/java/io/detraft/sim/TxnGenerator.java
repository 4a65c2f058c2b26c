package io.detraft.sim;

import io.detraft.checker.Txn;
import java.util.ArrayList;
import java.util.List;

/**
 * Draws the list-append workload's transactions (Jepsen's list-append generator): each one
 * picks a group, then 1 to {@code maxTxnLength} micro-ops on that group's keys in use, so the
 * whole transaction is one command of one Raft group. Elements come from one counter, hence
 * unique per key, which is what lets the checker tell which append a read saw.
 *
 * <p>Each group keeps {@code keysPerGroup} keys in use; a key retires once it took {@code
 * appendsPerKey} appends and a fresh key takes its slot. Short lists keep reads, results and
 * the session's remembered answers small, while fresh keys keep the version orders the checker
 * infers short and easy to contradict.
 *
 * <p>List keys start at {@link #FIRST_KEY}, above every KV key, and key {@code k} belongs to
 * group {@code 1 + (k - FIRST_KEY) % groups}.
 */
final class TxnGenerator {
  /** The first list key: the KV workload uses keys below it. */
  static final long FIRST_KEY = 1000;

  /** A transaction to run: its group and micro-ops. */
  record Drawn(long group, List<ListTxn.MicroOp> ops) {}

  private final SimOptions.ListAppendOptions options;
  private final SimRandom random;
  private final int groups;
  /** Per group (index group - 1) and slot: the key in use and the appends it took. */
  private final long[][] keys;
  private final int[][] appends;
  /** Per group: keys handed out so far. */
  private final long[] keysUsed;
  private long nextElement = 1;

  TxnGenerator(SimOptions.ListAppendOptions options, int groups, SimRandom random) {
    this.options = options;
    this.random = random;
    this.groups = groups;
    this.keys = new long[groups][options.keysPerGroup()];
    this.appends = new int[groups][options.keysPerGroup()];
    this.keysUsed = new long[groups];
    for (int g = 0; g < groups; g++) {
      for (int slot = 0; slot < options.keysPerGroup(); slot++) {
        keys[g][slot] = freshKey(g);
      }
    }
  }

  Drawn next() {
    int g = random.nextInt(groups);
    int length = 1 + random.nextInt(options.maxTxnLength());
    List<ListTxn.MicroOp> ops = new ArrayList<>(length);
    for (int i = 0; i < length; i++) {
      int slot = random.nextInt(options.keysPerGroup());
      long key = keys[g][slot];
      if (random.chance(options.readFraction())) {
        ops.add(ListTxn.MicroOp.read(key));
        continue;
      }
      ops.add(ListTxn.MicroOp.append(key, nextElement++));
      if (++appends[g][slot] == options.appendsPerKey()) {
        keys[g][slot] = freshKey(g);
        appends[g][slot] = 0;
      }
    }
    return new Drawn(g + 1, ops);
  }

  private long freshKey(int g) {
    return FIRST_KEY + keysUsed[g]++ * groups + g;
  }

  /** The transaction as the history records its invocation: reads unknown ({@code nil}). */
  static List<Object> invokeValue(List<ListTxn.MicroOp> ops) {
    List<Object> value = new ArrayList<>(ops.size());
    for (ListTxn.MicroOp op : ops) {
      value.add(op.append() ? Txn.append(op.key(), op.element()) : Txn.read(op.key()));
    }
    return value;
  }

  /** The transaction as the history records its completion: each read with what it saw. */
  static List<Object> okValue(List<ListTxn.MicroOp> ops, List<long[]> reads) {
    long expected = ops.stream().filter(op -> !op.append()).count();
    if (reads.size() != expected) {
      throw new SimulationFailure("txn-result", reads.size() + " read results for " + expected
          + " reads in " + ops);
    }
    List<Object> value = new ArrayList<>(ops.size());
    int read = 0;
    for (ListTxn.MicroOp op : ops) {
      if (op.append()) {
        value.add(Txn.append(op.key(), op.element()));
        continue;
      }
      long[] seen = reads.get(read++);
      List<Long> elements = new ArrayList<>(seen.length);
      for (long element : seen) {
        elements.add(element);
      }
      value.add(Txn.read(op.key(), elements));
    }
    return value;
  }
}
