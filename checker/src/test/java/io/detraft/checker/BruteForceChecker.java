package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A deliberately naive linearizability checker for small key/value histories, written
 * independently of the real one to cross-check it: it tries every order of the operations of
 * all keys at once (no per-key split, no pruning of crashed writes, no cache).
 */
final class BruteForceChecker {
  private record Candidate(Operation source, String f, Object key, Object first, Object second,
      boolean definite) {}

  private final List<Candidate> candidates = new ArrayList<>();

  private BruteForceChecker(History history) {
    for (Operation operation : history.operations()) {
      OpType outcome = operation.outcome();
      List<?> argument = (List<?>) operation.invoke().value();
      if (outcome == OpType.FAIL || (operation.f().equals(Kv.GET) && outcome != OpType.OK)) {
        continue;
      }
      Object first = argument.get(1);
      Object second = null;
      if (operation.f().equals(Kv.GET)) {
        first = ((List<?>) operation.completion().value()).get(1);
      } else if (operation.f().equals(Kv.CAS)) {
        first = ((List<?>) argument.get(1)).get(0);
        second = ((List<?>) argument.get(1)).get(1);
      }
      candidates.add(new Candidate(operation, operation.f(), argument.get(0), first, second,
          outcome == OpType.OK));
    }
    if (candidates.size() > 12) {
      throw new IllegalArgumentException("too many operations for brute force");
    }
  }

  static boolean isLinearizable(History history) {
    BruteForceChecker checker = new BruteForceChecker(history);
    return checker.search(new boolean[checker.candidates.size()], new HashMap<>());
  }

  private boolean search(boolean[] done, Map<Object, Object> state) {
    boolean allDefiniteDone = true;
    for (int i = 0; i < done.length; i++) {
      allDefiniteDone &= done[i] || !candidates.get(i).definite();
    }
    if (allDefiniteDone) {
      return true;
    }
    for (int i = 0; i < done.length; i++) {
      if (done[i] || mustWait(i, done)) {
        continue;
      }
      Candidate candidate = candidates.get(i);
      Object current = state.get(candidate.key());
      Object next;
      switch (candidate.f()) {
        case Kv.GET -> {
          if (!Objects.equals(current, candidate.first())) {
            continue;
          }
          next = current;
        }
        case Kv.PUT -> next = candidate.first();
        case Kv.DELETE -> next = null;
        case Kv.CAS -> {
          if (!Objects.equals(current, candidate.first())) {
            continue;
          }
          next = candidate.second();
        }
        default -> throw new IllegalArgumentException(candidate.f());
      }
      Map<Object, Object> after = new HashMap<>(state);
      after.put(candidate.key(), next);
      done[i] = true;
      boolean found = search(done, after);
      done[i] = false;
      if (found) {
        return true;
      }
    }
    return false;
  }

  /** Whether an unfinished definite operation completed before candidate {@code i} started. */
  private boolean mustWait(int i, boolean[] done) {
    Op invoke = candidates.get(i).source().invoke();
    for (int j = 0; j < done.length; j++) {
      if (done[j] || j == i || !candidates.get(j).definite()) {
        continue;
      }
      Op completion = candidates.get(j).source().completion();
      boolean before = completion.time() < invoke.time()
          || (completion.time() == invoke.time() && completion.index() < invoke.index());
      if (before) {
        return true;
      }
    }
    return false;
  }
}
