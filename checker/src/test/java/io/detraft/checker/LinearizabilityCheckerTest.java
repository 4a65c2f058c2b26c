package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.LinearizabilityChecker.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-written histories with definite outcomes (ok and fail); see also the info tests. */
class LinearizabilityCheckerTest {
  static final Long KEY = 1L;

  static Result assertValid(Timeline timeline) {
    Result result = LinearizabilityChecker.check(timeline.build());
    assertEquals(Verdict.VALID, result.verdict(), result::toString);
    return result;
  }

  /** Asserts INVALID on {@code key} and that the explanation contains each fragment. */
  static Result assertInvalid(Timeline timeline, Object key, String... fragments) {
    Result result = LinearizabilityChecker.check(timeline.build());
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertEquals(key, result.key());
    assertEquals(OpType.OK, result.blocked().outcome(), "only a definite op can be blocked");
    for (String fragment : fragments) {
      assertTrue(result.toString().contains(fragment),
          () -> "explanation lacks '" + fragment + "':\n" + result);
    }
    return result;
  }

  @Test
  void emptyHistoryIsValid() {
    Result result = assertValid(new Timeline());
    assertEquals(0, result.keysChecked());
    assertTrue(result.toString().startsWith("VALID"), result::toString);
  }

  @Test
  void sequentialPutThenGetIsValid() {
    assertValid(new Timeline().put(1, KEY, 5L, 0, 10).get(2, KEY, 5L, 20, 30));
  }

  @Test
  void getOfAKeyNeverWrittenReadsNil() {
    assertValid(new Timeline().get(1, KEY, null, 0, 10));
  }

  @Test
  void aGetOverlappingAPutMaySeeEitherValue() {
    Timeline before = new Timeline().put(1, KEY, 1L, 0, 10).put(2, KEY, 2L, 20, 40);
    assertValid(before.get(3, KEY, 1L, 30, 50));
    Timeline after = new Timeline().put(1, KEY, 1L, 0, 10).put(2, KEY, 2L, 20, 40);
    assertValid(after.get(3, KEY, 2L, 30, 50));
  }

