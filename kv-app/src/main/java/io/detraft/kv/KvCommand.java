package io.detraft.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * A key/value command, as proposed to a group and applied by {@link KvStateMachine}.
 *
 * <p>Encoding (big-endian; {@code bytes} is a {@code u32} length and the bytes):
 *
 * <pre>
 * get     01 key:bytes
 * put     02 key:bytes value:bytes
 * delete  03 key:bytes
 * cas     04 key:bytes flags:u8 [expected:bytes] [replacement:bytes]
 *            flags bit 0: expected present (else: the key must be absent)
 *            flags bit 1: replacement present (else: delete on match)
 * append  05 key:bytes element:bytes            (to a list value; creates the list)
 * txn     06 count:u16 then count micro-ops, each  op:u8 key:bytes [value:bytes]
 *            op 01 read, 02 put (value), 03 delete, 05 append (value), or 08..0d
 * 08..0d  op:u8 key:bytes value:bytes            (one micro-op on its own, {@link Op}):
 *   incrby    08 value = the delta in decimal ASCII; answers the new number
 *   strappend 09 value = bytes to add to a plain value; answers the new length
 *   lpush     0a value = an element put first in a list; answers the new length
 *   rpush     0b value = an element put last in a list; answers the new length
 *   set       0c value = mode:u8 then the value; mode 0 always, 1 only if absent (NX), 2
 *                only if present (XX), plus 4: refuse if the old value is a list (SET GET);
 *                answers the old value, or CAS_FAILED when the condition does not hold
 *   check     0d value = 00 (the key must be absent) or 01 and the stored value (type byte
 *                and payload); CAS_FAILED if it differs: in a transaction, nothing applies
 * </pre>
 *
 * <p>The micro-ops 08..0d are what the RESP front end needs (INCR, APPEND, LPUSH/RPUSH, SET
 * NX/XX/GET, WATCH); their error messages are Redis's own, so it can pass them on.
 *
 * <p>A transaction applies as one log entry: all of its micro-ops or, if one fails (append
 * to a value that is not a list, a value over the limit), none. Commands travel inside the
 * session envelope of {@link io.detraft.core.SessionStateMachine} (see {@link KvStateMachine}).
 */
public sealed interface KvCommand {
  byte GET = 1;
  byte PUT = 2;
  byte DELETE = 3;
  byte CAS = 4;
  byte APPEND = 5;
  byte TXN = 6;
  /** Writes a system key (node addresses); never produced from a client request. */
  byte SYSTEM_PUT = 7;
  byte INCRBY = 8;
  byte STRAPPEND = 9;
  byte LPUSH = 10;
  byte RPUSH = 11;
  byte SET = 12;
  byte CHECK = 13;

  /** Modes of {@link #SET}. */
  byte SET_IF_ABSENT = 1;
  byte SET_IF_PRESENT = 2;
  byte SET_REFUSE_LIST = 4;

  /** The largest value the state machine stores (a list may grow up to this). */
  int MAX_STORED_VALUE_BYTES = 64 << 10;
  /**
   * The most bytes one entry may write (its values plus the remembered session result): the
   * whole entry goes into one redo record, which the store must hold as one value.
   */
  int MAX_ENTRY_WRITE_BYTES = 128 << 10;
  /** The most micro-ops in one transaction. */
  int MAX_TXN_OPS = 1024;

  byte[] key();

  byte[] encode();

  record Get(byte[] key) implements KvCommand {
    @Override
    public byte[] encode() {
      return new Wire.Writer(5 + key.length).u8(GET).bytes(key).toByteArray();
    }
  }

  record Put(byte[] key, byte[] value) implements KvCommand {
    @Override
    public byte[] encode() {
      return new Wire.Writer(9 + key.length + value.length).u8(PUT).bytes(key).bytes(value)
          .toByteArray();
    }
  }

  record Delete(byte[] key) implements KvCommand {
    @Override
    public byte[] encode() {
      return new Wire.Writer(5 + key.length).u8(DELETE).bytes(key).toByteArray();
    }
  }

  /** Sets {@code replacement} (null: deletes) if the value equals {@code expected} (null: absent). */
  record Cas(byte[] key, byte[] expected, byte[] replacement) implements KvCommand {
    @Override
    public byte[] encode() {
      Wire.Writer w = new Wire.Writer(32 + key.length).u8(CAS).bytes(key)
          .u8((expected != null ? 1 : 0) | (replacement != null ? 2 : 0));
      if (expected != null) {
        w.bytes(expected);
      }
      if (replacement != null) {
        w.bytes(replacement);
      }
      return w.toByteArray();
    }
  }

