package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.detraft.core.SessionStateMachine.Result;
import io.detraft.core.SessionStateMachine.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionStateMachineTest {

  /**
   * Appends each command to a list; its result is the list's new size. Its snapshot is the
   * list comma-separated, readable in golden files (InteractionEnv runs it under sessions).
   */
  static final class Appender implements StateMachine {
    final List<String> applied = new ArrayList<>();

    @Override
    public byte[] apply(long index, byte[] command) {
      applied.add(new String(command, StandardCharsets.UTF_8));
      return Integer.toString(applied.size()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] snapshot() {
      return String.join(",", applied).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void restore(byte[] snapshot) {
      applied.clear();
      String s = new String(snapshot, StandardCharsets.UTF_8);
      if (!s.isEmpty()) {
        applied.addAll(List.of(s.split(",")));
      }
    }
  }

  private static Result apply(SessionStateMachine sm, long index, byte[] command) {
    return SessionStateMachine.decodeResult(sm.apply(index, command));
  }

  private static byte[] cmd(long client, long seq, String payload) {
    return SessionStateMachine.command(client, seq, payload.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRetriedCommandAppliesOnceAndGetsTheOriginalAnswer() {
    Appender inner = new Appender();
    SessionStateMachine sm = new SessionStateMachine(inner, 100);
    long client = SessionStateMachine.clientIdOf(apply(sm, 1, SessionStateMachine.register()));
    assertEquals(1, client);
    Result first = apply(sm, 2, cmd(client, 1, "a"));
    Result retry = apply(sm, 3, cmd(client, 1, "a"));
    assertEquals(Status.OK, retry.status());
    assertArrayEquals(first.payload(), retry.payload());
    assertEquals(List.of("a"), inner.applied);
    apply(sm, 4, cmd(client, 2, "b"));
    assertEquals(Status.STALE_SEQUENCE, apply(sm, 5, cmd(client, 1, "a")).status());
    assertEquals(List.of("a", "b"), inner.applied);
  }

  @Test
  void sessionsExpireByLogPositionNotTime() {
    Appender inner = new Appender();
    SessionStateMachine sm = new SessionStateMachine(inner, 10);
    long client = SessionStateMachine.clientIdOf(apply(sm, 1, SessionStateMachine.register()));
    apply(sm, 5, cmd(client, 1, "a"));
    // Index 15 is exactly 10 entries after the last use: still alive.
    assertEquals(Status.OK, apply(sm, 15, cmd(client, 2, "b")).status());
    // 26 is 11 entries later: expired, and the command is not applied.
    assertEquals(Status.SESSION_EXPIRED, apply(sm, 26, cmd(client, 3, "c")).status());
    assertEquals(List.of("a", "b"), inner.applied);
    assertEquals(1, sm.expiredCount());
    assertEquals(Status.SESSION_EXPIRED, apply(sm, 27, cmd(999, 1, "x")).status());
  }

  @Test
  void theSessionTableTravelsInSnapshots() {
    SessionStateMachine leader = new SessionStateMachine(new Appender(), 100);
    long client = SessionStateMachine.clientIdOf(
        apply(leader, 1, SessionStateMachine.register()));
    Result original = apply(leader, 2, cmd(client, 1, "a"));
    Appender restoredInner = new Appender();
    SessionStateMachine restored = new SessionStateMachine(restoredInner, 100);
    restored.restore(leader.snapshot());
    assertEquals(List.of("a"), restoredInner.applied);
    Result retry = apply(restored, 3, cmd(client, 1, "a"));
    assertArrayEquals(original.payload(), retry.payload());
    assertEquals(List.of("a"), restoredInner.applied);
  }

  @Test
  void garbageIsRefusedWithoutApplying() {
    Appender inner = new Appender();
    SessionStateMachine sm = new SessionStateMachine(inner, 10);
    assertEquals(Status.MALFORMED, apply(sm, 1, new byte[0]).status());
    assertEquals(Status.MALFORMED, apply(sm, 2, new byte[] {2, 0, 0}).status());
    assertEquals(Status.MALFORMED, apply(sm, 3, new byte[] {9}).status());
    assertEquals(Status.MALFORMED, SessionStateMachine.decodeResult(new byte[0]).status());
    assertEquals(List.of(), inner.applied);
    Result plain = apply(sm, 4, SessionStateMachine.unsessioned("x".getBytes()));
    assertEquals(Status.OK, plain.status());
    assertEquals(List.of("x"), inner.applied);
  }

  @Test
  void argumentsAreCheckedAtTheirBoundaries() {
    assertThrows(Invariants.Violation.class, () -> new SessionStateMachine(null, 1));
    assertThrows(Invariants.Violation.class, () -> new SessionStateMachine(new Appender(), 0));
    SessionStateMachine sm = new SessionStateMachine(new Appender(), 1); // The least timeout.
    assertThrows(Invariants.Violation.class,
        () -> SessionStateMachine.clientIdOf(apply(sm, 1, new byte[0])));
    // A status byte one past the last status is no status.
    assertEquals(Status.MALFORMED, SessionStateMachine.decodeResult(
        new byte[] {(byte) Status.values().length}).status());
    assertEquals(Status.values()[Status.values().length - 1], SessionStateMachine.decodeResult(
        new byte[] {(byte) (Status.values().length - 1)}).status());
    // A registration carries nothing more; a command with an empty payload is a command.
    assertEquals(Status.MALFORMED, apply(sm, 2, new byte[] {1, 0}).status());
    long client = SessionStateMachine.clientIdOf(apply(sm, 3, SessionStateMachine.register()));
    assertEquals(Status.OK, apply(sm, 4, cmd(client, 1, "")).status());
  }

  /** Ids, sequences and indexes use all 64 bits: none is cut to its low bytes. */
  @Test
  void largeIdsSequencesAndIndexesSurviveEncodingAndSnapshots() {
    Appender inner = new Appender();
    SessionStateMachine sm = new SessionStateMachine(inner, Long.MAX_VALUE / 2);
    long index = (1L << 60) + 0x0102030405L;
    long client = SessionStateMachine.clientIdOf(apply(sm, index, SessionStateMachine.register()));
    assertEquals(index, client);
    long sequence = 0x7F00_0000_0000_0301L;
    Result first = apply(sm, index + 1, cmd(client, sequence, "a"));
    assertEquals(Status.OK, first.status());
    assertEquals(Status.STALE_SEQUENCE, apply(sm, index + 2, cmd(client, 0x301, "b")).status());
    SessionStateMachine restored = new SessionStateMachine(new Appender(), Long.MAX_VALUE / 2);
    restored.restore(sm.snapshot());
    assertArrayEquals(first.payload(), apply(restored, index + 3, cmd(client, sequence, "a"))
        .payload());
    assertEquals(Status.STALE_SEQUENCE,
        apply(restored, index + 4, cmd(client, sequence - 1, "c")).status());
    assertEquals(List.of("a"), inner.applied);
  }

  /** A retry is activity: it keeps its session alive as a new command would. */
  @Test
  void aRetryKeepsItsSessionAlive() {
    SessionStateMachine sm = new SessionStateMachine(new Appender(), 10);
    long client = SessionStateMachine.clientIdOf(apply(sm, 1, SessionStateMachine.register()));
    apply(sm, 2, cmd(client, 1, "a"));
    assertEquals(Status.OK, apply(sm, 10, cmd(client, 1, "a")).status()); // A retry.
    // 18 entries after the command, 8 after its retry: alive.
    assertEquals(Status.OK, apply(sm, 20, cmd(client, 2, "b")).status());
    assertEquals(0, sm.expiredCount());
  }

  /**
   * A restore replaces the whole table: sessions the snapshot does not hold are gone, and
   * those it holds keep their last activity (so they expire when they would have).
   */
  @Test
  void aRestoreReplacesTheSessionTableWithItsLastActivity() {
    SessionStateMachine source = new SessionStateMachine(new Appender(), 10);
    long kept = SessionStateMachine.clientIdOf(apply(source, 5, SessionStateMachine.register()));
    apply(source, 6, cmd(kept, 1, "a"));
    SessionStateMachine target = new SessionStateMachine(new Appender(), 10);
    long dropped = SessionStateMachine.clientIdOf(apply(target, 1,
        SessionStateMachine.register()));
    target.restore(source.snapshot());
    assertEquals(1, target.sessionCount());
    assertEquals(Status.SESSION_EXPIRED, apply(target, 7, cmd(dropped, 1, "x")).status());
    // Restored with its last activity at 6: alive at 16, expired at 17 had it been idle.
    SessionStateMachine idle = new SessionStateMachine(new Appender(), 10);
    idle.restore(source.snapshot());
    assertEquals(Status.SESSION_EXPIRED, apply(idle, 17, cmd(kept, 2, "b")).status());
    assertEquals(Status.OK, apply(target, 16, cmd(kept, 2, "b")).status());
    assertEquals(1, target.sessionCount());
  }

  /** Lengths (of answers and of the inner state) use all their bytes, not just the lowest. */
  @Test
  void longAnswersAndStatesSurviveSnapshots() {
    StateMachine echo = new StateMachine() {
      byte[] state = new byte[0];

      @Override
      public byte[] apply(long index, byte[] command) {
        state = new byte[300 + command.length];
        state[299] = 7;
        return state.clone();
      }

      @Override
      public byte[] snapshot() {
        return state.clone();
      }

      @Override
      public void restore(byte[] snapshot) {
        state = snapshot.clone();
      }
    };
    SessionStateMachine sm = new SessionStateMachine(echo, 100);
    long client = SessionStateMachine.clientIdOf(apply(sm, 1, SessionStateMachine.register()));
    Result first = apply(sm, 2, cmd(client, 1, "a"));
    assertEquals(301, first.payload().length);
    SessionStateMachine restored = new SessionStateMachine(echo, 100);
    restored.restore(sm.snapshot());
    assertArrayEquals(sm.snapshot(), restored.snapshot());
    assertArrayEquals(first.payload(), apply(restored, 3, cmd(client, 1, "a")).payload());
  }

  /** Sessions a restore dropped are not counted as expired later. */
  @Test
  void aRestoreForgetsTheOldSessionsActivityToo() {
    SessionStateMachine target = new SessionStateMachine(new Appender(), 10);
    apply(target, 1, SessionStateMachine.register());
    apply(target, 2, SessionStateMachine.register());
    SessionStateMachine source = new SessionStateMachine(new Appender(), 10);
    apply(source, 5, SessionStateMachine.register());
    target.restore(source.snapshot());
    apply(target, 100, SessionStateMachine.register()); // Expires everything before 90.
    assertEquals(1, target.expiredCount());
    assertEquals(1, target.sessionCount());
  }
}
