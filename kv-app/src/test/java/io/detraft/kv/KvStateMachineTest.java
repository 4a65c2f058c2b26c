package io.detraft.kv;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.SessionStateMachine.Status;
import io.detraft.core.StateMachine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The state machine on both stores: commands, sessions, snapshots, malformed input. */
class KvStateMachineTest {
  @TempDir static Path dir;
  private static int counter;

  static Stream<Function<String, KvStore>> stores() {
    return Stream.of(name -> new MemoryKvStore(),
        name -> ChronicleKvStore.open(dir, name + (counter++), ChronicleKvStore.Sizing.small()));
  }

  private long index;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private KvResult run(KvStateMachine sm, KvCommand command) {
    byte[] out = sm.apply(++index, SessionStateMachine.unsessioned(command.encode()));
    SessionStateMachine.Result r = SessionStateMachine.decodeResult(out);
    assertEquals(Status.OK, r.status());
    return KvResult.decode(r.payload());
  }

  @ParameterizedTest
  @MethodSource("stores")
  void commandsDoWhatTheySay(Function<String, KvStore> stores) {
    KvStore store = stores.apply("commands");
    KvStateMachine sm = new KvStateMachine(store, 1000);
    assertEquals(KvResult.Status.NOT_FOUND, run(sm, new KvCommand.Get(b("a"))).status());
    assertEquals(KvResult.Status.OK, run(sm, new KvCommand.Put(b("a"), b("1"))).status());
    assertArrayEquals(b("1"), run(sm, new KvCommand.Get(b("a"))).value());
    KvResult mismatch = run(sm, new KvCommand.Cas(b("a"), b("2"), b("3")));
    assertEquals(KvResult.Status.CAS_FAILED, mismatch.status());
    assertArrayEquals(b("1"), mismatch.value());
    assertEquals(KvResult.Status.OK, run(sm, new KvCommand.Cas(b("a"), b("1"), b("3"))).status());
    assertEquals(KvResult.Status.OK, run(sm, new KvCommand.Cas(b("n"), null, b("new"))).status());
    assertEquals(KvResult.Status.OK, run(sm, new KvCommand.Cas(b("n"), b("new"), null)).status());
    assertEquals(KvResult.Status.NOT_FOUND, run(sm, new KvCommand.Delete(b("n"))).status());
    run(sm, new KvCommand.Append(b("l"), b("x")));
    run(sm, new KvCommand.Append(b("l"), b("y")));
    KvResult list = run(sm, new KvCommand.Get(b("l")));
    assertTrue(list.list());
    assertEquals(List.of("x", "y"), list.elements().stream().map(e -> new String(e, UTF_8))
        .toList());
    assertEquals(KvResult.Status.ERROR, run(sm, new KvCommand.Append(b("a"), b("z"))).status());
    assertEquals(KvResult.Status.OK, run(sm, new KvCommand.Delete(b("a"))).status());
    assertNull(sm.read(b("a")).value());
    assertEquals(index, sm.appliedIndex());
    store.close();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void transactionsApplyWhollyOrNotAtAll(Function<String, KvStore> stores) {
    KvStore store = stores.apply("txn");
    KvStateMachine sm = new KvStateMachine(store, 1000);
    run(sm, new KvCommand.Put(b("plain"), b("v")));
    KvResult ok = run(sm, new KvCommand.Txn(List.of(
        KvCommand.TxnOp.append(b("x"), b("1")), KvCommand.TxnOp.read(b("x")),
        KvCommand.TxnOp.append(b("y"), b("2")))));
    assertEquals(KvResult.Status.OK, ok.status());
    assertEquals(3, ok.txn().size());
    assertEquals(1, ok.txn().get(1).elements().size(), "a read sees the txn's own append");
    byte[] before = sm.snapshot();
    KvResult failed = run(sm, new KvCommand.Txn(List.of(
        KvCommand.TxnOp.append(b("x"), b("3")), KvCommand.TxnOp.append(b("plain"), b("4")))));
    assertEquals(KvResult.Status.ERROR, failed.status());
    assertEquals(1, sm.read(b("x")).elements().size(), "the first append was rolled back");
    assertSameState(before, sm.snapshot());
    store.close();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void malformedCommandsApplyNothing(Function<String, KvStore> stores) {
    KvStore store = stores.apply("malformed");
    KvStateMachine sm = new KvStateMachine(store, 1000);
    run(sm, new KvCommand.Put(b("k"), b("v")));
    byte[] before = sm.snapshot();
    byte[] put = new KvCommand.Put(b("k"), b("other")).encode();
    List<byte[]> bad = List.of(new byte[0], new byte[] {99}, Arrays.copyOf(put, put.length - 1),
        Arrays.copyOf(put, put.length + 1), new byte[] {KvCommand.CAS, 0, 0, 0, 1, 'k', 8},
        new byte[] {KvCommand.TXN, 0, 0});
    for (byte[] payload : bad) {
      byte[] out = sm.apply(++index, SessionStateMachine.unsessioned(payload));
      KvResult r = KvResult.decode(SessionStateMachine.decodeResult(out).payload());
      assertEquals(KvResult.Status.ERROR, r.status());
      assertTrue(r.error().startsWith("malformed command"), r.error());
    }
    for (byte[] envelope : List.of(new byte[0], new byte[] {42}, new byte[] {2, 0, 0})) {
      assertEquals(Status.MALFORMED,
          SessionStateMachine.decodeResult(sm.apply(++index, envelope)).status());
    }
    assertSameState(before, sm.snapshot());
    store.close();
  }

  @ParameterizedTest
  @MethodSource("stores")
  void sessionsApplyARetryOnce(Function<String, KvStore> stores) {
    KvStore store = stores.apply("sessions");
    KvStateMachine sm = new KvStateMachine(store, 5);
    long client = SessionStateMachine.clientIdOf(
        SessionStateMachine.decodeResult(sm.apply(++index, SessionStateMachine.register())));
    byte[] append = new KvCommand.Append(b("l"), b("once")).encode();
    byte[] first = sm.apply(++index, SessionStateMachine.command(client, 1, append));
    byte[] retry = sm.apply(++index, SessionStateMachine.command(client, 1, append));
    assertArrayEquals(first, retry);
    assertEquals(1, sm.read(b("l")).elements().size());
    assertEquals(Status.STALE_SEQUENCE, SessionStateMachine.decodeResult(
        sm.apply(++index, SessionStateMachine.command(client, 0, append))).status());
    for (int i = 0; i < 6; i++) {
      run(sm, new KvCommand.Get(b("l")));
    }
    assertEquals(Status.SESSION_EXPIRED, SessionStateMachine.decodeResult(
        sm.apply(++index, SessionStateMachine.command(client, 2, append))).status());
    assertEquals(0, sm.sessionCount());
    store.close();
  }

  /** Same commands, same bytes out as core's SessionStateMachine over the bare commands. */
  @Test
  void sessionWireFormatMatchesCore() {
    KvStateMachine ours = new KvStateMachine(new MemoryKvStore(), 20);
    KvStateMachine bare = KvStateMachine.inMemory();
    StateMachine unwrapped = new StateMachine() {
      @Override
      public byte[] apply(long i, byte[] command) {
        byte[] out = bare.apply(i, SessionStateMachine.unsessioned(command));
        return Arrays.copyOfRange(out, 1, out.length);
      }

      @Override
      public byte[] snapshot() {
        return bare.snapshot();
      }

      @Override
      public void restore(byte[] snapshot) {
        bare.restore(snapshot);
      }
    };
    SessionStateMachine core = new SessionStateMachine(unwrapped, 20);
    Random random = new Random(7);
    List<Long> clients = new ArrayList<>();
    long[] sequences = new long[64];
    for (long i = 1; i <= 400; i++) {
      byte[] command;
      if (clients.isEmpty() || random.nextInt(10) == 0) {
        command = SessionStateMachine.register();
      } else {
        int c = random.nextInt(clients.size());
        long sequence = sequences[c] + random.nextInt(3) - 1;
        sequences[c] = Math.max(sequences[c], sequence);
        KvCommand kv = random.nextBoolean()
            ? new KvCommand.Append(b("k" + random.nextInt(3)), b("v" + i))
            : new KvCommand.Get(b("k" + random.nextInt(3)));
        command = SessionStateMachine.command(clients.get(c), sequence, kv.encode());
      }
      byte[] expected = core.apply(i, command);
      assertArrayEquals(expected, ours.apply(i, command), "entry " + i);
      if (command.length == 1 && clients.size() < sequences.length) {
        clients.add(SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(expected)));
      }
    }
    assertEquals(core.sessionCount(), ours.sessionCount());
  }

  @ParameterizedTest
  @MethodSource("stores")
  void snapshotsAreCanonicalAndRestoreReplacesEverything(Function<String, KvStore> stores) {
    KvStore storeA = stores.apply("snapA");
    KvStore storeB = stores.apply("snapB");
    KvStateMachine a = new KvStateMachine(storeA, 1000);
    KvStateMachine b = new KvStateMachine(storeB, 1000);
    long saved = index;
    for (int i = 0; i < 50; i++) {
      run(a, new KvCommand.Put(b("k" + i), b("v" + i)));
    }
    run(a, new KvCommand.Append(b("list"), b("e")));
    index = saved; // b applies the same entries in another key order: same state, same bytes
    run(b, new KvCommand.Put(b("stale"), b("gone after restore")));
    KvStateMachine c = KvStateMachine.inMemory();
    index = saved;
    for (int i = 49; i >= 0; i--) {
      run(c, new KvCommand.Put(b("k" + i), b("v" + i)));
    }
    run(c, new KvCommand.Append(b("list"), b("e")));
    assertArrayEquals(a.snapshot(), c.snapshot());

    b.restore(a.snapshot());
    assertArrayEquals(a.snapshot(), b.snapshot());
    assertNull(b.read(b("stale")).value());
    assertEquals(a.appliedIndex(), b.appliedIndex());
    assertThrows(IllegalArgumentException.class, () -> b.restore(new byte[] {1, 2, 3}));
    assertArrayEquals(a.snapshot(), b.snapshot(), "a bad image changes nothing");
    storeA.close();
    storeB.close();
  }

  private static void assertSameState(byte[] before, byte[] after) {
    // The applied index (bytes 4..12) moves with every entry; everything else must not.
    assertArrayEquals(Arrays.copyOfRange(before, 12, before.length),
        Arrays.copyOfRange(after, 12, after.length));
  }

  /** A random mix of commands in sessions (retries, stale numbers, expiry, transactions). */
  private static List<byte[]> workload(long seed, int n) {
    return workload(seed, n, 32);
  }

  private static List<byte[]> workload(long seed, int n, int maxClients) {
    Random random = new Random(seed);
    List<byte[]> out = new ArrayList<>();
    int registered = 0;
    long[] sequences = new long[maxClients];
    for (int i = 0; i < n; i++) {
      if (registered == 0 || (registered < sequences.length && random.nextInt(15) == 0)) {
        out.add(SessionStateMachine.register());
        registered++;
        continue;
      }
      String k = "k" + random.nextInt(20);
      KvCommand command = switch (random.nextInt(6)) {
        case 0 -> new KvCommand.Put(b(k), b("v" + i));
        case 1 -> new KvCommand.Append(b("l" + random.nextInt(5)), b("e" + i));
        case 2 -> new KvCommand.Cas(b(k), b("v" + (i - 3)), b("c" + i));
        case 3 -> new KvCommand.Delete(b(k));
        case 4 -> new KvCommand.Txn(List.of(KvCommand.TxnOp.append(b("{t}a"), b("" + i)),
            KvCommand.TxnOp.read(b("{t}a")), new KvCommand.TxnOp(KvCommand.PUT, b(k), b("t"))));
        default -> new KvCommand.Get(b(k));
      };
      if (random.nextInt(10) == 0) {
        out.add(SessionStateMachine.unsessioned(command.encode()));
        continue;
      }
      // The client id field holds the client's slot (the c-th registration); replay turns
      // it into the id that registration got.
      int c = random.nextInt(registered);
      long sequence = sequences[c] + (random.nextInt(8) == 0 ? 0 : 1); // sometimes a retry
      sequences[c] = sequence;
      out.add(SessionStateMachine.command(c, sequence, command.encode()));
    }
    return out;
  }

  /** Applies {@code commands} from index 1, in batches of the given sizes (0: no batches). */
  private static List<byte[]> replay(KvStateMachine sm, List<byte[]> commands, Random sizes) {
    List<byte[]> results = new ArrayList<>();
    List<Long> clients = new ArrayList<>();
    int i = 0;
    while (i < commands.size()) {
      int n = sizes == null ? 1 : 1 + sizes.nextInt(40);
      if (sizes != null) {
        sm.beginBatch();
      }
      for (int j = 0; j < n && i < commands.size(); j++, i++) {
        byte[] command = commands.get(i);
        if (command[0] == 2) { // a sessioned command: client slot -> registered id
          long slot = Wire.getLong(command, 1);
          command = command.clone();
          Wire.putLong(command, 1, clients.get((int) slot));
        }
        byte[] out = sm.apply(i + 1, command);
        if (command.length == 1) {
          clients.add(SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(out)));
        }
        results.add(out);
      }
      if (sizes != null) {
        sm.endBatch();
      }
    }
    return results;
  }