  record Append(byte[] key, byte[] element) implements KvCommand {
    @Override
    public byte[] encode() {
      return new Wire.Writer(9 + key.length + element.length).u8(APPEND).bytes(key)
          .bytes(element).toByteArray();
    }
  }

  /** One micro-op (08..0d) applied on its own. */
  record Op(TxnOp op) implements KvCommand {
    public Op {
      if (op.op() < INCRBY || op.op() > CHECK) {
        throw new IllegalArgumentException("op " + op.op() + " has a command of its own");
      }
    }

    @Override
    public byte[] key() {
      return op.key();
    }

    @Override
    public byte[] encode() {
      return new Wire.Writer(9 + op.key().length + op.value().length).u8(op.op())
          .bytes(op.key()).bytes(op.value()).toByteArray();
    }
  }

  /** One step of a {@link Txn}; {@code value} is null for read and delete. */
  record TxnOp(byte op, byte[] key, byte[] value) {
    public TxnOp {
      if (op != GET && op != PUT && op != DELETE && op != APPEND
          && (op < INCRBY || op > CHECK)) {
        throw new IllegalArgumentException("not a transaction op: " + op);
      }
      if ((op != GET && op != DELETE) != (value != null)) {
        throw new IllegalArgumentException("op " + op + " with" + (value == null ? "out" : "")
            + " a value");
      }
    }

    public static TxnOp read(byte[] key) {
      return new TxnOp(GET, key, null);
    }

    public static TxnOp append(byte[] key, byte[] element) {
      return new TxnOp(APPEND, key, element);
    }
  }

  record Txn(List<TxnOp> ops) implements KvCommand {
    public Txn {
      ops = List.copyOf(ops);
      if (ops.isEmpty() || ops.size() > MAX_TXN_OPS) {
        throw new IllegalArgumentException("a transaction has 1 to " + MAX_TXN_OPS + " ops");
      }
    }

    /** The first key: transactions stay inside one group, so any key routes it. */
    @Override
    public byte[] key() {
      return ops.get(0).key();
    }

    @Override
    public byte[] encode() {
      Wire.Writer w = new Wire.Writer(64).u8(TXN).u16(ops.size());
      for (TxnOp op : ops) {
        w.u8(op.op()).bytes(op.key());
        if (op.value() != null) {
          w.bytes(op.value());
        }
      }
      return w.toByteArray();
    }
  }

  /** A system record (node address book); the key lives apart from every client key. */
  record SystemPut(byte[] key, byte[] value) implements KvCommand {
    @Override
    public byte[] encode() {
      return new Wire.Writer(9 + key.length + value.length).u8(SYSTEM_PUT).bytes(key)
          .bytes(value).toByteArray();
    }
  }

  /** Decodes a command, or throws with what is wrong; never anything else. */
  static KvCommand decode(byte[] payload) throws Wire.MalformedException {
    Wire.Reader r = new Wire.Reader(payload, 0);
    KvCommand command = switch (r.u8()) {
      case GET -> new Get(r.bytes());
      case PUT -> new Put(r.bytes(), r.bytes());
      case DELETE -> new Delete(r.bytes());
      case CAS -> {
        byte[] key = r.bytes();
        int flags = r.u8();
        if ((flags & ~3) != 0) {
          throw new Wire.MalformedException("unknown cas flags " + flags);
        }
        byte[] expected = (flags & 1) != 0 ? r.bytes() : null;
        byte[] replacement = (flags & 2) != 0 ? r.bytes() : null;
        yield new Cas(key, expected, replacement);
      }
      case APPEND -> new Append(r.bytes(), r.bytes());
      case TXN -> {
        int count = r.u16();
        if (count == 0 || count > MAX_TXN_OPS) {
          throw new Wire.MalformedException("transaction of " + count + " ops");
        }
        List<TxnOp> ops = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          int op = r.u8();
          byte[] key = r.bytes();
          switch (op) {
            case GET, DELETE -> ops.add(new TxnOp((byte) op, key, null));
            case PUT, APPEND, INCRBY, STRAPPEND, LPUSH, RPUSH, SET, CHECK ->
                ops.add(new TxnOp((byte) op, key, r.bytes()));
            default -> throw new Wire.MalformedException("unknown transaction op " + op);
          }
        }
        yield new Txn(ops);
      }
      case SYSTEM_PUT -> new SystemPut(r.bytes(), r.bytes());
      case INCRBY, STRAPPEND, LPUSH, RPUSH, SET, CHECK ->
          new Op(new TxnOp(payload[0], r.bytes(), r.bytes()));
      default -> throw new Wire.MalformedException("unknown command op " + payload[0]);
    };
    r.expectEnd();
    return command;
  }
}