  @Test
  void concurrentPutsMayBeOrderedEitherWayButReadsMustAgree() {
    // Both puts overlap; later reads pick one order, and must keep it.
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 20).put(2, KEY, 2L, 5, 25)
        .get(3, KEY, 1L, 30, 40).get(4, KEY, 1L, 50, 60));
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 20).put(2, KEY, 2L, 5, 25)
        .get(3, KEY, 2L, 30, 40));
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 20).put(2, KEY, 2L, 5, 25)
            .get(3, KEY, 2L, 30, 40).get(4, KEY, 1L, 50, 60),
        KEY, "read 1 but key 1 holds 2");
  }

  @Test
  void readsMayLinearizeBeforeAConcurrentWriteThatInvokedFirst() {
    // The put is invoked first but the overlapping get may still take effect before it.
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .put(2, KEY, 2L, 20, 100)
        .get(3, KEY, 1L, 30, 40)
        .get(4, KEY, 2L, 50, 60)
        .get(3, KEY, 2L, 70, 80));
  }

  @Test
  void casSucceedsOnlyFromTheExpectedValueAndFailedCasHasNoEffect() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .cas(2, KEY, 1L, 2L, OpType.OK, 20, 30)
        .cas(3, KEY, 1L, 3L, OpType.FAIL, 40, 50)
        .get(1, KEY, 2L, 60, 70));
    assertValid(new Timeline()
        .cas(1, KEY, null, 7L, OpType.OK, 0, 10)
        .get(2, KEY, 7L, 20, 30));
  }

  @Test
  void deleteThenGetReadsNil() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .delete(2, KEY, 20, 30)
        .get(3, KEY, null, 40, 50)
        .put(1, KEY, 2L, 60, 70)
        .get(3, KEY, 2L, 80, 90));
  }

  @Test
  void staleReadAfterACompletedPutIsInvalid() {
    Result result = assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(2, KEY, 2L, 20, 30)
            .get(3, KEY, 1L, 40, 50),
        KEY, "INVALID", "key 1 is not linearizable", "read 1 but key 1 holds 2",
        "Longest linearizable prefix: 2 of the 3 operations");
    assertEquals(Kv.GET, result.blocked().f());
    assertEquals(3L, result.blocked().process());
  }

  @Test
  void lostWriteIsInvalid() {
    // put 2 was acknowledged, yet every later read on every process sees the older value.
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(2, KEY, 2L, 20, 30)
            .get(3, KEY, 1L, 35, 45)
            .get(4, KEY, 1L, 50, 60)
            .get(1, KEY, 1L, 70, 80),
        KEY, "read 1 but key 1 holds 2");
  }

  @Test
  void twoConcurrentCasFromTheSameExpectedValueCannotBothSucceed() {
    assertInvalid(new Timeline()
            .put(1, KEY, 0L, 0, 10)
            .cas(2, KEY, 0L, 1L, OpType.OK, 20, 40)
            .cas(3, KEY, 0L, 2L, OpType.OK, 25, 45),
        KEY, "expected 0 but key 1 holds");
  }

  @Test
  void readOfAValueNeverWrittenIsInvalid() {
    Result result = assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .get(2, KEY, 9L, 20, 30),
        KEY, "read 9 but key 1 holds 1");
    assertEquals(20L, result.blocked().invoke().time());
  }

  @Test
  void readOfAFailedPutIsInvalid() {
    assertValid(new Timeline()
        .put(1, KEY, 5L, OpType.FAIL, 0, 10)
        .get(2, KEY, null, 20, 30));
    assertInvalid(new Timeline()
            .put(1, KEY, 5L, OpType.FAIL, 0, 10)
            .get(2, KEY, 5L, 20, 30),
        KEY, "read 5 but key 1 holds nil");
  }

  @Test
  void nilAfterACompletedPutWithoutDeleteIsInvalid() {
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .get(2, KEY, null, 20, 30),
        KEY, "read nil but key 1 holds 1");
  }

  @Test
  void stringKeysAndValuesCompareByEquality() {
    assertValid(new Timeline()
        .put(1, "k", "v1", 0, 10)
        .cas(2, "k", "v1", "v2", OpType.OK, 20, 30)
        .get(3, "k", "v2", 40, 50));
    assertInvalid(new Timeline()
            .put(1, "k", "v1", 0, 10)
            .get(3, "k", 1L, 40, 50),
        "k", "read 1 but key \"k\" holds \"v1\"");
  }

  @Test
  void anOperationEndingWhenAnotherStartsPrecedesItIfRecordedFirst() {
    // Timeline records the completion at t=10 before the invoke at t=10: ordered.
    assertInvalid(new Timeline().put(1, KEY, 1L, 0, 10).get(2, KEY, null, 10, 20), KEY);
    // The same times, but the get's invoke recorded first: the two overlap.
    History overlapping = new HistoryBuilder()
        .invoke(1, Kv.PUT, Kv.pair(KEY, 1L), 0)
        .invoke(2, Kv.GET, Kv.pair(KEY, null), 10)
        .ok(1, Kv.PUT, Kv.pair(KEY, 1L), 10)
        .ok(2, Kv.GET, Kv.pair(KEY, null), 20)
        .build();
    assertEquals(Verdict.VALID, LinearizabilityChecker.check(overlapping).verdict());
  }

  @Test
  void explanationShowsOnlyTheTailOfALongPrefix() {
    Timeline timeline = new Timeline();
    for (int i = 0; i < 20; i++) {
      timeline.put(1, KEY, (long) i, 10L * i, 10L * i + 5);
    }
    Result result = assertInvalid(timeline.get(2, KEY, 3L, 1000, 1010), KEY,
        "Longest linearizable prefix: 20 of the 21 operations that can matter, the last 8:",
        "20. p1 put [1 19]",
        "read 3 but key 1 holds 19");
    assertFalse(result.toString().contains(" 12. "), result::toString);
  }

  @Test
  void explanationListsTheOtherPendingOperationsThatCannotGoFirst() {
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .get(2, KEY, 8L, 20, 40)
            .cas(3, KEY, 7L, 2L, OpType.OK, 25, 50),
        KEY, "Nor can any other operation", "expected 7 but key 1 holds 1");
  }

  @Test
  void malformedKeyValueOperationsNameTheirIndex() {
    History unknownFunction = new HistoryBuilder()
        .invoke(1, "incr", Kv.pair(KEY, 1L), 0).build();
    assertMalformed(unknownFunction, "op 0", "'incr'");
    History notAPair = new HistoryBuilder()
        .invoke(1, Kv.PUT, KEY, 0).build();
    assertMalformed(notAPair, "op 0", "[key value]");
    History nilKey = new HistoryBuilder()
        .invoke(1, Kv.PUT, Kv.pair(KEY, 1L), 0)
        .ok(1, Kv.PUT, Kv.pair(KEY, 1L), 1)
        .invoke(1, Kv.PUT, Kv.pair(null, 1L), 2).build();
    assertMalformed(nilKey, "op 2", "key must be a Long or a String");
    History wrongResultKey = new HistoryBuilder()
        .invoke(1, Kv.GET, Kv.pair(KEY, null), 0)
        .ok(1, Kv.GET, Kv.pair(2L, 1L), 1).build();
    assertMalformed(wrongResultKey, "op 1", "key 2");
    History badCas = new HistoryBuilder()
        .invoke(1, Kv.CAS, Kv.pair(KEY, 1L), 0).build();
    assertMalformed(badCas, "op 0", "[key [expected new]]");
    History listValue = new HistoryBuilder()
        .invoke(1, Kv.PUT, Kv.pair(KEY, List.of(1L)), 0).build();
    assertMalformed(listValue, "op 0", "value must be a Long or a String");
  }

  private static void assertMalformed(History history, String... fragments) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> LinearizabilityChecker.check(history));
    for (String fragment : fragments) {
      assertTrue(error.getMessage().contains(fragment),
          () -> "message '" + error.getMessage() + "' lacks '" + fragment + "'");
    }
  }

  @Test
  void optionsRejectANonPositiveBudget() {
    assertThrows(IllegalArgumentException.class, () -> new LinearizabilityChecker.Options(0));
  }
}