  @ParameterizedTest
  @MethodSource("stores")
  void batchesGiveTheSameAnswersAndStateAsSingleEntries(Function<String, KvStore> stores) {
    List<byte[]> commands = workload(11, 600);
    KvStore singleStore = stores.apply("single");
    KvStore batchedStore = stores.apply("batched");
    KvStateMachine single = new KvStateMachine(singleStore, 150);
    KvStateMachine batched = new KvStateMachine(batchedStore, 150);
    List<byte[]> expected = replay(single, commands, null);
    List<byte[]> actual = replay(batched, commands, new Random(5));
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), "entry " + (i + 1));
    }
    assertArrayEquals(single.snapshot(), batched.snapshot());
    assertEquals(single.sessionCount(), batched.sessionCount());
    assertEquals(commands.size(), batched.appliedIndex());
    singleStore.close();
    batchedStore.close();
  }

  /**
   * The process dies at random points, inside batches too, and a new state machine opens the
   * same store and applies again from its applied index, as the node does: every answer and
   * the final state are those of a run without crashes. With many clients, so that carried
   * session records both ride in redo records and reach the store.
   */
  @Test
  void aCrashAnywhereChangesNoAnswerAndNoState() {
    List<byte[]> commands = workload(13, 8000, 1500);
    KvStateMachine reference = new KvStateMachine(new MemoryKvStore(), 3000);
    List<byte[]> expected = replay(reference, commands, null);
    List<Long> clients = new ArrayList<>(); // a client's id is its registration's index
    for (int i = 0; i < commands.size(); i++) {
      if (commands.get(i).length == 1) {
        clients.add(i + 1L);
      }
    }
    MemoryKvStore store = new MemoryKvStore();
    KvStateMachine sm = new KvStateMachine(store, 3000);
    Random random = new Random(17);
    int crashes = 0;
    long next = 1;
    while (next <= commands.size()) {
      int n = 1 + random.nextInt(40);
      int crashAt = random.nextInt(6) == 0 ? random.nextInt(n) : -1;
      sm.beginBatch();
      for (int j = 0; j < n && next <= commands.size(); j++, next++) {
        if (j == crashAt) {
          break;
        }
        byte[] command = commands.get((int) next - 1);
        if (command[0] == 2) {
          command = command.clone();
          Wire.putLong(command, 1, clients.get((int) Wire.getLong(command, 1)));
        }
        assertArrayEquals(expected.get((int) next - 1), sm.apply(next, command), "entry " + next);
      }
      if (crashAt >= 0) {
        sm = new KvStateMachine(store, 3000); // what was staged is gone; the redo record is not
        next = sm.appliedIndex() + 1;
        crashes++;
      } else {
        sm.endBatch();
      }
    }
    assertTrue(crashes > 30, "crashes: " + crashes);
    assertArrayEquals(reference.snapshot(), sm.snapshot());
    long storedSessions = 0;
    for (long id : clients) {
      byte[] key = new byte[9];
      key[0] = KvStateMachine.SESSION;
      Wire.putLong(key, 1, id);
      storedSessions += store.get(key) != null ? 1 : 0;
    }
    assertTrue(storedSessions > 0 && storedSessions == sm.sessionCount(),
        "after the snapshot every session is in the store: " + storedSessions);
  }

  /** A changed session record is carried in the redo record, not written to the store. */
  @Test
  void sessionRecordsRideInTheRedoRecord() {
    MemoryKvStore store = new MemoryKvStore();
    KvStateMachine sm = new KvStateMachine(store, 1000);
    long client = SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(
        sm.apply(++index, SessionStateMachine.register())));
    byte[] cas = new KvCommand.Cas(b("k"), null, b("v")).encode();
    byte[] first = sm.apply(++index, SessionStateMachine.command(client, 1, cas));
    byte[] key = new byte[9];
    key[0] = KvStateMachine.SESSION;
    Wire.putLong(key, 1, client);
    assertNull(store.get(key), "carried, not stored");
    KvStateMachine reopened = new KvStateMachine(store, 1000); // a crash: the redo record replays
    assertArrayEquals(first, reopened.apply(++index,
        SessionStateMachine.command(client, 1, cas)), "a retry gets the first answer");
    assertEquals(1, reopened.sessionCount());
  }

  /**
   * Small batches (one group's slice of many clients) carry a few times their own size, not
   * every busy client's record; the ones pushed out reach the store.
   */
  @Test
  void smallBatchesCarryAFewTimesTheirOwnSize() {
    MemoryKvStore store = new MemoryKvStore();
    KvStateMachine sm = new KvStateMachine(store, 1_000_000);
    long[] clients = new long[100];
    for (int i = 0; i < clients.length; i++) {
      clients[i] = SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(
          sm.apply(++index, SessionStateMachine.register())));
    }
    byte[] applied = {KvStateMachine.META, 'a'};
    int largest = 0;
    for (int batch = 0; batch < 50; batch++) {
      // Batches of 10 commands: each client writes every 10th batch, often enough to stay
      // carried if nothing else bounded it (100 records: 3.7 KB in every redo record).
      sm.beginBatch();
      for (int i = 0; i < 10; i++) {
        int c = batch % 10 * 10 + i;
        byte[] put = new KvCommand.Put(b("k" + c), b("v")).encode();
        sm.apply(++index, SessionStateMachine.command(clients[c], 1 + batch / 10, put));
      }
      sm.endBatch();
      if (batch >= 20) {
        largest = Math.max(largest, store.get(applied).length);
      }
    }
    assertTrue(largest < 3_000, "redo records up to " + largest + " bytes");
    KvStateMachine reopened = new KvStateMachine(store, 1_000_000);
    assertEquals(clients.length, reopened.sessionCount());
  }

  @Test
  void aBatchReachesTheStoreOnlyAtItsEnd() {
    KvStateMachine sm = KvStateMachine.inMemory();
    run(sm, new KvCommand.Put(b("a"), b("0")));
    long before = sm.appliedIndex();
    sm.beginBatch();
    run(sm, new KvCommand.Put(b("a"), b("1")));
    KvResult seen = run(sm, new KvCommand.Get(b("a")));
    assertArrayEquals(b("1"), seen.value(), "entries of a batch see the earlier ones");
    assertArrayEquals(b("0"), sm.read(b("a")).value(), "readers see the batch only at its end");
    assertEquals(before, sm.appliedIndex());
    assertThrows(IllegalStateException.class, sm::snapshot);
    sm.endBatch();
    assertArrayEquals(b("1"), sm.read(b("a")).value());
    assertEquals(index, sm.appliedIndex());
    assertThrows(IllegalStateException.class, sm::endBatch);
  }

  @Test
  void sessionsExpireIdlestFirstAcrossAReopen() {
    MemoryKvStore store = new MemoryKvStore();
    KvStateMachine sm = new KvStateMachine(store, 10);
    long[] clients = new long[3];
    for (int c = 0; c < 3; c++) {
      clients[c] = SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(
          sm.apply(++index, SessionStateMachine.register()))); // indexes 1, 2, 3
    }
    byte[] put = new KvCommand.Put(b("k"), b("v")).encode();
    sm.apply(++index, SessionStateMachine.command(clients[0], 1, put)); // client 0 at 4
    // Reopened, the table is rebuilt from the store: by last activity (A 4, C 3), not by id.
    KvStateMachine reopened = new KvStateMachine(store, 10);
    assertEquals(3, reopened.sessionCount());
    index = 12; // entry 13 expires what was idle since before 3: B (2)
    run(reopened, new KvCommand.Get(b("k")));
    assertEquals(2, reopened.sessionCount());
    // Entry 14 expires what was idle since before 4: C (3), though A registered first.
    assertEquals(Status.OK, SessionStateMachine.decodeResult(reopened.apply(++index,
        SessionStateMachine.command(clients[0], 2, put))).status());
    assertEquals(1, reopened.sessionCount());
    for (int c = 1; c < 3; c++) {
      assertEquals(Status.SESSION_EXPIRED, SessionStateMachine.decodeResult(reopened.apply(
          ++index, SessionStateMachine.command(clients[c], 1, put))).status());
    }
  }
}
