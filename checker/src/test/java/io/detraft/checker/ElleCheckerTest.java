package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The public API as a simulator uses it, and the shapes it rejects. */
class ElleCheckerTest {

  @Test
  void recordsWithHistoryBuilderUsingKeywordsOrStrings() {
    History history = new HistoryBuilder()
        .invoke(0, Txn.F, List.of(Txn.append(5L, 1L), Txn.read(6L)), 0)
        .ok(0, Txn.F, List.of(Txn.append(5L, 1L), Txn.read(6L, List.of())), 1)
        // Plain strings, as the example and JSON give them.
        .invoke(1, Txn.F, List.of(List.of("append", 6L, 1L), Arrays.asList("r", 5L, null)), 2)
        .ok(1, Txn.F, List.of(List.of("append", 6L, 1L), List.of("r", 5L, List.of(1L))), 3)
        .build();
    ElleResult result = ElleChecker.checkListAppend(history, ConsistencyModel.STRICT_SERIALIZABLE);
    assertTrue(result.isValid(), result::toString);
    assertEquals(2, result.transactions());
    assertEquals("VALID under strict-serializable: 2 transactions, no anomalies.\n",
        result.explanation());
  }

  private static HistoryFormatException rejected(Object invoked, Object completed) {
    HistoryBuilder builder = new HistoryBuilder().invoke(0, Txn.F, invoked, 0);
    if (completed != null) {
      builder.ok(0, Txn.F, completed, 1);
    }
    History history = builder.build();
    return assertThrows(HistoryFormatException.class,
        () -> ElleChecker.checkListAppend(history, ConsistencyModel.SERIALIZABLE));
  }

  @Test
  void rejectsMalformedTransactionsNamingTheOp() {
    assertEquals(0, rejected(List.of(List.of("append", 1L)), null).opIndex());
    assertTrue(rejected("not a list", null).getMessage().contains("list of micro-ops"));
    assertTrue(rejected(List.of(List.of("w", 1L, 1L)), null).getMessage()
        .contains("unknown function \"w\""));
    assertTrue(rejected(List.of(List.of("append", List.of(1L), 1L)), null).getMessage()
        .contains("the key must be"));
    assertTrue(rejected(List.of(Txn.append(1L, true)), null).getMessage()
        .contains("appended element must be"));
    HistoryFormatException mismatch = rejected(List.of(Txn.append(1L, 2L)),
        List.of(Txn.append(1L, 3L)));
    assertEquals(1, mismatch.opIndex());
    assertTrue(mismatch.getMessage().contains("does not match the invoked"), mismatch.getMessage());
    HistoryFormatException count = rejected(List.of(Txn.read(1L)), List.of());
    assertTrue(count.getMessage().contains("has 0 micro-ops but its invoke"), count.getMessage());
    HistoryFormatException badRead = rejected(List.of(Txn.read(1L)), List.of(Txn.read(1L, 5L)));
    assertTrue(badRead.getMessage().contains("must return a list or nil"), badRead.getMessage());
  }

  @Test
  void rejectsOtherFunctionsRepeatedElementsAndBackwardTime() {
    History notTxn = new HistoryBuilder().invoke(0, Kv.GET, Kv.pair(1L, null), 0).build();
    HistoryFormatException f = assertThrows(HistoryFormatException.class,
        () -> ElleChecker.checkListAppend(notTxn, ConsistencyModel.SERIALIZABLE));
    assertTrue(f.getMessage().contains("f is 'get'"), f.getMessage());

    History twice = new HistoryBuilder()
        .invoke(0, Txn.F, List.of(Txn.append(1L, 7L)), 0)
        .invoke(1, Txn.F, List.of(Txn.append(1L, 7L)), 1)
        .build();
    HistoryFormatException repeated = assertThrows(HistoryFormatException.class,
        () -> ElleChecker.checkListAppend(twice, ConsistencyModel.SERIALIZABLE));
    assertEquals(1, repeated.opIndex());
    assertTrue(repeated.getMessage().contains("appended to key 1 again (first by op 0)"));

    History registerTwice = new HistoryBuilder()
        .invoke(0, Txn.F, List.of(Txn.write(1L, 7L), Txn.write(1L, 7L)), 0)
        .build();
    assertThrows(HistoryFormatException.class,
        () -> ElleChecker.checkRwRegister(registerTwice, ConsistencyModel.SERIALIZABLE));

    History backwards = new HistoryBuilder()
        .invoke(0, Txn.F, List.of(Txn.read(1L)), 10)
        .ok(0, Txn.F, List.of(Txn.read(1L, List.of())), 20)
        .invoke(0, Txn.F, List.of(Txn.read(1L)), 15)
        .build();
    HistoryFormatException time = assertThrows(HistoryFormatException.class,
        () -> ElleChecker.checkListAppend(backwards, ConsistencyModel.SERIALIZABLE));
    assertEquals(2, time.opIndex());
  }

