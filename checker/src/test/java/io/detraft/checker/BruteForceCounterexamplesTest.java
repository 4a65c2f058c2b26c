package io.detraft.checker;

import static io.detraft.checker.AnomalyType.G2_ITEM;
import static io.detraft.checker.AnomalyType.G_SINGLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Histories where {@link ElleChecker} and {@link TxnBruteForce} once disagreed (the issue's
 * example, and what {@link ListAppendBruteForceProperties} found), kept as golden files.
 */
class BruteForceCounterexamplesTest {
  private static void assertInvalid(String name, AnomalyType expected) {
    History history = ElleCorpusTest.load(name);
    for (boolean strict : new boolean[] {false, true}) {
      assertFalse(TxnBruteForce.isSerializable(history, strict), name);
      ElleResult result = ElleChecker.checkListAppend(history,
          strict ? ConsistencyModel.STRICT_SERIALIZABLE : ConsistencyModel.SERIALIZABLE);
      assertEquals(Verdict.INVALID, result.verdict(), result::toString);
      assertTrue(result.anomalyTypes().contains(expected), result::toString);
    }
  }

  @Test
  void writeSkewThroughEmptyReads() {
    assertInvalid("la-write-skew-unobserved.edn", G2_ITEM);
  }

  @Test
  void anInfoTransactionSeenOnOneKeyHasItsOtherAppendsPlaced() {
    assertInvalid("la-bf-info-observed.edn", G_SINGLE);
    List<Anomaly> found = ElleChecker.checkListAppend(
        ElleCorpusTest.load("la-bf-info-observed.edn"), ConsistencyModel.SERIALIZABLE)
        .anomalies(G_SINGLE);
    assertEquals(List.of(0L, 5L), found.get(0).invokeIndexes(), found::toString);
  }

  @Test
  void bruteForceAcceptsTheValidCorpus() {
    for (String name : List.of("la-valid-serial.edn", "la-valid-concurrent.edn")) {
      assertTrue(TxnBruteForce.isSerializable(ElleCorpusTest.load(name), true), name);
    }
  }
}
