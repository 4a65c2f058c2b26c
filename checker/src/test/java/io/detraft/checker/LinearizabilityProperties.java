package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.LinearizabilityChecker.Options;
import io.detraft.checker.LinearizabilityChecker.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties over seeded random histories; a failure prints the seed, and the same seed
 * rebuilds the same history.
 */
class LinearizabilityProperties {

  @Property(tries = 300)
  void atomicExecutionsAreLinearizable(@ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int operationCount,
      @ForAll @IntRange(min = 1, max = 4) int keyCount,
      @ForAll @IntRange(min = 1, max = 8) int clientCount) {
    History history = RandomHistories.atomic(
        new SplittableRandom(seed), operationCount, keyCount, clientCount, 3);
    Result result = LinearizabilityChecker.check(history);
    assertEquals(Verdict.VALID, result.verdict(), () -> result + "\n" + history);
  }

  /** Sizes kept where the search needs well under 1% of its budget even at the edges. */
  @Property(tries = 300)
  void aReadOfAValueNeverWrittenIsNotLinearizable(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 150) int operationCount,
      @ForAll @IntRange(min = 1, max = 4) int keyCount,
      @ForAll @IntRange(min = 1, max = 6) int clientCount) {
    SplittableRandom random = new SplittableRandom(seed);
    History history = RandomHistories.atomic(random, operationCount, keyCount, clientCount, 3);
    List<Op> reads = history.ops().stream()
        .filter(op -> op.type() == OpType.OK && op.f().equals(Kv.GET))
        .toList();
    if (reads.isEmpty()) {
      return;
    }
    Op read = reads.get(random.nextInt(reads.size()));
    Object key = ((List<?>) read.value()).get(0);
    List<Op> ops = new ArrayList<>(history.ops());
    // The generator only writes values >= 1.
    Op corrupt = new Op(read.index(), read.type(), read.f(), Kv.pair(key, -1L), read.process(),
        read.time());
    ops.set((int) read.index(), corrupt);
    Result result = LinearizabilityChecker.check(History.of(ops), new Options(100_000_000));
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertEquals(key, result.key(), result::toString);
  }

  @Property(tries = 1500)
  void agreesWithBruteForceOnSmallArbitraryHistories(@ForAll long seed,
      @ForAll @IntRange(min = 1, max = 8) int operationCount,
      @ForAll @IntRange(min = 1, max = 2) int keyCount,
      @ForAll @IntRange(min = 1, max = 4) int processCount) {
    History history = RandomHistories.arbitrary(
        new SplittableRandom(seed), operationCount, keyCount, processCount);
    boolean expected = BruteForceChecker.isLinearizable(history);
    Result result = LinearizabilityChecker.check(history);
    assertEquals(expected ? Verdict.VALID : Verdict.INVALID, result.verdict(),
        () -> result + "\n" + history);
    if (!expected) {
      assertEquals(OpType.OK, result.blocked().outcome(), result::toString);
      assertTrue(result.toString().contains("is not linearizable"), result::toString);
    }
  }

  /** Small real executions with one read changed to any value: sometimes still valid. */
  @Property(tries = 1500)
  void agreesWithBruteForceOnSmallExecutionsWithOneReadChanged(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 10) int operationCount,
      @ForAll @IntRange(min = 1, max = 2) int keyCount,
      @ForAll @IntRange(min = 1, max = 4) int clientCount) {
    SplittableRandom random = new SplittableRandom(seed);
    History history = RandomHistories.atomic(random, operationCount, keyCount, clientCount, 2);
    List<Op> ops = new ArrayList<>(history.ops());
    List<Op> reads = ops.stream()
        .filter(op -> op.type() == OpType.OK && op.f().equals(Kv.GET))
        .toList();
    if (!reads.isEmpty()) {
      Op read = reads.get(random.nextInt(reads.size()));
      Object key = ((List<?>) read.value()).get(0);
      Object value = random.nextInt(3) == 0 ? null : (Object) (long) (1 + random.nextInt(2));
      ops.set((int) read.index(), new Op(read.index(), read.type(), read.f(),
          Kv.pair(key, value), read.process(), read.time()));
    }
    History changed = History.of(ops);
    boolean expected = BruteForceChecker.isLinearizable(changed);
    Result result = LinearizabilityChecker.check(changed);
    assertEquals(expected ? Verdict.VALID : Verdict.INVALID, result.verdict(),
        () -> result + "\n" + changed);
  }

  @Property(tries = 500)
  void aSmallBudgetGivesUnknownOrTheExactVerdict(@ForAll long seed,
      @ForAll @IntRange(min = 1, max = 8) int operationCount,
      @ForAll @IntRange(min = 1, max = 60) int maxStepsPerKey) {
    History history = RandomHistories.arbitrary(
        new SplittableRandom(seed), operationCount, 2, 3);
    Result result = LinearizabilityChecker.check(history, new Options(maxStepsPerKey));
    if (result.verdict() != Verdict.UNKNOWN) {
      Verdict expected = BruteForceChecker.isLinearizable(history)
          ? Verdict.VALID : Verdict.INVALID;
      assertEquals(expected, result.verdict(), () -> result + "\n" + history);
    }
  }

  @Property(tries = 100)
  void theSameHistoryGivesTheSameResult(@ForAll long seed) {
    History history = RandomHistories.arbitrary(new SplittableRandom(seed), 60, 3, 5);
    Result first = LinearizabilityChecker.check(history);
    Result second = LinearizabilityChecker.check(History.of(history.ops()));
    assertEquals(first, second);
  }
}
