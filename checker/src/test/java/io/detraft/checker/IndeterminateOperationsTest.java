package io.detraft.checker;

import static io.detraft.checker.LinearizabilityCheckerTest.KEY;
import static io.detraft.checker.LinearizabilityCheckerTest.assertInvalid;
import static io.detraft.checker.LinearizabilityCheckerTest.assertValid;

import org.junit.jupiter.api.Test;

/**
 * Operations that ended info, or never completed: they may take effect at any time after
 * their invoke, even long after the info was recorded, or never.
 */
class IndeterminateOperationsTest {

  @Test
  void aCrashedPutMayTakeEffectLongAfterItsInfo() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .put(2, KEY, 2L, OpType.INFO, 20, 30)
        .get(3, KEY, 1L, 100, 110)
        .get(3, KEY, 1L, 200, 210)
        .get(4, KEY, 2L, 1000, 1010));
  }

  @Test
  void aCrashedPutMayNeverTakeEffect() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .put(2, KEY, 2L, OpType.INFO, 20, 30)
        .get(3, KEY, 1L, 1000, 1010));
  }

  @Test
  void aCrashedPutTakesEffectAtMostOnce() {
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(2, KEY, 2L, OpType.INFO, 20, 30)
            .get(3, KEY, 2L, 100, 110)
            .get(3, KEY, 1L, 200, 210)
            .get(3, KEY, 2L, 300, 310),
        KEY, "read 1 but key 1 holds 2");
  }

  @Test
  void anOperationThatNeverCompletedIsTreatedLikeInfo() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .put(2, KEY, 2L, OpType.INFO, 20, Timeline.OPEN)
        .get(3, KEY, 1L, 100, 110)
        .get(4, KEY, 2L, 1000, 1010));
  }

  @Test
  void aCrashedPutCannotTakeEffectBeforeItsInvoke() {
    assertInvalid(new Timeline()
            .get(1, KEY, 5L, 0, 10)
            .put(2, KEY, 5L, OpType.INFO, 20, 30),
        KEY, "read 5 but key 1 holds nil");
  }

  @Test
  void aValueReturningAfterItWasOverwrittenIsInvalidEvenWithACrashedWriter() {
    // The crashed put of 2 may explain the first read of 2, not the return of 1 after it.
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(2, KEY, 2L, OpType.INFO, 20, 30)
            .get(3, KEY, 2L, 40, 50)
            .put(4, KEY, 3L, 60, 70)
            .get(3, KEY, 1L, 80, 90),
        KEY, "read 1 but key 1 holds 3");
  }

  @Test
  void aCrashedCasMayApplyLateButOnlyFromItsExpectedValue() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .cas(2, KEY, 1L, 2L, OpType.INFO, 20, 30)
        .get(3, KEY, 1L, 40, 50)
        .get(3, KEY, 2L, 60, 70));
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(4, KEY, 3L, 12, 15)
            .cas(2, KEY, 1L, 2L, OpType.INFO, 20, 30)
            .get(3, KEY, 2L, 60, 70),
        KEY, "read 2 but key 1 holds 3");
  }

  @Test
  void aCrashedDeleteMayApplyLate() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .op(2, Kv.DELETE, Kv.pair(KEY, null), OpType.INFO, Kv.pair(KEY, null), 20, 30)
        .get(3, KEY, 1L, 40, 50)
        .get(3, KEY, null, 60, 70));
  }

  @Test
  void aGetWithUnknownOutcomeConstrainsNothing() {
    assertValid(new Timeline()
        .put(1, KEY, 1L, 0, 10)
        .op(2, Kv.GET, Kv.pair(KEY, null), OpType.INFO, Kv.pair(KEY, 99L), 20, 30)
        .op(3, Kv.GET, Kv.pair(KEY, null), OpType.INFO, null, 20, Timeline.OPEN)
        .get(4, KEY, 1L, 40, 50));
  }

  @Test
  void anUnobservedCrashedWriteDoesNotHideAViolation() {
    // The crashed put of 7 is never read, so it is pruned; the stale read stays a violation.
    assertInvalid(new Timeline()
            .put(1, KEY, 1L, 0, 10)
            .put(2, KEY, 7L, OpType.INFO, 5, 30)
            .put(3, KEY, 2L, 40, 50)
            .get(4, KEY, 1L, 60, 70),
        KEY, "read 1 but key 1 holds 2");
  }

  @Test
  void manyCrashedWritersOfOneObservedValue() {
    Timeline timeline = new Timeline().put(0, KEY, 1L, 0, 10);
    for (int process = 1; process <= 30; process++) {
      timeline.put(process, KEY, 2L, OpType.INFO, 10L + process, 100);
    }
    // A second crashed writer may apply after the put of 3, long after every crash.
    assertValid(timeline
        .get(99, KEY, 1L, 200, 210).get(99, KEY, 2L, 300, 310)
        .put(100, KEY, 3L, 400, 410).get(101, KEY, 2L, 500, 510));
    // But nothing ever writes 1 again.
    assertInvalid(timeline.get(102, KEY, 1L, 600, 610), KEY, "read 1 but key 1 holds 2");
  }
}
