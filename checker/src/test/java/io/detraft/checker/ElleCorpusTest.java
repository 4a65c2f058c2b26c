package io.detraft.checker;

import static io.detraft.checker.AnomalyType.*;
import static io.detraft.checker.DependencyKind.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The hand-written corpus in {@code src/test/resources/elle}: each history must show exactly
 * the anomalies named, with the cycle (as invoke indexes, T1 first) and its edges.
 */
class ElleCorpusTest {
  static History load(String name) {
    try (InputStream in = ElleCorpusTest.class.getResourceAsStream("/elle/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no corpus file " + name);
      }
      return EdnHistory.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ElleResult listAppend(String name, ConsistencyModel model) {
    return ElleChecker.checkListAppend(load(name), model);
  }

  private static void assertTypes(ElleResult result, AnomalyType... types) {
    Set<AnomalyType> expected = types.length == 0
        ? EnumSet.noneOf(AnomalyType.class) : EnumSet.of(types[0], types);
    assertEquals(expected, result.anomalyTypes(), result::toString);
  }

  private static void assertCycle(ElleResult result, AnomalyType type, List<Long> invokes,
      DependencyKind... edges) {
    List<Anomaly> found = result.anomalies(type);
    assertEquals(1, found.size(), result::toString);
    assertEquals(invokes, found.get(0).invokeIndexes(), result::toString);
    assertEquals(List.of(edges), found.get(0).edges(), result::toString);
  }

  private static void assertWitnesses(ElleResult result, AnomalyType type, List<Long> invokes) {
    List<Anomaly> found = result.anomalies(type);
    assertEquals(1, found.size(), result::toString);
    assertEquals(invokes, found.get(0).invokeIndexes(), result::toString);
  }

  @Test
  void validHistoriesPassTheStrongestModel() {
    for (String name : List.of("la-valid-serial.edn", "la-valid-concurrent.edn",
        "la-jepsen-records-skipped")) {
      if (name.endsWith("skipped")) {
        continue;
      }
      ElleResult result = listAppend(name, ConsistencyModel.STRICT_SERIALIZABLE);
      assertEquals(Verdict.VALID, result.verdict(), () -> name + "\n" + result);
      assertTypes(result);
      assertTrue(result.ruledOut().isEmpty());
    }
    ElleResult register = ElleChecker.checkRwRegister(load("rw-valid.edn"),
        ElleOptions.of(ConsistencyModel.STRICT_SERIALIZABLE).withLinearizableKeys()
            .withSequentialKeys());
    assertEquals(Verdict.VALID, register.verdict(), register::toString);
  }

  @Test
  void g0() {
    ElleResult result = listAppend("la-g0.edn", ConsistencyModel.READ_UNCOMMITTED);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G0);
    assertCycle(result, G0, List.of(0L, 1L), WW, WW);
    assertEquals(EnumSet.allOf(ConsistencyModel.class), result.ruledOut());
  }

