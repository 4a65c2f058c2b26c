package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.LinearizabilityChecker.Result;
import org.junit.jupiter.api.Test;

/** The history is checked per key; a violation names its key, whatever the other keys do. */
class KeyDecompositionTest {

  /** On key number k: put, a concurrent put and read, a read after both; processes 10k+. */
  private static Timeline validKey(Timeline timeline, long k, long start) {
    return timeline
        .put(10 * k + 1, k, 1L, start, start + 10)
        .put(10 * k + 2, k, 2L, start + 20, start + 40)
        .get(10 * k + 3, k, 1L, start + 25, start + 35)
        .get(10 * k + 4, k, 2L, start + 50, start + 60);
  }

  @Test
  void anInvalidKeyAmongManyValidOnesIsNamed() {
    Timeline timeline = new Timeline();
    for (long key = 0; key < 50; key++) {
      validKey(timeline, key, key * 3);
    }
    // Key 37 reads 1 after put 2 completed.
    timeline.get(1000, 37L, 1L, 500, 510);
    Result result = LinearizabilityChecker.check(timeline.build());
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertEquals(37L, result.key());
    assertEquals(1000L, result.blocked().process());
    assertTrue(result.toString().contains("key 37 is not linearizable"), result::toString);
  }

  @Test
  void keysInterleavedInTimeAreIndependent() {
    // On one register this is a violation (read 1 after 2 was written); on two keys it is not.
    History history = new Timeline()
        .put(1, 1L, 1L, 0, 10)
        .put(2, 2L, 2L, 20, 30)
        .get(3, 1L, 1L, 40, 50)
        .get(4, 2L, 2L, 40, 50)
        .build();
    Result result = LinearizabilityChecker.check(history);
    assertEquals(Verdict.VALID, result.verdict(), result::toString);
    assertEquals(2, result.keysChecked());
  }

  @Test
  void keysAreCheckedInAFixedOrderLongsFirst() {
    Timeline timeline = new Timeline();
    long process = 0;
    for (Object key : new Object[] {"b", 10L, "a", 9L}) {
      timeline.put(process++, key, 1L, 0, 10).get(process++, key, 3L, 20, 30);
    }
    Result result = LinearizabilityChecker.check(timeline.build());
    assertEquals(9L, result.key());
    assertEquals(1, result.keysChecked(), "the search stops at the first invalid key");
    Timeline strings = new Timeline();
    for (Object key : new Object[] {"b", "a"}) {
      strings.put(process++, key, 1L, 0, 10).get(process++, key, 3L, 20, 30);
    }
    assertEquals("a", LinearizabilityChecker.check(strings.build()).key());
  }

  @Test
  void eachKeyCountsOnceAndTheSameValueOnTwoKeysIsUnrelated() {
    Timeline timeline = new Timeline();
    for (long key = 0; key < 100; key++) {
      validKey(timeline, key, key);
    }
    Result result = LinearizabilityChecker.check(timeline.build());
    assertEquals(Verdict.VALID, result.verdict(), result::toString);
    assertEquals(100, result.keysChecked());
    assertTrue(result.toString().contains("100 keys, 400 operations"), result::toString);
  }
}
