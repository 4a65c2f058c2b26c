package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
