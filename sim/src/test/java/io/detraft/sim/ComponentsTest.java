package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.distribution.ParetoDistribution;
import org.junit.jupiter.api.Test;

/** Small parts: the event queue, the generator tree, the trace, the KV state machine. */
class ComponentsTest {

  @Test
  void eventQueueOrdersByTimeThenSchedulingOrder() {
    EventQueue queue = new EventQueue();
    SimRandom random = new SimRandom(5);
    List<Event> added = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      Event e = new Event(random.nextLong(100), Event.Kind.TICK, 0, 0, i, 0, null);
      queue.add(e);
      added.add(e);
    }
    long lastTime = -1;
    long lastFirst = -1;
    for (int i = 0; i < added.size(); i++) {
      Event e = queue.poll();
      assertTrue(e.time > lastTime || (e.time == lastTime && e.first > lastFirst));
      lastTime = e.time;
      lastFirst = e.first;
    }
    assertNull(queue.poll());
  }

  @Test
  void generatorTreeIsDeterministicAndForksDiffer() {
    SimRandom a = new SimRandom(42);
    SimRandom b = new SimRandom(42);
    SimRandom forkA = a.fork(1);
    SimRandom forkB = b.fork(1);
    for (int i = 0; i < 100; i++) {
      assertEquals(forkA.nextLong(), forkB.nextLong());
    }
    assertNotEquals(new SimRandom(42).fork(1).nextLong(), new SimRandom(42).fork(2).nextLong());
    for (int i = 0; i < 1000; i++) {
      long v = a.between(-3, 3);
      assertTrue(v >= -3 && v <= 3);
    }
  }

  @Test
  void commonsMathDistributionsDrawFromTheSeed() {
    ParetoDistribution first = new ParetoDistribution(new SimRandom(9).asRandomGenerator(), 1, 2);
    ParetoDistribution second = new ParetoDistribution(new SimRandom(9).asRandomGenerator(), 1, 2);
    for (int i = 0; i < 100; i++) {
      double x = first.sample();
      assertEquals(x, second.sample());
      assertTrue(x >= 1);
    }
  }

  @Test
  void traceKeepsTheLastEventsAndAFingerprintOfAll() {
    Trace one = new Trace(8);
    Trace two = new Trace(8);
    for (int i = 0; i < 20; i++) {
      one.record(i, Trace.Kind.CRASH, 1, 0, i, 0, "why" + i);
      two.record(i, Trace.Kind.CRASH, 1, 0, i, 0, "other detail");
    }
    assertEquals(one.fingerprint(), two.fingerprint(), "details never enter the fingerprint");
    String tail = one.tail(3);
    assertEquals(3, tail.lines().count());
    assertTrue(tail.contains("why19") && tail.contains("why17") && !tail.contains("why16"));
    two.fold(21, Trace.Kind.TICK, 1);
    assertNotEquals(one.fingerprint(), two.fingerprint());
    assertNotEquals(Trace.hashBytes(new byte[] {1, 2}), Trace.hashBytes(new byte[] {2, 1}));
  }

  @Test
  void kvStateMachineImplementsGetPutCasDelete() {
    KvStateMachine kv = new KvStateMachine();
    assertNull(KvStateMachine.getResult(kv.apply(1, KvStateMachine.command(
        KvStateMachine.GET, 3, null, null))));
    assertTrue(KvStateMachine.casApplied(kv.apply(2, KvStateMachine.command(
        KvStateMachine.CAS, 3, null, 10L))));
    assertEquals(10L, KvStateMachine.getResult(kv.apply(3, KvStateMachine.command(
        KvStateMachine.GET, 3, null, null))));
    assertTrue(!KvStateMachine.casApplied(kv.apply(4, KvStateMachine.command(
        KvStateMachine.CAS, 3, 9L, 11L))));
    assertArrayEquals(new byte[] {1}, kv.apply(5, KvStateMachine.command(
        KvStateMachine.PUT, 3, 12L, null)));
    assertEquals(12L, KvStateMachine.getResult(kv.apply(6, KvStateMachine.command(
        KvStateMachine.GET, 3, null, null))));
    kv.apply(7, KvStateMachine.command(KvStateMachine.DELETE, 3, null, null));
    assertNull(KvStateMachine.getResult(kv.apply(8, KvStateMachine.command(
        KvStateMachine.GET, 3, null, null))));
  }

  @Test
  void marksCountHitsAndSeedsAndNameTheOnesNeverHit() {
    Marks one = new Marks();
    one.hit(SimMark.SNAPSHOT_TAKEN);
    one.add(SimMark.SNAPSHOT_TAKEN, 2);
    Marks total = new Marks();
    Marks seeds = new Marks();
    for (int i = 0; i < 2; i++) {
      total.addAll(one, false);
      seeds.addAll(one, true);
    }
    assertEquals(6, total.hits(SimMark.SNAPSHOT_TAKEN));
    assertEquals(2, seeds.hits(SimMark.SNAPSHOT_TAKEN));
    assertTrue(total.neverHit().contains("SNAPSHOT_FAST_FORWARD"));
    assertTrue(!total.neverHit().contains("SNAPSHOT_TAKEN"));
    String table = total.table(seeds);
    assertTrue(table.contains("SNAPSHOT_TAKEN") && table.contains("in 2 seed(s)"), table);
    assertTrue(table.contains("NEVER"), table);
  }
}
