package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.Txn;
import io.detraft.core.SessionStateMachine;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The list-append transaction command: its encoding, the reference state machine running it,
 * snapshots that carry the lists, and the generator that draws transactions.
 */
class ListTxnTest {
  private static final List<ListTxn.MicroOp> SAMPLE = List.of(ListTxn.MicroOp.read(1000),
      ListTxn.MicroOp.append(1000, 7), ListTxn.MicroOp.append(1004, Long.MAX_VALUE),
      ListTxn.MicroOp.read(1000));

  /** Applies {@code ops} as one transaction; returns what its reads saw. */
  private static List<long[]> run(KvStateMachine kv, long index, ListTxn.MicroOp... ops) {
    return ListTxn.decodeResult(kv.apply(index, ListTxn.encode(List.of(ops))));
  }

  @Test
  void commandsRoundTripAndKeepTheirCompactLayout() {
    byte[] command = ListTxn.encode(SAMPLE);
    assertEquals(2 + 9 + 17 + 17 + 9, command.length);
    assertEquals(KvStateMachine.TXN, command[0]);
    assertTrue(ListTxn.isTxn(command));
    assertEquals(SAMPLE, ListTxn.decode(command));
    assertFalse(ListTxn.isReadOnly(command));
    assertTrue(ListTxn.isReadOnly(ListTxn.encode(List.of(ListTxn.MicroOp.read(3)))));
    // The single-key layout is untouched, and its op bytes never read as a transaction.
    byte[] put = KvStateMachine.command(KvStateMachine.PUT, 3, 4L, null);
    assertEquals(26, put.length);
    assertFalse(ListTxn.isTxn(put));
  }

  @Test
  void malformedCommandsAreRefused() {
    byte[] command = ListTxn.encode(SAMPLE);
    assertThrows(IllegalArgumentException.class,
        () -> ListTxn.decode(Arrays.copyOf(command, command.length - 1)));
    assertThrows(IllegalArgumentException.class,
        () -> ListTxn.decode(Arrays.copyOf(command, command.length + 1)));
    byte[] badKind = command.clone();
    badKind[2] = 9;
    assertThrows(IllegalArgumentException.class, () -> ListTxn.decode(badKind));
    assertThrows(IllegalArgumentException.class, () -> ListTxn.decode(new byte[] {4, 0}));
    assertThrows(IllegalArgumentException.class, () -> ListTxn.encode(List.of()));
  }

