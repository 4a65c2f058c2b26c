package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.StateMachine;
import java.nio.charset.StandardCharsets;

/**
 * Runs kv-app's {@link KvStateMachine} (on the in-memory store) under the simulator's KV
 * workload, whose commands have their own fixed layout ({@code op(1) key(8) flags(1)
 * first(8) second(8)}; op 0 get, 1 put, 2 cas, 3 delete; results: get {@code present(1)
 * value(8)}, put/delete {@code 1}, cas {@code applied(1)}). This adapter only translates;
 * every write goes through the real state machine, and snapshots are its own.
 */
final class SimKvAdapter implements StateMachine {
  private final KvStateMachine kv = KvStateMachine.inMemory();

  @Override
  public byte[] apply(long index, byte[] command) {
    if (command.length != 26) {
      throw new IllegalArgumentException("not a simulator KV command");
    }
    int op = command[0];
    byte[] key = text(Wire.getLong(command, 1));
    byte[] first = (command[9] & 1) != 0 ? text(Wire.getLong(command, 10)) : null;
    byte[] second = (command[9] & 2) != 0 ? text(Wire.getLong(command, 18)) : null;
    switch (op) {
      case 0 -> {
        // Reads (ReadIndex, or a get through the log) never change the state: read directly.
        KvResult r = kv.read(key);
        byte[] out = new byte[9];
        if (r.value() != null) {
          out[0] = 1;
          Wire.putLong(out, 1, Long.parseLong(new String(r.value(), StandardCharsets.UTF_8)));
        }
        return out;
      }
      case 1 -> {
        run(index, first == null ? new KvCommand.Delete(key) : new KvCommand.Put(key, first));
        return new byte[] {1};
      }
      case 3 -> {
        run(index, new KvCommand.Delete(key));
        return new byte[] {1};
      }
      case 2 -> {
        KvResult r = run(index, new KvCommand.Cas(key, first, second));
        return new byte[] {(byte) (r.status() == KvResult.Status.OK ? 1 : 0)};
      }
      default -> throw new IllegalArgumentException("unknown simulator op " + op);
    }
  }

  private KvResult run(long index, KvCommand command) {
    byte[] out = kv.apply(index, SessionStateMachine.unsessioned(command.encode()));
    return KvResult.decode(SessionStateMachine.decodeResult(out).payload());
  }

  private static byte[] text(long v) {
    return Long.toString(v).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] snapshot() {
    return kv.snapshot();
  }

  @Override
  public void restore(byte[] snapshot) {
    kv.restore(snapshot);
  }
}
