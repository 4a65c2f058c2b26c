package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.StateMachine;
import io.detraft.sim.ListTxn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs kv-app's {@link KvStateMachine} (on the in-memory store) under the simulator's KV
 * workload, whose commands have their own fixed layout ({@code op(1) key(8) flags(1)
 * first(8) second(8)}; op 0 get, 1 put, 2 cas, 3 delete; results: get {@code present(1)
 * value(8)}, put/delete {@code 1}, cas {@code applied(1)}) and its list-append transactions
 * (op 4, decoded and answered through {@link ListTxn}), which become one {@link KvCommand.Txn}
 * of reads and appends. This adapter only translates; every write goes through the real state
 * machine, and snapshots are its own. Keys, values and elements travel as decimal text.
 */
final class SimKvAdapter implements StateMachine {
  private final KvStateMachine kv = KvStateMachine.inMemory();

  @Override
  public byte[] apply(long index, byte[] command) {
    if (ListTxn.isTxn(command)) {
      return applyTxn(index, ListTxn.decode(command));
    }
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

  /** One entry, one transaction: the reads come back in micro-op order. */
  private byte[] applyTxn(long index, List<ListTxn.MicroOp> microOps) {
    List<KvCommand.TxnOp> ops = new ArrayList<>(microOps.size());
    for (ListTxn.MicroOp op : microOps) {
      ops.add(op.append() ? KvCommand.TxnOp.append(text(op.key()), text(op.element()))
          : KvCommand.TxnOp.read(text(op.key())));
    }
    KvResult result = run(index, new KvCommand.Txn(ops));
    if (result.status() != KvResult.Status.OK) {
      // The simulator's transactions always apply: an error here is a bug in one of the two.
      throw new IllegalStateException("entry " + index + ": transaction " + microOps
          + " failed: " + result.error());
    }
    List<long[]> reads = new ArrayList<>();
    for (int i = 0; i < microOps.size(); i++) {
      if (!microOps.get(i).append()) {
        reads.add(elements(result.txn().get(i)));
      }
    }
    return ListTxn.encodeResult(reads);
  }

  /** A read's list; a key never appended to reads as not found, i.e. empty. */
  private static long[] elements(KvResult read) {
    if (read.status() == KvResult.Status.NOT_FOUND) {
      return new long[0];
    }
    List<byte[]> elements = read.elements();
    long[] out = new long[elements.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Long.parseLong(new String(elements.get(i), StandardCharsets.UTF_8));
    }
    return out;
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
