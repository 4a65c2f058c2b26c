package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.detraft.checker.SmallListAppendStore.Fault;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Issue 20: on small list-append histories (up to eight transactions, some crashed or
 * failed), from a correct store and from stores with one fault planted, {@link ElleChecker}
 * must reach exactly the verdict of {@link TxnBruteForce}, which tries every serial order:
 * never unknown (the budget cannot run out on so few transactions), never a false alarm,
 * never a missed anomaly. Counterexamples it found are in the corpus ({@code la-bf-*.edn}).
 */
class ListAppendBruteForceProperties {

  @Property(tries = 6000)
  void verdictEqualsBruteForce(@ForAll long seed, @ForAll Fault fault) {
    History history = SmallListAppendStore.generate(seed, fault);
    for (boolean strict : new boolean[] {false, true}) {
      ConsistencyModel model = strict ? ConsistencyModel.STRICT_SERIALIZABLE
          : ConsistencyModel.SERIALIZABLE;
      boolean expected = TxnBruteForce.isSerializable(history, strict);
      ElleResult result = ElleChecker.checkListAppend(history, model);
      assertEquals(expected ? Verdict.VALID : Verdict.INVALID, result.verdict(),
          () -> "brute force says " + (expected ? "valid" : "invalid") + " under "
              + model.modelName() + "\n" + EdnHistory.print(history) + "\n" + result);
    }
  }
}
