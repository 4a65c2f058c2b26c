package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A deliberately naive serializability checker for small list-append histories, written
 * independently of {@link ElleChecker} to cross-check it. It knows nothing of dependency
 * graphs: it runs the transactions one at a time, in every order, against a store of lists,
 * and asks whether some order reproduces every read of every committed transaction.
 *
 * <ul>
 *   <li>ok transactions must all run, and each read must return exactly the key's list then
 *       (its own earlier appends included);
 *   <li>failed transactions never run;
 *   <li>info (crashed or open) transactions may run or not; what they read is unknown;
 *   <li>strict: a transaction may run only once every ok transaction that completed before it
 *       was invoked has run (an info transaction never completed, so it binds nobody).
 * </ul>
 *
 * <p>Depth-first over orders, remembering the (ran set, store) states that led nowhere.
 */
final class TxnBruteForce {
  private static final int MAX_TRANSACTIONS = 16;

  private record Txn(boolean committed, List<List<?>> mops, long invokeTime, long invokeIndex,
      long completeTime, long completeIndex) {}

  private final List<Txn> txns = new ArrayList<>();
  private final boolean strict;
  private final Set<String> deadEnds = new HashSet<>();

  private TxnBruteForce(History history, boolean strict) {
    this.strict = strict;
    for (Operation operation : history.operations()) {
      OpType outcome = operation.outcome();
      if (outcome == OpType.FAIL) {
        continue;
      }
      boolean committed = outcome == OpType.OK;
      Op source = committed ? operation.completion() : operation.invoke();
      List<List<?>> mops = new ArrayList<>();
      for (Object mop : (List<?>) source.value()) {
        mops.add((List<?>) mop);
      }
      Op completion = operation.completion();
      txns.add(new Txn(committed, mops, operation.invoke().time(), operation.invoke().index(),
          committed ? completion.time() : Long.MAX_VALUE,
          committed ? completion.index() : Long.MAX_VALUE));
    }
    if (txns.size() > MAX_TRANSACTIONS) {
      throw new IllegalArgumentException("too many transactions for brute force: "
          + txns.size());
    }
  }

  /** Whether some serial order (respecting real time if {@code strict}) explains the reads. */
  static boolean isSerializable(History history, boolean strict) {
    TxnBruteForce search = new TxnBruteForce(history, strict);
    return search.search(0, new TreeMap<>());
  }

  private boolean search(int ran, Map<String, List<Object>> store) {
    if (allCommittedRan(ran)) {
      return true;
    }
    String state = ran + " " + store;
    if (deadEnds.contains(state)) {
      return false;
    }
    for (int i = 0; i < txns.size(); i++) {
      if ((ran & 1 << i) != 0 || !mayRun(i, ran)) {
        continue;
      }
      Map<String, List<Object>> after = run(txns.get(i), store);
      if (after != null && search(ran | 1 << i, after)) {
        return true;
      }
    }
    deadEnds.add(state);
    return false;
  }

  private boolean allCommittedRan(int ran) {
    for (int i = 0; i < txns.size(); i++) {
      if (txns.get(i).committed() && (ran & 1 << i) == 0) {
        return false;
      }
    }
    return true;
  }

  private boolean mayRun(int i, int ran) {
    if (!strict) {
      return true;
    }
    Txn txn = txns.get(i);
    for (int j = 0; j < txns.size(); j++) {
      Txn other = txns.get(j);
      boolean before = other.completeTime() < txn.invokeTime()
          || (other.completeTime() == txn.invokeTime()
              && other.completeIndex() < txn.invokeIndex());
      if (j != i && other.committed() && before && (ran & 1 << j) == 0) {
        return false;
      }
    }
    return true;
  }

  /** The store after {@code txn}, or null if one of its reads cannot be what it saw. */
  private static Map<String, List<Object>> run(Txn txn, Map<String, List<Object>> store) {
    Map<String, List<Object>> after = new TreeMap<>(store);
    for (List<?> mop : txn.mops()) {
      String key = Values.format(mop.get(1));
      List<Object> current = after.getOrDefault(key, List.of());
      if (mop.get(0).equals(io.detraft.checker.Txn.READ)) {
        Object seen = mop.get(2) == null ? List.of() : mop.get(2);
        if (txn.committed() && !current.equals(seen)) {
          return null;
        }
      } else {
        List<Object> grown = new ArrayList<>(current);
        grown.add(mop.get(2));
        after.put(key, List.copyOf(grown));
      }
    }
    return after;
  }
}