  @Test
  void resultsRoundTripEveryValue() {
    List<long[]> reads = List.of(new long[0], new long[] {1, 2, 3},
        new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE, 5});
    List<long[]> decoded = ListTxn.decodeResult(ListTxn.encodeResult(reads));
    assertEquals(reads.size(), decoded.size());
    for (int i = 0; i < reads.size(); i++) {
      assertArrayEquals(reads.get(i), decoded.get(i));
    }
    // Nearly increasing elements take about a byte each.
    assertTrue(ListTxn.encodeResult(List.of(new long[] {100, 101, 103, 110})).length <= 6);
    assertThrows(IllegalArgumentException.class,
        () -> ListTxn.decodeResult(new byte[] {3, 2}));
  }

  @Test
  void readsSeeEveryEarlierAppendInOrderTheirOwnIncluded() {
    KvStateMachine kv = new KvStateMachine();
    List<long[]> first = run(kv, 1, SAMPLE.toArray(new ListTxn.MicroOp[0]));
    assertEquals(2, first.size());
    assertArrayEquals(new long[0], first.get(0), "a key never appended to reads empty");
    assertArrayEquals(new long[] {7}, first.get(1), "a read sees its own transaction's append");
    run(kv, 2, ListTxn.MicroOp.append(1000, 9), ListTxn.MicroOp.append(1000, 8));
    List<long[]> later = run(kv, 3, ListTxn.MicroOp.read(1004), ListTxn.MicroOp.read(1000));
    assertArrayEquals(new long[] {Long.MAX_VALUE}, later.get(0));
    assertArrayEquals(new long[] {7, 9, 8}, later.get(1));
    // Lists live apart from single-key values: a put to the same number changes no list.
    kv.apply(4, KvStateMachine.command(KvStateMachine.PUT, 1000, 1L, null));
    assertArrayEquals(new long[] {7, 9, 8}, run(kv, 5, ListTxn.MicroOp.read(1000)).get(0));
    assertEquals(1L, KvStateMachine.getResult(kv.apply(6,
        KvStateMachine.command(KvStateMachine.GET, 1000, null, null))));
  }

  @Test
  void snapshotsCarryValuesAndListsAndRestoreReplacesTheState() {
    KvStateMachine kv = new KvStateMachine();
    kv.apply(1, KvStateMachine.command(KvStateMachine.PUT, 3, 30L, null));
    kv.apply(2, KvStateMachine.command(KvStateMachine.PUT, -2, -20L, null));
    run(kv, 3, ListTxn.MicroOp.append(1001, 5), ListTxn.MicroOp.append(1000, 6));
    run(kv, 4, ListTxn.MicroOp.append(1001, 4), ListTxn.MicroOp.append(Long.MIN_VALUE, -1));
    byte[] image = kv.snapshot();

    KvStateMachine copy = new KvStateMachine();
    // State the restore must drop:
    run(copy, 1, ListTxn.MicroOp.append(2000, 1));
    copy.apply(2, KvStateMachine.command(KvStateMachine.PUT, 5, 50L, null));
    copy.restore(image);
    assertArrayEquals(image, copy.snapshot(), "equal states give equal bytes");
    assertArrayEquals(new long[0], run(copy, 5, ListTxn.MicroOp.read(2000)).get(0));
    assertNull(KvStateMachine.getResult(copy.apply(6,
        KvStateMachine.command(KvStateMachine.GET, 5, null, null))));
    assertEquals(30L, KvStateMachine.getResult(copy.apply(7,
        KvStateMachine.command(KvStateMachine.GET, 3, null, null))));
    assertEquals(-20L, KvStateMachine.getResult(copy.apply(8,
        KvStateMachine.command(KvStateMachine.GET, -2, null, null))));

    // Both go on identically: the copy is the same state, not just the same bytes.
    for (KvStateMachine machine : List.of(kv, copy)) {
      List<long[]> reads = run(machine, 9, ListTxn.MicroOp.append(1001, 11),
          ListTxn.MicroOp.read(1001), ListTxn.MicroOp.read(1000),
          ListTxn.MicroOp.read(Long.MIN_VALUE));
      assertArrayEquals(new long[] {5, 4, 11}, reads.get(0));
      assertArrayEquals(new long[] {6}, reads.get(1));
      assertArrayEquals(new long[] {-1}, reads.get(2));
    }
    assertArrayEquals(kv.snapshot(), copy.snapshot());
    assertNotEquals(Trace.hashBytes(image), Trace.hashBytes(kv.snapshot()));

    assertThrows(IllegalArgumentException.class,
        () -> new KvStateMachine().restore(Arrays.copyOf(image, image.length - 1)));
  }

  @Test
  void sessionsApplyATransactionOnceAndKeepItsAnswerThroughASnapshot() {
    SessionStateMachine sessions = new SessionStateMachine(new KvStateMachine(), 1000);
    long client = SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(
        sessions.apply(1, SessionStateMachine.register())));
    byte[] txn = SessionStateMachine.command(client, 1, ListTxn.encode(List.of(
        ListTxn.MicroOp.append(1000, 1), ListTxn.MicroOp.read(1000))));
    byte[] answer = sessions.apply(2, txn);
    SessionStateMachine restored = new SessionStateMachine(new KvStateMachine(), 1000);
    restored.restore(sessions.snapshot());
    // The retry, applied after the snapshot, gets the first answer and appends nothing.
    assertArrayEquals(answer, restored.apply(3, txn));
    byte[] read = SessionStateMachine.command(client, 2, ListTxn.encode(List.of(
        ListTxn.MicroOp.read(1000))));
    List<long[]> seen = ListTxn.decodeResult(
        SessionStateMachine.decodeResult(restored.apply(4, read)).payload());
    assertArrayEquals(new long[] {1}, seen.get(0));
  }

  @Test
  void generatorKeepsATransactionInOneGroupAndElementsUnique() {
    SimOptions.ListAppendOptions options = new SimOptions.ListAppendOptions(2, 50, 2, 3, 4, 0.5);
    int groups = 4;
    TxnGenerator generator = new TxnGenerator(options, groups, new SimRandom(7));
    Set<Long> elements = new HashSet<>();
    Set<Long> keys = new HashSet<>();
    int[] appendsToKey = new int[10_000];
    for (int i = 0; i < 2000; i++) {
      TxnGenerator.Drawn txn = generator.next();
      assertTrue(txn.ops().size() >= 1 && txn.ops().size() <= 4, txn::toString);
      for (ListTxn.MicroOp op : txn.ops()) {
        assertTrue(op.key() >= TxnGenerator.FIRST_KEY, "list keys stay clear of KV keys");
        assertEquals(txn.group(), 1 + (op.key() - TxnGenerator.FIRST_KEY) % groups,
            txn::toString);
        keys.add(op.key());
        if (op.append()) {
          assertTrue(elements.add(op.element()), "element appended twice: " + op);
          int appended = ++appendsToKey[(int) (op.key() - TxnGenerator.FIRST_KEY)];
          assertTrue(appended <= 3, "key " + op.key() + " took more than 3 appends");
        }
      }
    }
    assertTrue(keys.size() > 100, "retired keys are replaced by fresh ones: " + keys.size());
  }

  @Test
  void historyValuesAreJepsenListAppendMicroOps() {
    List<ListTxn.MicroOp> ops = List.of(ListTxn.MicroOp.append(1000, 3),
        ListTxn.MicroOp.read(1001));
    assertEquals(List.of(Txn.append(1000L, 3L), Txn.read(1001L)),
        TxnGenerator.invokeValue(ops));
    assertEquals(List.of(Txn.append(1000L, 3L), Txn.read(1001L, List.of(1L, 2L))),
        TxnGenerator.okValue(ops, List.of(new long[] {1, 2})));
    assertThrows(SimulationFailure.class, () -> TxnGenerator.okValue(ops, List.of()));
  }
}
