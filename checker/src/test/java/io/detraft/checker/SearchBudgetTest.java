package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.LinearizabilityChecker.Options;
import io.detraft.checker.LinearizabilityChecker.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

class SearchBudgetTest {

  /**
   * Fourteen concurrent puts and then a read of a value none wrote: to prove the violation
   * the search must try every subset of the puts with every last writer (~2^14 * 14).
   */
  private static Timeline hardViolation(Object key) {
    Timeline timeline = new Timeline();
    for (int process = 0; process < 14; process++) {
      timeline.put(process, key, (long) process, process, 100);
    }
    return timeline.get(99, key, 99L, 200, 210);
  }

  @Test
  void runningOutOfBudgetGivesUnknownNamingTheKey() {
    History history = hardViolation(7L).put(1, 8L, 1L, 300, 310).get(2, 8L, 1L, 320, 330)
        .build();
    Result result = LinearizabilityChecker.check(history, new Options(1_000));
    assertEquals(Verdict.UNKNOWN, result.verdict(), result::toString);
    assertEquals(7L, result.key());
    assertEquals(List.of(7L), result.unknownKeys());
    assertEquals(2, result.keysChecked());
    // All 1000 on key 7, a few on key 8.
    assertTrue(result.steps() > 1_000 && result.steps() < 1_010, () -> "" + result.steps());
    assertTrue(result.toString().startsWith("UNKNOWN"), result::toString);
    assertTrue(result.toString().contains("1000 steps on 1 of 2 keys: 7"), result::toString);
  }

  @Test
  void theSameHardHistoryIsInvalidWithTheDefaultBudget() {
    Result result = LinearizabilityChecker.check(hardViolation(7L).build());
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertTrue(result.steps() > 1_000, "the small budget above must really be too small");
  }

  @Test
  void aViolationOnAnotherKeyWinsOverUnknown() {
    History history = hardViolation(1L)
        .put(1, 2L, 1L, 300, 310).get(2, 2L, 5L, 320, 330)
        .build();
    Result result = LinearizabilityChecker.check(history, new Options(1_000));
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertEquals(2L, result.key());
    assertEquals(List.of(1L), result.unknownKeys());
  }
}