  @Test
  void keepsAFewOfEachTypeButCountsAll() {
    HistoryBuilder builder = new HistoryBuilder();
    for (long p = 0; p < 30; p++) {
      builder.invoke(p, Txn.F, List.of(Txn.read(p)), 2 * p);
      builder.ok(p, Txn.F, List.of(Txn.read(p, List.of(99L))), 2 * p + 1);
    }
    ElleOptions options = new ElleOptions(ConsistencyModel.READ_UNCOMMITTED, false, false,
        ElleOptions.DEFAULT_MAX_SEARCH_STEPS, 3);
    ElleResult result = ElleChecker.checkListAppend(builder.build(), options);
    assertEquals(30, result.anomalyCounts().get(AnomalyType.GARBAGE_READ));
    assertEquals(3, result.anomalies(AnomalyType.GARBAGE_READ).size());
    assertTrue(result.explanation().contains("(27 more garbage-read not shown)"),
        result::toString);
  }

  @Test
  void wwEdgesAreExplainedWithTheVersionOrder() {
    ElleResult result = ElleChecker.checkListAppend(ElleCorpusTest.load("la-g0.edn"),
        ConsistencyModel.SERIALIZABLE);
    String explanation = result.anomalies(AnomalyType.G0).get(0).explanation();
    assertTrue(explanation.contains("T2 appended 2 to key :x right after T1's 1 (key :x reads "
        + "[1 2]), so T1 ww-> T2;"), explanation);
    assertTrue(explanation.contains("then T1 appended 1 to key :y right after T2's 2 (key :y "
        + "reads [2 1]), so T2 ww-> T1."), explanation);
  }

  @Test
  void modelsAndTheAnomaliesTheyProhibit() {
    for (ConsistencyModel model : ConsistencyModel.values()) {
      assertEquals(model, ConsistencyModel.fromName(model.modelName()));
      assertTrue(ConsistencyModel.STRICT_SERIALIZABLE.implies(model), model::toString);
      assertTrue(model.implies(ConsistencyModel.READ_UNCOMMITTED), model::toString);
    }
    assertFalse(ConsistencyModel.SNAPSHOT_ISOLATION.implies(ConsistencyModel.REPEATABLE_READ));
    assertFalse(ConsistencyModel.REPEATABLE_READ.implies(ConsistencyModel.SNAPSHOT_ISOLATION));
    assertTrue(ConsistencyModel.SERIALIZABLE.implies(ConsistencyModel.SNAPSHOT_ISOLATION));
    assertEquals(EnumSet.of(ConsistencyModel.SERIALIZABLE,
            ConsistencyModel.REPEATABLE_READ, ConsistencyModel.STRONG_SESSION_SERIALIZABLE,
            ConsistencyModel.STRICT_SERIALIZABLE),
        ConsistencyModel.ruledOutBy(EnumSet.of(AnomalyType.G2_ITEM)));
    assertEquals(EnumSet.of(ConsistencyModel.STRICT_SERIALIZABLE),
        ConsistencyModel.ruledOutBy(EnumSet.of(AnomalyType.G_SINGLE_REALTIME)));
    assertEquals(EnumSet.of(ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION,
            ConsistencyModel.STRONG_SESSION_SERIALIZABLE, ConsistencyModel.STRICT_SERIALIZABLE),
        ConsistencyModel.ruledOutBy(EnumSet.of(AnomalyType.G_SINGLE_PROCESS)));
    assertEquals(EnumSet.allOf(ConsistencyModel.class),
        ConsistencyModel.ruledOutBy(EnumSet.of(AnomalyType.G0)));
    assertThrows(IllegalArgumentException.class, () -> ConsistencyModel.fromName("acid"));
    for (AnomalyType type : AnomalyType.values()) {
      assertEquals(type, AnomalyType.fromElleName(type.elleName()));
      assertFalse(ConsistencyModel.ruledOutBy(EnumSet.of(type)).isEmpty(), type::toString);
    }
    assertEquals("G-nonadjacent-process", AnomalyType.G_NONADJACENT_PROCESS.elleName());
    assertEquals("G1a", AnomalyType.G1A.elleName());
  }
}
