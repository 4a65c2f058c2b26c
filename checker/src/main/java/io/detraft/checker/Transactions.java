package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A transactional history flattened into arrays: transaction {@code t} (numbered in invoke
 * order) has micro-ops {@code mopStart[t] .. mopStart[t+1]-1}. Parsing checks the shape
 * described in {@link Txn} and throws a {@link HistoryFormatException} naming the op.
 *
 * <p>Arrays rather than objects per micro-op: a million-transaction history has millions of
 * micro-ops, and the analyses walk them several times.
 */
final class Transactions {
  enum Workload {
    LIST_APPEND("append"),
    RW_REGISTER("w");

    final String writeName;

    Workload(String writeName) {
      this.writeName = writeName;
    }
  }

  static final byte READ = 0;
  /** An append (list-append) or a write (rw-register). */
  static final byte WRITE = 1;

  final History history;
  final Workload workload;
  final int count;
  final Operation[] operation;
  /** OK, FAIL or INFO; an operation still open at the end counts as INFO. */
  final OpType[] outcome;
  final int[] mopStart;
  final byte[] mopF;
  final int[] mopKey;
  /**
   * The element appended / value written, or what an ok read returned (list-append: a List,
   * nil read as the empty list); null for reads of transactions that did not commit.
   */
  final Object[] mopValue;
  final List<Object> keys;

  private Transactions(History history, Workload workload, int mopCount) {
    List<Operation> operations = history.operations();
    this.history = history;
    this.workload = workload;
    this.count = operations.size();
    this.operation = operations.toArray(new Operation[0]);
    this.outcome = new OpType[count];
    this.mopStart = new int[count + 1];
    this.mopF = new byte[mopCount];
    this.mopKey = new int[mopCount];
    this.mopValue = new Object[mopCount];
    this.keys = new ArrayList<>();
  }

  boolean committed(int txn) {
    return outcome[txn] == OpType.OK;
  }

  boolean failed(int txn) {
    return outcome[txn] == OpType.FAIL;
  }

  /** The index of the op that started transaction {@code txn}, for messages. */
  long invokeIndex(int txn) {
    return operation[txn].invoke().index();
  }

  static Transactions parse(History history, Workload workload) {
    List<Operation> operations = history.operations();
    int mopCount = 0;
    for (Operation operation : operations) {
      mopCount += microOps(operation.invoke(), workload).size();
    }
    Transactions txns = new Transactions(history, workload, mopCount);
    txns.fill(workload);
    checkProcessTimes(history);
    return txns;
  }

  private void fill(Workload workload) {
    Map<Object, Integer> keyIds = new HashMap<>();
    int mop = 0;
    for (int t = 0; t < count; t++) {
      Operation op = operation[t];
      outcome[t] = op.outcome();
      mopStart[t] = mop;
      List<?> invoked = microOps(op.invoke(), workload);
      List<?> completed = outcome[t] == OpType.OK ? microOps(op.completion(), workload) : null;
      if (completed != null && completed.size() != invoked.size()) {
        throw new HistoryFormatException(op.completion().index(), "the ok transaction has "
            + completed.size() + " micro-ops but its invoke (op " + op.invoke().index()
            + ") has " + invoked.size());
      }
      for (int i = 0; i < invoked.size(); i++, mop++) {
        List<?> mine = microOp(op.invoke(), invoked.get(i), i, workload);
        byte f = functionOf(mine.get(0), workload, op.invoke().index(), i);
        Object key = mine.get(1);
        if (!(key instanceof Long || key instanceof String || key instanceof Keyword)) {
          throw new HistoryFormatException(op.invoke().index(), "micro-op " + i + " "
              + Values.format(mine) + ": the key must be an integer, string or keyword");
        }
        Object value = mine.get(2);
        if (completed != null) {
          List<?> result = microOp(op.completion(), completed.get(i), i, workload);
          byte resultF = functionOf(result.get(0), workload, op.completion().index(), i);
          if (resultF != f || !key.equals(result.get(1))
              || (f == WRITE && !Objects.equals(value, result.get(2)))) {
            throw new HistoryFormatException(op.completion().index(), "micro-op " + i + " "
                + Values.format(result) + " does not match the invoked "
                + Values.format(mine));
          }
          value = result.get(2);
        }
        mopF[mop] = f;
        mopKey[mop] = keyIds.computeIfAbsent(key, k -> {
          keys.add(k);
          return keys.size() - 1;
        });
        mopValue[mop] = checkValue(f, value, completed != null, op, i, mine);
      }
    }
    mopStart[count] = mop;
  }

