package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {

  private static void assertRejected(HistoryBuilder builder, String... fragments) {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, builder::build);
    for (String fragment : fragments) {
      assertTrue(error.getMessage().contains(fragment),
          () -> "message '" + error.getMessage() + "' lacks '" + fragment + "'");
    }
  }

  @Test
  void builderNumbersOpsInRecordingOrder() {
    History history = new HistoryBuilder()
        .invoke(1, "put", Kv.pair(1L, 2L), 10)
        .invoke(2, "get", Kv.pair(1L, null), 11)
        .ok(1, "put", Kv.pair(1L, 2L), 12)
        .build();
    assertEquals(3, history.size());
    for (int i = 0; i < history.size(); i++) {
      assertEquals(i, history.ops().get(i).index());
    }
    assertEquals(OpType.OK, history.ops().get(2).type());
  }

  @Test
  void pairsEachInvokeWithItsProcessCompletionInInvokeOrder() {
    History history = new HistoryBuilder()
        .invoke(1, "put", Kv.pair(1L, 2L), 0)
        .invoke(2, "get", Kv.pair(1L, null), 1)
        .invoke(3, "put", Kv.pair(1L, 3L), 2)
        .ok(2, "get", Kv.pair(1L, 2L), 3)
        .fail(1, "put", Kv.pair(1L, 2L), 4)
        .info(3, "put", Kv.pair(1L, 3L), 5)
        .invoke(2, "delete", Kv.pair(1L, null), 6)
        .build();
    List<Operation> operations = history.operations();
    assertEquals(4, operations.size());
    assertEquals(List.of(0L, 1L, 2L, 6L),
        operations.stream().map(operation -> operation.invoke().index()).toList());
    assertEquals(List.of(OpType.FAIL, OpType.OK, OpType.INFO, OpType.INFO),
        operations.stream().map(Operation::outcome).toList());
    assertEquals(4L, operations.get(0).completion().index());
    assertEquals(3L, operations.get(1).completion().index());
    assertNull(operations.get(3).completion(), "an open operation has no completion");
    assertEquals(2L, operations.get(1).process());
    assertEquals("get", operations.get(1).f());
  }

  @Test
  void rejectsAProcessThatInvokesWhileItsOperationIsOpen() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(7, "put", Kv.pair(1L, 1L), 0)
        .invoke(8, "put", Kv.pair(1L, 2L), 1)
        .invoke(7, "get", Kv.pair(1L, null), 2);
    assertRejected(builder, "op 2", "process 7", "op 0 is still open");
  }

  @Test
  void rejectsACompletionWithoutInvoke() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(1, "put", Kv.pair(1L, 1L), 0)
        .ok(2, "put", Kv.pair(1L, 1L), 1);
    assertRejected(builder, "op 1", "process 2", "no open invoke");
  }

  @Test
  void rejectsACompletionWhoseFunctionDiffersFromItsInvoke() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(1, "put", Kv.pair(1L, 1L), 0)
        .invoke(2, "get", Kv.pair(1L, null), 1)
        .ok(1, "get", Kv.pair(1L, 1L), 2);
    assertRejected(builder, "op 2", "'get'", "op 0", "'put'");
  }

  @Test
  void rejectsAProcessThatInvokesAfterItCrashed() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(3, "put", Kv.pair(1L, 1L), 0)
        .info(3, "put", Kv.pair(1L, 1L), 1)
        .invoke(4, "get", Kv.pair(1L, null), 2)
        .invoke(3, "get", Kv.pair(1L, null), 3);
    assertRejected(builder, "op 3", "process 3", "op 1 ended info", "new process id");
  }

  @Test
  void rejectsACompletionBeforeItsInvokeInTime() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(1, "put", Kv.pair(1L, 1L), 50)
        .ok(1, "put", Kv.pair(1L, 1L), 49);
    assertRejected(builder, "op 1", "time 49", "op 0", "time 50");
  }

  @Test
  void rejectsIndexesThatDoNotIncrease() {
    Op first = new Op(5, OpType.INVOKE, "get", Kv.pair(1L, null), 1, 0);
    Op second = new Op(5, OpType.OK, "get", Kv.pair(1L, null), 1, 1);
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> History.of(List.of(first, second)));
    assertTrue(error.getMessage().startsWith("op 5:"), error.getMessage());
  }

  @Test
  void opRejectsMissingFieldsAndNegativeIndex() {
    assertThrows(IllegalArgumentException.class,
        () -> new Op(-1, OpType.INVOKE, "get", null, 1, 0));
    NullPointerException noType =
        assertThrows(NullPointerException.class, () -> new Op(4, null, "get", null, 1, 0));
    assertTrue(noType.getMessage().contains("op 4"), noType.getMessage());
    assertThrows(NullPointerException.class, () -> new Op(4, OpType.OK, null, null, 1, 0));
  }

  @Test
  void opRejectsValuesOutsideTheJepsenShapesNamingTheIndex() {
    IllegalArgumentException integer = assertThrows(IllegalArgumentException.class,
        () -> new Op(9, OpType.INVOKE, "put", List.of(1L, 2), 1, 0));
    assertTrue(integer.getMessage().contains("op 9"), integer.getMessage());
    assertTrue(integer.getMessage().contains("java.lang.Integer"), integer.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Op(9, OpType.INVOKE, "put", new Object(), 1, 0));
  }

  @Test
  void opKeepsAnImmutableDeepCopyOfItsValue() {
    List<Object> inner = new ArrayList<>(Arrays.asList(1L, null));
    Map<Object, Object> map = new LinkedHashMap<>();
    map.put("k", inner);
    List<Object> outer = new ArrayList<>(List.of("x", map, true));
    Op op = new Op(0, OpType.INVOKE, "txn", outer, 1, 0);
    inner.set(0, 99L);
    outer.add(5L);
    assertEquals(List.of("x", Map.of("k", Arrays.asList(1L, null)), true), op.value());
    @SuppressWarnings("unchecked")
    List<Object> frozen = (List<Object>) op.value();
    assertThrows(UnsupportedOperationException.class, () -> frozen.add(1L));
  }

  @Test
  void operationRejectsMismatchedPairs() {
    Op invoke = new Op(0, OpType.INVOKE, "put", Kv.pair(1L, 1L), 1, 0);
    Op otherProcess = new Op(1, OpType.OK, "put", Kv.pair(1L, 1L), 2, 1);
    Op otherFunction = new Op(1, OpType.OK, "get", Kv.pair(1L, 1L), 1, 1);
    assertThrows(IllegalArgumentException.class, () -> new Operation(invoke, otherProcess));
    assertThrows(IllegalArgumentException.class, () -> new Operation(invoke, otherFunction));
    assertThrows(IllegalArgumentException.class, () -> new Operation(otherFunction, null));
  }

  @Test
  void historiesWithEqualOpsAreEqualAndPrintEveryOp() {
    HistoryBuilder builder = new HistoryBuilder()
        .invoke(1, "put", Kv.pair("a", "b"), 0)
        .ok(1, "put", Kv.pair("a", "b"), 1);
    History history = builder.build();
    assertEquals(history, builder.build());
    assertEquals(history.hashCode(), builder.build().hashCode());
    assertNotEquals(history, builder.invoke(2, "get", Kv.pair("a", null), 2).build());
    assertTrue(history.toString().contains("#1 p1 ok put [\"a\" \"b\"] t=1"), history.toString());
  }
}
