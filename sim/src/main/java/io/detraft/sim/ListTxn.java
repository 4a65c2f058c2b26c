package io.detraft.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The list-append transaction command of {@link KvStateMachine}: Jepsen's {@code [:append k
 * e]} and {@code [:r k nil]} micro-ops, applied together as one log entry. Client, reference
 * state machine and adapters of other state machines (kv-app's test adapter) share this one
 * codec, so they cannot disagree on the bytes.
 *
 * <p>Command: {@code op(1)=4 count(1)} then {@code count} micro-ops, each {@code kind(1)
 * key(8)} and, for an append, {@code element(8)}; kind 0 reads, kind 1 appends. The op
 * byte, not the length, tells it from a single-key command (which keeps its 26-byte layout).
 * Result: for each read, in micro-op order, the key's list as of the micro-op (so a read after
 * an append of the same transaction sees it), as {@link KvStateMachine#writeList} writes it:
 * results stay in the session table, hence in every snapshot.
 */
public final class ListTxn {
  /** The op byte of a transaction (single-key commands use 0 to 3). */
  public static final byte OP = 4;
  /** The most micro-ops in one transaction (its count is one unsigned byte). */
  public static final int MAX_MICRO_OPS = 255;
  private static final byte READ = 0;
  private static final byte APPEND = 1;

  private ListTxn() {}

  /** One micro-op: append {@code element} to {@code key}'s list, or read that list. */
  public record MicroOp(boolean append, long key, long element) {
    public static MicroOp read(long key) {
      return new MicroOp(false, key, 0);
    }

    public static MicroOp append(long key, long element) {
      return new MicroOp(true, key, element);
    }
  }

  /** Whether {@code command} is a transaction rather than a single-key command. */
  public static boolean isTxn(byte[] command) {
    return command.length > 0 && command[0] == OP;
  }

  public static byte[] encode(List<MicroOp> ops) {
    if (ops.isEmpty() || ops.size() > MAX_MICRO_OPS) {
      throw new IllegalArgumentException("a transaction has 1 to " + MAX_MICRO_OPS + " micro-ops");
    }
    int size = 2;
    for (MicroOp op : ops) {
      size += op.append() ? 17 : 9;
    }
    byte[] out = new byte[size];
    out[0] = OP;
    out[1] = (byte) ops.size();
    int at = 2;
    for (MicroOp op : ops) {
      out[at] = op.append() ? APPEND : READ;
      KvStateMachine.writeLong(out, at + 1, op.key());
      at += 9;
      if (op.append()) {
        KvStateMachine.writeLong(out, at, op.element());
        at += 8;
      }
    }
    return out;
  }

  /** The micro-ops of a transaction command; throws if the bytes are not exactly one. */
  public static List<MicroOp> decode(byte[] command) {
    if (!isTxn(command) || command.length < 2) {
      throw new IllegalArgumentException("not a transaction command");
    }
    int count = command[1] & 0xFF;
    List<MicroOp> ops = new ArrayList<>(count);
    int at = 2;
    for (int i = 0; i < count; i++) {
      boolean append = at < command.length && command[at] == APPEND;
      int length = append ? 17 : 9;
      if (at + length > command.length || (!append && command[at] != READ)) {
        throw new IllegalArgumentException("transaction micro-op " + i + " is malformed");
      }
      long key = KvStateMachine.readLong(command, at + 1);
      ops.add(append ? MicroOp.append(key, KvStateMachine.readLong(command, at + 9))
          : MicroOp.read(key));
      at += length;
    }
    if (count == 0 || at != command.length) {
      throw new IllegalArgumentException("transaction of " + count + " micro-ops in "
          + command.length + " bytes");
    }
    return ops;
  }

  /** Whether the transaction only reads (decodes the command). */
  static boolean isReadOnly(byte[] command) {
    for (MicroOp op : decode(command)) {
      if (op.append()) {
        return false;
      }
    }
    return true;
  }

  /** The result of a transaction: what each read saw, in micro-op order. */
  public static byte[] encodeResult(List<long[]> reads) {
    Varints.Writer out = new Varints.Writer(16);
    for (long[] list : reads) {
      KvStateMachine.writeList(out, list);
    }
    return out.toByteArray();
  }

  public static List<long[]> decodeResult(byte[] result) {
    List<long[]> reads = new ArrayList<>();
    Varints.Reader in = new Varints.Reader(result);
    while (!in.done()) {
      reads.add(KvStateMachine.readList(in));
    }
    return reads;
  }
}