  @Test
  void g1a() {
    ElleResult result = listAppend("la-g1a.edn", ConsistencyModel.READ_COMMITTED);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G1A);
    assertWitnesses(result, G1A, List.of(2L, 0L));
    assertFalse(result.ruledOut().contains(ConsistencyModel.READ_UNCOMMITTED));
    assertTrue(listAppend("la-g1a.edn", ConsistencyModel.READ_UNCOMMITTED).isValid());
  }

  @Test
  void g1b() {
    ElleResult result = listAppend("la-g1b.edn", ConsistencyModel.READ_COMMITTED);
    assertEquals(Verdict.INVALID, result.verdict());
    // The intermediate read is also a G-single: op 1 saw 1 but not 2, both from op 0.
    assertTypes(result, G1B, G_SINGLE);
    assertWitnesses(result, G1B, List.of(1L, 0L));
    assertCycle(result, G_SINGLE, List.of(0L, 1L), WR, RW);
  }

  @Test
  void g1c() {
    ElleResult result = listAppend("la-g1c.edn", ConsistencyModel.READ_COMMITTED);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G1C);
    assertCycle(result, G1C, List.of(0L, 1L), WR, WR);
    assertTrue(listAppend("la-g1c.edn", ConsistencyModel.READ_UNCOMMITTED).isValid());
  }

  @Test
  void gSingle() {
    ElleResult result = listAppend("la-g-single.edn", ConsistencyModel.SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G_SINGLE);
    assertCycle(result, G_SINGLE, List.of(0L, 1L), RW, WR);
    assertTrue(listAppend("la-g-single.edn", ConsistencyModel.READ_COMMITTED).isValid());
    String explanation = result.anomalies(G_SINGLE).get(0).explanation();
    assertTrue(explanation.contains("T1 read key :x = [] before T2 appended 1, so T1 rw-> T2"),
        explanation);
    assertTrue(explanation.contains("T1 read key :y = [1], seeing T2's append of 1, so T2 "
        + "wr-> T1"), explanation);
  }

  @Test
  void gNonadjacent() {
    ElleResult result = listAppend("la-g-nonadjacent.edn", ConsistencyModel.SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G_NONADJACENT);
    assertCycle(result, G_NONADJACENT, List.of(0L, 1L, 2L, 3L), RW, WR, RW, WR);
    assertTrue(listAppend("la-g-nonadjacent.edn", ConsistencyModel.READ_COMMITTED).isValid());
  }

  @Test
  void g2Item() {
    ElleResult result = listAppend("la-g2-item.edn", ConsistencyModel.SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G2_ITEM);
    assertCycle(result, G2_ITEM, List.of(0L, 1L), RW, RW);
    // Write skew is allowed by snapshot isolation.
    assertTrue(listAppend("la-g2-item.edn", ConsistencyModel.SNAPSHOT_ISOLATION).isValid());
  }

  /** Issue 20: appends no read observes still come after the reads that miss them. */
  @Test
  void writeSkewThroughEmptyReadsWithUnobservedAppends() {
    for (ConsistencyModel model : List.of(ConsistencyModel.SERIALIZABLE,
        ConsistencyModel.STRICT_SERIALIZABLE)) {
      ElleResult result = listAppend("la-write-skew-unobserved.edn", model);
      assertEquals(Verdict.INVALID, result.verdict(), result::toString);
      assertTypes(result, G2_ITEM);
      assertCycle(result, G2_ITEM, List.of(0L, 1L), RW, RW);
      String explanation = result.anomalies(G2_ITEM).get(0).explanation();
      assertTrue(explanation.contains("T1 read key :x = [], missing T2's committed append of "
          + "1, which no read holds"), explanation);
    }
    assertTrue(listAppend("la-write-skew-unobserved.edn", ConsistencyModel.SNAPSHOT_ISOLATION)
        .isValid());
  }

  @Test
  void gSingleRealtime() {
    ElleResult result =
        listAppend("la-g-single-realtime.edn", ConsistencyModel.STRICT_SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G_SINGLE_REALTIME);
    assertCycle(result, G_SINGLE_REALTIME, List.of(0L, 2L), REALTIME, RW);
    assertEquals(EnumSet.of(ConsistencyModel.STRICT_SERIALIZABLE), result.ruledOut());
    assertTrue(listAppend("la-g-single-realtime.edn", ConsistencyModel.SERIALIZABLE)
        .isValid());
  }

  @Test
  void gSingleProcess() {
    ElleResult result = listAppend("la-g-single-process.edn",
        ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G_SINGLE_PROCESS);
    assertCycle(result, G_SINGLE_PROCESS, List.of(0L, 2L), PROCESS, RW);
    assertTrue(listAppend("la-g-single-process.edn", ConsistencyModel.SERIALIZABLE)
        .isValid());
  }

  @Test
  void g0Realtime() {
    ElleResult result = listAppend("la-g0-realtime.edn", ConsistencyModel.STRICT_SERIALIZABLE);
    assertTypes(result, G0_REALTIME);
    assertCycle(result, G0_REALTIME, List.of(0L, 2L), REALTIME, WW);
    assertTrue(listAppend("la-g0-realtime.edn", ConsistencyModel.SERIALIZABLE).isValid());
  }

  @Test
  void g0Process() {
    ElleResult result = listAppend("la-g0-process.edn",
        ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G0_PROCESS);
    assertCycle(result, G0_PROCESS, List.of(0L, 2L), PROCESS, WW);
    assertTrue(listAppend("la-g0-process.edn", ConsistencyModel.SERIALIZABLE).isValid());
  }

  @Test
  void g1cProcess() {
    ElleResult result = listAppend("la-g1c-process.edn",
        ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G1C_PROCESS);
    assertCycle(result, G1C_PROCESS, List.of(0L, 2L), PROCESS, WR);
    assertTrue(listAppend("la-g1c-process.edn", ConsistencyModel.SERIALIZABLE).isValid());
  }

  @Test
  void g1cRealtime() {
    ElleResult result = listAppend("la-g1c-realtime.edn", ConsistencyModel.STRICT_SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G1C_REALTIME);
    assertCycle(result, G1C_REALTIME, List.of(0L, 2L), REALTIME, WR);
    assertEquals(EnumSet.of(ConsistencyModel.STRICT_SERIALIZABLE), result.ruledOut());
  }

  @Test
  void gNonadjacentProcess() {
    ElleResult result = listAppend("la-g-nonadjacent-process.edn",
        ConsistencyModel.STRONG_SESSION_SNAPSHOT_ISOLATION);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G_NONADJACENT_PROCESS);
    assertCycle(result, G_NONADJACENT_PROCESS, List.of(0L, 1L, 4L, 2L), RW, PROCESS, RW, WR);
    assertTrue(listAppend("la-g-nonadjacent-process.edn", ConsistencyModel.SERIALIZABLE)
        .isValid());
  }

  @Test
  void g2ItemProcess() {
    ElleResult result = listAppend("la-g2-item-process.edn",
        ConsistencyModel.STRONG_SESSION_SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G2_ITEM_PROCESS);
    assertCycle(result, G2_ITEM_PROCESS, List.of(0L, 3L, 1L), PROCESS, RW, RW);
    assertEquals(EnumSet.of(ConsistencyModel.STRONG_SESSION_SERIALIZABLE,
        ConsistencyModel.STRICT_SERIALIZABLE), result.ruledOut());
  }

  @Test
  void g2ItemRealtime() {
    ElleResult result = listAppend("la-g2-item-realtime.edn",
        ConsistencyModel.STRICT_SERIALIZABLE);
    assertEquals(Verdict.INVALID, result.verdict());
    assertTypes(result, G2_ITEM_REALTIME);
    assertCycle(result, G2_ITEM_REALTIME, List.of(0L, 3L, 1L), REALTIME, RW, RW);
    assertEquals(EnumSet.of(ConsistencyModel.STRICT_SERIALIZABLE), result.ruledOut());
  }

  @Test
  void nonCycleAnomalies() {
    ElleResult internal = listAppend("la-internal.edn", ConsistencyModel.SNAPSHOT_ISOLATION);
    assertTypes(internal, INTERNAL);
    assertWitnesses(internal, INTERNAL, List.of(0L));
    assertTrue(listAppend("la-internal.edn", ConsistencyModel.READ_COMMITTED).isValid());

    ElleResult duplicates = listAppend("la-duplicate-elements.edn",
        ConsistencyModel.READ_UNCOMMITTED);
    assertEquals(Verdict.INVALID, duplicates.verdict());
    assertTypes(duplicates, DUPLICATE_ELEMENTS);
    assertWitnesses(duplicates, DUPLICATE_ELEMENTS, List.of(2L));

    ElleResult incompatible = listAppend("la-incompatible-order.edn",
        ConsistencyModel.READ_COMMITTED);
    assertTypes(incompatible, INCOMPATIBLE_ORDER);
    assertWitnesses(incompatible, INCOMPATIBLE_ORDER, List.of(5L, 4L));

    ElleResult dirty = listAppend("la-dirty-update.edn", ConsistencyModel.READ_COMMITTED);
    assertTypes(dirty, DIRTY_UPDATE, G1A);
    assertWitnesses(dirty, DIRTY_UPDATE, List.of(2L, 0L));
    assertWitnesses(dirty, G1A, List.of(4L, 0L));

    ElleResult garbage = listAppend("la-garbage-read.edn", ConsistencyModel.READ_UNCOMMITTED);
    assertEquals(Verdict.INVALID, garbage.verdict());
    assertTypes(garbage, GARBAGE_READ);
    assertWitnesses(garbage, GARBAGE_READ, List.of(2L));
  }

  @Test
  void rwRegister() {
    ElleOptions serializable = ElleOptions.of(ConsistencyModel.SERIALIZABLE);
    ElleResult single = ElleChecker.checkRwRegister(load("rw-g-single.edn"), serializable);
    assertTypes(single, G_SINGLE);
    assertCycle(single, G_SINGLE, List.of(0L, 1L), WR, RW);

    ElleResult lost = ElleChecker.checkRwRegister(load("rw-lost-update.edn"), serializable);
    assertTypes(lost, LOST_UPDATE, G2_ITEM);
    assertWitnesses(lost, LOST_UPDATE, List.of(0L, 1L));
    assertCycle(lost, G2_ITEM, List.of(0L, 1L), RW, RW);

    ElleResult aborted = ElleChecker.checkRwRegister(load("rw-g1a.edn"), serializable);
    assertTypes(aborted, G1A);
    assertWitnesses(aborted, G1A, List.of(2L, 0L));

    ElleResult intermediate = ElleChecker.checkRwRegister(load("rw-g1b.edn"), serializable);
    assertTrue(intermediate.anomalyTypes().contains(G1B), intermediate::toString);
    assertWitnesses(intermediate, G1B, List.of(1L, 0L));

    ElleResult internal = ElleChecker.checkRwRegister(load("rw-internal.edn"), serializable);
    assertTrue(internal.anomalyTypes().contains(INTERNAL), internal::toString);
    assertWitnesses(internal, INTERNAL, List.of(0L));

    ElleResult stale = ElleChecker.checkRwRegister(load("rw-stale-read.edn"),
        ElleOptions.of(ConsistencyModel.STRICT_SERIALIZABLE));
    assertTypes(stale, G_SINGLE_REALTIME);
    assertCycle(stale, G_SINGLE_REALTIME, List.of(0L, 2L), REALTIME, RW);
  }

  @Test
  void cyclicVersionsNeedTheSequentialAssumption() {
    History history = load("rw-cyclic-versions.edn");
    ElleOptions plain = ElleOptions.of(ConsistencyModel.SERIALIZABLE);
    assertTrue(ElleChecker.checkRwRegister(history, plain).isValid());
    ElleResult result = ElleChecker.checkRwRegister(history, plain.withSequentialKeys());
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertTypes(result, CYCLIC_VERSIONS);
    assertEquals(Keyword.of("x"), result.anomalies(CYCLIC_VERSIONS).get(0).key());
  }

  @Test
  void gSingleNeedsTheLinearizableAssumption() {
    History history = load("rw-g-single-linearizable.edn");
    ElleResult plain = ElleChecker.checkRwRegister(history,
        ElleOptions.of(ConsistencyModel.STRICT_SERIALIZABLE));
    assertEquals(Verdict.VALID, plain.verdict(), plain::toString);
    assertTypes(plain);
    ElleResult result = ElleChecker.checkRwRegister(history,
        ElleOptions.of(ConsistencyModel.SERIALIZABLE).withLinearizableKeys());
    assertEquals(Verdict.INVALID, result.verdict(), result::toString);
    assertTypes(result, G_SINGLE);
    assertCycle(result, G_SINGLE, List.of(0L, 3L), RW, WR);
  }
}
