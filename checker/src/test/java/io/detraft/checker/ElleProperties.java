package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.bench.ListAppendGenerator;
import io.detraft.checker.bench.ListAppendGenerator.Mode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties over seeded generated histories: correct executions always pass, and two
 * perturbations that make them incorrect are always found. A failure prints the seed; the
 * same seed and sizes rebuild the same history.
 */
class ElleProperties {

  private static ListAppendGenerator.Options options(int transactions, int clients, int keys,
      Mode mode) {
    // No key rotation: the final read then covers every key ever written.
    return new ListAppendGenerator.Options(transactions, clients, keys, 1_000_000, 4, 10, 5,
        mode, true);
  }

  @Property(tries = 200)
  void strictlySerialExecutionsAreStrictSerializable(@ForAll long seed,
      @ForAll @IntRange(min = 0, max = 150) int transactions,
      @ForAll @IntRange(min = 1, max = 6) int clients,
      @ForAll @IntRange(min = 1, max = 5) int keys) {
    History history = ListAppendGenerator.generate(seed,
        options(transactions, clients, keys, Mode.STRICT));
    ElleResult result = ElleChecker.checkListAppend(history, ConsistencyModel.STRICT_SERIALIZABLE);
    assertEquals(Verdict.VALID, result.verdict(), () -> result + "\n" + history);
    assertTrue(result.anomalyTypes().isEmpty(), result::toString);
  }

  @Property(tries = 200)
  void serialExecutionsAreSerializable(@ForAll long seed,
      @ForAll @IntRange(min = 0, max = 150) int transactions,
      @ForAll @IntRange(min = 1, max = 6) int clients,
      @ForAll @IntRange(min = 1, max = 5) int keys) {
    History history = ListAppendGenerator.generate(seed,
        options(transactions, clients, keys, Mode.SERIAL));
    ElleResult result = ElleChecker.checkListAppend(history, ConsistencyModel.SERIALIZABLE);
    assertEquals(Verdict.VALID, result.verdict(), () -> result + "\n" + history);
    // The timeline is shuffled, so process and real-time orders may be violated: only those.
    assertTrue(EnumSet.of(ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION,
        ConsistencyModel.STRONG_SESSION_SERIALIZABLE, ConsistencyModel.STRICT_SERIALIZABLE)
        .containsAll(result.ruledOut()), result::toString);
  }

  @Property(tries = 200)
  void aReorderedReadIsAlwaysFound(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 150) int transactions,
      @ForAll @IntRange(min = 1, max = 6) int clients,
      @ForAll @IntRange(min = 1, max = 4) int keys, @ForAll boolean strict) {
    SplittableRandom random = new SplittableRandom(seed);
    History history = ListAppendGenerator.generate(random.nextLong(),
        options(transactions, clients, keys, strict ? Mode.STRICT : Mode.SERIAL));
    List<int[]> candidates = reads(history, 2, false);
    if (candidates.isEmpty()) {
      return;
    }
    int[] pick = candidates.get(random.nextInt(candidates.size()));
    List<Object> elements = new ArrayList<>(readOf(history, pick));
    int at = random.nextInt(elements.size() - 1);
    elements.add(at, elements.remove(at + 1));
    History broken = withRead(history, pick, elements);
    ElleResult result = ElleChecker.checkListAppend(broken, ConsistencyModel.READ_COMMITTED);
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertTrue(result.anomalyTypes().contains(AnomalyType.INCOMPATIBLE_ORDER),
        result::toString);
  }

  /**
   * The final read misses the last appends another committed read had already seen: every
   * append is then "lost" for it, and real time makes that a cycle.
   */
  @Property(tries = 200)
  void aLostAppendIsAlwaysFound(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 150) int transactions,
      @ForAll @IntRange(min = 1, max = 6) int clients,
      @ForAll @IntRange(min = 1, max = 4) int keys) {
    SplittableRandom random = new SplittableRandom(seed);
    History history = ListAppendGenerator.generate(random.nextLong(),
        options(transactions, clients, keys, Mode.STRICT));
    List<int[]> candidates = reads(history, 1, false);
    if (candidates.isEmpty()) {
      return;
    }
    int[] other = candidates.get(random.nextInt(candidates.size()));
    Object key = ((List<?>) ((List<?>) history.ops().get(other[0]).value()).get(other[1])).get(1);
    int seen = readOf(history, other).size();
    int[] last = finalRead(history, key);
    List<?> full = readOf(history, last);
    History broken = withRead(history, last, new ArrayList<>(full.subList(0, seen - 1)));
    ElleResult result = ElleChecker.checkListAppend(broken, ConsistencyModel.STRICT_SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertTrue(result.anomalyTypes().stream().anyMatch(AnomalyType::isCycle), result::toString);
  }

  @Property(tries = 200)
  void linearizableRegistersPassUnderEveryAssumption(@ForAll long seed,
      @ForAll @IntRange(min = 0, max = 150) int transactions,
      @ForAll @IntRange(min = 1, max = 6) int clients,
      @ForAll @IntRange(min = 1, max = 4) int keys) {
    History history = RegisterHistories.strict(new SplittableRandom(seed), transactions,
        clients, keys);
    ElleOptions options = ElleOptions.of(ConsistencyModel.STRICT_SERIALIZABLE)
        .withSequentialKeys().withLinearizableKeys();
    ElleResult result = ElleChecker.checkRwRegister(history, options);
    assertEquals(Verdict.VALID, result.verdict(), () -> result + "\n" + history);
    assertTrue(result.anomalyTypes().isEmpty(), result::toString);
  }

  /** Ok read micro-ops (op position, micro-op position) with at least {@code min} elements. */
  private static List<int[]> reads(History history, int min, boolean includeFinal) {
    List<int[]> out = new ArrayList<>();
    int lastPosition = history.size() - 1;
    for (int i = 0; i < history.size(); i++) {
      Op op = history.ops().get(i);
      if (op.type() != OpType.OK || (!includeFinal && i == lastPosition)) {
        continue;
      }
      List<?> mops = (List<?>) op.value();
      for (int m = 0; m < mops.size(); m++) {
        List<?> mop = (List<?>) mops.get(m);
        if (mop.get(0).equals(Txn.READ) && ((List<?>) mop.get(2)).size() >= min) {
          out.add(new int[] {i, m});
        }
      }
    }
    return out;
  }

  private static int[] finalRead(History history, Object key) {
    int last = history.size() - 1;
    List<?> mops = (List<?>) history.ops().get(last).value();
    for (int m = 0; m < mops.size(); m++) {
      if (((List<?>) mops.get(m)).get(1).equals(key)) {
        return new int[] {last, m};
      }
    }
    throw new IllegalStateException("the final read misses key " + key);
  }

  private static List<?> readOf(History history, int[] at) {
    List<?> mops = (List<?>) history.ops().get(at[0]).value();
    return (List<?>) ((List<?>) mops.get(at[1])).get(2);
  }

  private static History withRead(History history, int[] at, List<Object> elements) {
    List<Op> ops = new ArrayList<>(history.ops());
    Op op = ops.get(at[0]);
    List<Object> mops = new ArrayList<>((List<?>) op.value());
    Object key = ((List<?>) mops.get(at[1])).get(1);
    mops.set(at[1], Txn.read(key, elements));
    ops.set(at[0], new Op(op.index(), op.type(), op.f(), mops, op.process(), op.time()));
    return History.of(ops);
  }
}