  private Object checkValue(byte f, Object value, boolean committed, Operation op, int i,
      List<?> mop) {
    long at = committed ? op.completion().index() : op.invoke().index();
    if (f == WRITE) {
      if (!(value instanceof Long || value instanceof String)) {
        throw new HistoryFormatException(at, "micro-op " + i + " " + Values.format(mop)
            + ": the " + (workload == Workload.LIST_APPEND ? "appended element" : "written value")
            + " must be an integer or a string");
      }
      return value;
    }
    if (!committed) {
      return null;
    }
    if (workload == Workload.LIST_APPEND) {
      if (value == null) {
        return List.of();
      }
      if (!(value instanceof List<?> list)) {
        throw new HistoryFormatException(at, "micro-op " + i + ": a list-append read must "
            + "return a list or nil, got " + Values.format(value));
      }
      for (Object element : list) {
        if (!(element instanceof Long || element instanceof String)) {
          throw new HistoryFormatException(at, "micro-op " + i + ": read element "
              + Values.format(element) + " is not an integer or a string");
        }
      }
      return list;
    }
    if (value != null && !(value instanceof Long || value instanceof String)) {
      throw new HistoryFormatException(at, "micro-op " + i + ": a register read must return "
          + "an integer, a string or nil, got " + Values.format(value));
    }
    return value;
  }

  private static List<?> microOps(Op op, Workload workload) {
    if (!op.f().equals(Txn.F)) {
      throw new HistoryFormatException(op.index(), "f is '" + op.f() + "', but a "
          + workload.name().toLowerCase(Locale.ROOT).replace('_', '-')
          + " history holds only '" + Txn.F + "' operations");
    }
    if (!(op.value() instanceof List<?> list)) {
      throw new HistoryFormatException(op.index(), "a transaction's value must be a list of "
          + "micro-ops, got " + Values.format(op.value()));
    }
    return list;
  }

  private static List<?> microOp(Op op, Object mop, int i, Workload workload) {
    if (mop instanceof List<?> list && list.size() == 3) {
      return list;
    }
    throw new HistoryFormatException(op.index(), "micro-op " + i + " " + Values.format(mop)
        + " must be a list [f key value], e.g. [:r 1 nil] or [:" + workload.writeName
        + " 1 2]");
  }

  private static byte functionOf(Object f, Workload workload, long at, int i) {
    String name = f instanceof Keyword keyword ? keyword.name()
        : f instanceof String string ? string : null;
    if ("r".equals(name)) {
      return READ;
    }
    if (workload.writeName.equals(name)) {
      return WRITE;
    }
    throw new HistoryFormatException(at, "micro-op " + i + ": unknown function "
        + Values.format(f) + "; this workload knows r and " + workload.writeName);
  }

  /**
   * Process order and real-time order must agree, or they could form a cycle of their own:
   * a process may not invoke before its previous operation completed.
   */
  private static void checkProcessTimes(History history) {
    Map<Long, Long> lastCompletion = new HashMap<>();
    for (Op op : history.ops()) {
      if (op.type() == OpType.INVOKE) {
        Long previous = lastCompletion.get(op.process());
        if (previous != null && op.time() < previous) {
          throw new HistoryFormatException(op.index(), "process " + op.process()
              + " invokes at time " + op.time() + ", before its previous operation completed"
              + " at time " + previous);
        }
      } else {
        lastCompletion.put(op.process(), op.time());
      }
    }
  }
}
