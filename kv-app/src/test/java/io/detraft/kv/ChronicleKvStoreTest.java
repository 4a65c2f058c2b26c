package io.detraft.kv;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.SessionStateMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Persistence: resume from the applied index, redo after a crash, distrust after a reboot. */
class ChronicleKvStoreTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static void put(KvStateMachine sm, long index, String key, String value) {
    sm.apply(index, SessionStateMachine.unsessioned(new KvCommand.Put(b(key), b(value))
        .encode()));
  }

  @Test
  void reopenResumesAtTheAppliedIndexWithSessions() {
    ChronicleKvStore store = ChronicleKvStore.open(dir, "g1", ChronicleKvStore.Sizing.small());
    assertFalse(store.recovered());
    KvStateMachine sm = new KvStateMachine(store, 1000);
    long client = SessionStateMachine.clientIdOf(
        SessionStateMachine.decodeResult(sm.apply(1, SessionStateMachine.register())));
    byte[] append = new KvCommand.Append(b("l"), b("x")).encode();
    byte[] first = sm.apply(2, SessionStateMachine.command(client, 1, append));
    put(sm, 3, "k", "v");
    byte[] snapshot = sm.snapshot();
    store.close();

    ChronicleKvStore reopened = ChronicleKvStore.open(dir, "g1",
        ChronicleKvStore.Sizing.small());
    assertTrue(reopened.recovered());
    KvStateMachine again = new KvStateMachine(reopened, 1000);
    assertEquals(3, again.appliedIndex());
    assertArrayEquals(snapshot, again.snapshot());
    // The session survived: a retry of sequence 1 is answered, not applied again.
    assertArrayEquals(first, again.apply(4, SessionStateMachine.command(client, 1, append)));
    assertEquals(1, again.read(b("l")).elements().size());
    // An entry the store already holds (the log's commit index lagged) is skipped.
    put(again, 3, "k", "twice");
    assertArrayEquals(b("v"), again.read(b("k")).value());
    assertEquals(1, again.skippedEntries());
    reopened.close();
  }

  @Test
  void aCrashBetweenWritesIsRedoneOnOpen() {
    MemoryKvStore memory = new MemoryKvStore();
    KvStateMachine sm = new KvStateMachine(memory, 1000);
    put(sm, 1, "a", "1");
    // A store that dies after the redo record and one more write of the next entry.
    KvStore crashing = new ForwardingStore(memory) {
      int puts;

      @Override
      public void put(byte[] key, byte[] value) {
        if (++puts > 2) {
          throw new IllegalStateException("crash");
        }
        super.put(key, value);
      }
    };
    KvStateMachine dying = new KvStateMachine(crashing, 1000);
    byte[] txn = new KvCommand.Txn(java.util.List.of(KvCommand.TxnOp.append(b("x"), b("1")),
        KvCommand.TxnOp.append(b("y"), b("1")), KvCommand.TxnOp.append(b("z"), b("1"))))
        .encode();
    assertThrows(IllegalStateException.class,
        () -> dying.apply(2, SessionStateMachine.unsessioned(txn)));
    assertEquals(null, memory.get(KvStateMachine.dataKey(b("z"))), "the crash left it half done");
    KvStateMachine recovered = new KvStateMachine(memory, 1000);
    assertEquals(2, recovered.appliedIndex());
    for (String key : new String[] {"x", "y", "z"}) {
      assertEquals(1, recovered.read(b(key)).elements().size(), key);
    }
  }

  /**
   * A batch whose redo record would outgrow the limit is stored in parts, each a unit: a crash
   * inside one part redoes that part, and leaves the next parts out entirely.
   */
  @Test
  void aBatchTooLargeForOneRedoRecordIsStoredInUnits() {
    byte[] value = new byte[50 << 10];
    for (int crashAt : new int[] {2, 5, 0}) { // puts before the crash (0: none)
      MemoryKvStore memory = new MemoryKvStore();
      KvStore crashing = new ForwardingStore(memory) {
        int puts;

        @Override
        public void put(byte[] key, byte[] v) {
          if (crashAt > 0 && ++puts > crashAt) {
            throw new IllegalStateException("crash");
          }
          super.put(key, v);
        }
      };
      KvStateMachine sm = new KvStateMachine(crashing, 1000);
      sm.beginBatch();
      try {
        for (int i = 1; i <= 4; i++) {
          sm.apply(i, SessionStateMachine.unsessioned(new KvCommand.Put(b("k" + i), value)
              .encode()));
        }
        sm.endBatch();
        assertEquals(0, crashAt, "no crash expected");
      } catch (IllegalStateException e) {
        assertEquals("crash", e.getMessage());
      }
      // Puts: redo(1-2), k1, k2 | redo(3-4), k3, k4.
      KvStateMachine recovered = new KvStateMachine(memory, 1000);
      // After 2 puts the first part's redo record and k1 are in: that part is redone. After
      // 5, the second part's redo record and k3 are in: both parts are there.
      long expected = crashAt == 2 ? 2 : 4;
      assertEquals(expected, recovered.appliedIndex(), "crash after " + crashAt + " puts");
      for (int i = 1; i <= 4; i++) {
        assertEquals(i <= expected, recovered.read(b("k" + i)).value() != null,
            "k" + i + ", crash after " + crashAt + " puts");
      }
    }
  }

  @Test
  void aMapLeftDirtyByAnotherBootIsDiscarded() throws Exception {
    ChronicleKvStore store = ChronicleKvStore.open(dir, "g2", ChronicleKvStore.Sizing.small());
    put(new KvStateMachine(store, 1000), 1, "k", "v");
    store.close();
    Files.writeString(dir.resolve("g2.cm.state"), "some-other-boot dirty");
    ChronicleKvStore reopened = ChronicleKvStore.open(dir, "g2",
        ChronicleKvStore.Sizing.small());
    assertFalse(reopened.recovered());
    assertEquals(0, new KvStateMachine(reopened, 1000).appliedIndex());
    reopened.close();
  }

  @Test
  void theLargestEntryFitsAndLargerOnesAreRefused() {
    for (ChronicleKvStore.Sizing sizing : new ChronicleKvStore.Sizing[] {
        ChronicleKvStore.Sizing.small(), ChronicleKvStore.Sizing.defaults(),
        ChronicleKvStore.Sizing.defaults().perGroupOf(1_000)}) {
      ChronicleKvStore store = ChronicleKvStore.open(dir, "big" + sizing.entries(), sizing);
      KvStateMachine sm = new KvStateMachine(store, 1000);
      byte[] big = new byte[KvCommand.MAX_STORED_VALUE_BYTES];
      KvResult put = KvResult.decode(SessionStateMachine.decodeResult(sm.apply(1,
          SessionStateMachine.unsessioned(new KvCommand.Put(b("big"), big).encode())))
          .payload());
      assertEquals(KvResult.Status.OK, put.status());
      assertEquals(big.length, sm.read(b("big")).value().length);
      // Reading it back through a session remembers the answer too: still within the limit?
      KvResult tooMuch = KvResult.decode(SessionStateMachine.decodeResult(sm.apply(2,
          SessionStateMachine.unsessioned(new KvCommand.Txn(java.util.List.of(
              KvCommand.TxnOp.read(b("big")), new KvCommand.TxnOp(KvCommand.PUT, b("b2"), big)))
              .encode()))).payload());
      assertEquals(KvResult.Status.ERROR, tooMuch.status());
      assertEquals(null, sm.read(b("b2")).value());
      byte[] oversized = new byte[KvCommand.MAX_STORED_VALUE_BYTES + 1];
      KvResult refused = KvResult.decode(SessionStateMachine.decodeResult(sm.apply(3,
          SessionStateMachine.unsessioned(new KvCommand.Put(b("x"), oversized).encode())))
          .payload());
      assertEquals(KvResult.Status.ERROR, refused.status());
      store.close();
    }
  }

  @Test
  void aNodeOfManyGroupsSizesEachMapSmallAndTheyStillGrow() throws Exception {
    ChronicleKvStore.Sizing eight = ChronicleKvStore.Sizing.defaults().perGroupOf(8);
    ChronicleKvStore.Sizing thousand = ChronicleKvStore.Sizing.defaults().perGroupOf(1_000);
    assertEquals(ChronicleKvStore.Sizing.defaults(), eight);
    assertEquals(1_000, thousand.entries());
    ChronicleKvStore big = ChronicleKvStore.open(dir, "of8", eight);
    ChronicleKvStore small = ChronicleKvStore.open(dir, "of1000", thousand);
    long bigBytes = Files.size(dir.resolve("of8.cm"));
    long smallBytes = Files.size(dir.resolve("of1000.cm"));
    assertTrue(smallBytes * 10 < bigBytes, smallBytes + " B against " + bigBytes + " B");
    for (int i = 0; i < 20_000; i++) { // twenty times what it was sized for
      small.put(b("key-" + i), b("value-" + i));
    }
    assertEquals(20_000, small.size());
    assertArrayEquals(b("value-19999"), small.get(b("key-19999")));
    big.close();
    small.close();
  }

  /** Delegates everything; tests override what they break. */
  static class ForwardingStore implements KvStore {
    private final KvStore inner;

    ForwardingStore(KvStore inner) {
      this.inner = inner;
    }

    @Override
    public byte[] get(byte[] key) {
      return inner.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      inner.put(key, value);
    }

    @Override
    public void remove(byte[] key) {
      inner.remove(key);
    }

    @Override
    public void forEach(BiConsumer<byte[], byte[]> action) {
      inner.forEach(action);
    }

    @Override
    public long size() {
      return inner.size();
    }

    @Override
    public void replaceAll(Iterable<byte[][]> entries) {
      inner.replaceAll(entries);
    }

    @Override
    public boolean recovered() {
      return true;
    }

    @Override
    public void close() {}
  }
}
