package io.detraft.kv.resp;

import io.detraft.kv.KvCommand;
import io.detraft.kv.KvCommand.TxnOp;
import io.detraft.kv.KvResult;
import io.detraft.kv.RedisOps;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The data commands, each as a {@link Plan}: the micro-ops of {@link KvCommand} that do it, all
 * on keys of one group, and how their results become Redis's reply. The same plan runs alone
 * (a read, a command, or a transaction when it has several writes) or queued in MULTI.
 */
final class DataCommands {
  static final String WRONGTYPE = RedisOps.WRONGTYPE;
  static final String NOT_INTEGER = RedisOps.NOT_INTEGER;
  static final String CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
  static final int MAX_KEY_BYTES = 1024;

  /** A command that must be refused before anything runs; the text is the error reply. */
  static final class Refused extends RuntimeException {
    Refused(String reply) {
      super(reply, null, false, false);
    }
  }

  /**
   * @param write whether any op writes (else all ops are reads: served by a ReadIndex)
   * @param ops the micro-ops, in order
   * @param render the reply from the ops' results (one per op; a transaction cut short by a
   *     failed condition has fewer, and {@code conditionFailed} says so)
   */
  record Plan(boolean write, List<TxnOp> ops, Function<Results, Reply> render) {}

  /** The results of a plan's ops. */
  record Results(List<KvResult> each, boolean conditionFailed) {}

  /** Arity as Redis states it: n exactly n arguments (with the name), -n at least n. */
  static final java.util.Map<String, Integer> ARITY = java.util.Map.ofEntries(
      java.util.Map.entry("get", 2), java.util.Map.entry("set", -3),
      java.util.Map.entry("getset", 3), java.util.Map.entry("del", -2),
      java.util.Map.entry("exists", -2), java.util.Map.entry("incr", 2),
      java.util.Map.entry("decr", 2), java.util.Map.entry("incrby", 3),
      java.util.Map.entry("decrby", 3), java.util.Map.entry("append", 3),
      java.util.Map.entry("strlen", 2), java.util.Map.entry("mget", -2),
      java.util.Map.entry("mset", -3), java.util.Map.entry("msetnx", -3),
      java.util.Map.entry("rpush", -3), java.util.Map.entry("lpush", -3),
      java.util.Map.entry("lrange", 4), java.util.Map.entry("llen", 2));

  private DataCommands() {}

  /** The plan of data command {@code name} (lower case, arity checked) with {@code args}. */
  static Plan plan(String name, List<byte[]> args) {
    List<byte[]> a = args.subList(1, args.size());
    return switch (name) {
      case "get" -> read(a, r -> value(r.each().get(0)));
      case "strlen" -> read(a, r -> string(r.each().get(0), v -> new Reply.Int(v.length), 0));
      case "llen" -> read(a, r -> list(r.each().get(0), e -> new Reply.Int(e.size()), 0));
      case "exists" -> read(a, r -> new Reply.Int(r.each().stream()
          .filter(x -> x.status() != KvResult.Status.NOT_FOUND).count()));
      case "mget" -> read(a, r -> new Reply.Array(r.each().stream()
          .map(x -> x.value() == null || x.list() ? Reply.NIL : new Reply.Bulk(x.value()))
          .toList()));
      case "lrange" -> {
        long start = integer(a.get(1));
        long stop = integer(a.get(2));
        yield read(a.subList(0, 1), r -> list(r.each().get(0), e -> range(e, start, stop),
            -1));
      }
      case "set" -> set(a);
      case "getset" -> write(List.of(op(KvCommand.SET, a.get(0),
              mode(KvCommand.SET_REFUSE_LIST, a.get(1)))), r -> value(r.each().get(0)));
      case "del" -> write(each(KvCommand.DELETE, a), r -> new Reply.Int(r.each().stream()
          .filter(x -> x.status() == KvResult.Status.OK).count()));
      case "incr", "decr", "incrby", "decrby" -> incr(name, a);
      case "append" -> write(List.of(op(KvCommand.STRAPPEND, a.get(0), a.get(1))),
          DataCommands::number);
      case "rpush", "lpush" -> {
        List<TxnOp> ops = new ArrayList<>();
        for (byte[] element : a.subList(1, a.size())) {
          ops.add(op(name.equals("rpush") ? KvCommand.RPUSH : KvCommand.LPUSH, a.get(0),
              element));
        }
        yield write(ops, DataCommands::number);
      }
      case "mset", "msetnx" -> {
        if (a.size() % 2 != 0) {
          throw new Refused("ERR wrong number of arguments for '" + name + "' command");
        }
        List<TxnOp> ops = new ArrayList<>();
        for (int i = 0; i < a.size(); i += 2) {
          ops.add(name.equals("mset") ? new TxnOp(KvCommand.PUT, a.get(i), a.get(i + 1))
              : op(KvCommand.SET, a.get(i), mode(KvCommand.SET_IF_ABSENT, a.get(i + 1))));
        }
        yield write(ops, r -> name.equals("mset") ? Reply.OK
            : new Reply.Int(r.conditionFailed() ? 0 : 1));
      }
      default -> throw new IllegalStateException("not a data command: " + name);
    };
  }

  /** SET key value [NX|XX] [GET]; no expiry (detraft keys do not expire). */
  private static Plan set(List<byte[]> a) {
    int mode = 0;
    boolean get = false;
    for (byte[] option : a.subList(2, a.size())) {
      String o = new String(option, StandardCharsets.UTF_8).toUpperCase(Locale.ROOT);
      switch (o) {
        case "NX" -> mode |= (mode & KvCommand.SET_IF_PRESENT) != 0 ? 8 : KvCommand.SET_IF_ABSENT;
        case "XX" -> mode |= (mode & KvCommand.SET_IF_ABSENT) != 0 ? 8 : KvCommand.SET_IF_PRESENT;
        case "GET" -> get = true;
        case "EX", "PX", "EXAT", "PXAT", "KEEPTTL" -> throw new Refused(
            "ERR detraft keys do not expire: " + o + " is not supported");
        default -> throw new Refused("ERR syntax error");
      }
    }
    if (mode > 3) {
      throw new Refused("ERR syntax error");
    }
    if (mode == 0 && !get) {
      return write(List.of(new TxnOp(KvCommand.PUT, a.get(0), a.get(1))), r -> Reply.OK);
    }
    boolean returnOld = get;
    TxnOp op = op(KvCommand.SET, a.get(0),
        mode((byte) (mode | (get ? KvCommand.SET_REFUSE_LIST : 0)), a.get(1)));
    return write(List.of(op), r -> {
      KvResult x = r.each().get(0);
      if (returnOld) {
        return x.value() == null ? Reply.NIL : new Reply.Bulk(x.value());
      }
      return x.status() == KvResult.Status.CAS_FAILED ? Reply.NIL : Reply.OK;
    });
  }

  private static Plan incr(String name, List<byte[]> a) {
    long delta = name.endsWith("by") ? integer(a.get(1)) : 1;
    if (name.startsWith("decr")) {
      if (delta == Long.MIN_VALUE) {
        throw new Refused("ERR decrement would overflow");
      }
      delta = -delta;
    }
    return write(List.of(op(KvCommand.INCRBY, a.get(0),
        Long.toString(delta).getBytes(StandardCharsets.US_ASCII))), DataCommands::number);
  }

  /** The ops as one command: a single command when there is one op, else a transaction. */
  static KvCommand command(List<TxnOp> ops) {
    if (ops.size() > 1) {
      return new KvCommand.Txn(ops);
    }
    TxnOp op = ops.get(0);
    return switch (op.op()) {
      case KvCommand.PUT -> new KvCommand.Put(op.key(), op.value());
      case KvCommand.DELETE -> new KvCommand.Delete(op.key());
      case KvCommand.GET, KvCommand.APPEND -> new KvCommand.Txn(ops);
      default -> new KvCommand.Op(op);
    };
  }

  /**
   * EXEC's command: the WATCH checks ({@link #check}), then every queued plan's ops, as one
   * transaction (a failed check fails it whole: CAS_FAILED, nothing applied).
   */
  static KvCommand exec(List<TxnOp> watched, List<Plan> queued) {
    List<TxnOp> ops = new ArrayList<>(watched);
    queued.forEach(p -> ops.addAll(p.ops()));
    return new KvCommand.Txn(ops);
  }

  /** A CHECK op: {@code key} must still hold what a read returned ({@code current}). */
  static TxnOp check(byte[] key, KvResult current) {
    return check(key, current.value(), current.list());
  }

  /** A CHECK op: {@code key} must hold {@code value} (null: nothing), a list or not. */
  static TxnOp check(byte[] key, byte[] value, boolean list) {
    if (value == null) {
      return op(KvCommand.CHECK, key, new byte[] {0});
    }
    byte[] v = new byte[2 + value.length];
    v[0] = 1;
    v[1] = (byte) (list ? 1 : 0); // the stored type byte (StoredValue)
    System.arraycopy(value, 0, v, 2, value.length);
    return op(KvCommand.CHECK, key, v);
  }

  // ------------------------------------------------------------------ helpers

  private static Plan read(List<byte[]> keys, Function<Results, Reply> render) {
    List<TxnOp> ops = new ArrayList<>();
    keys.forEach(k -> ops.add(TxnOp.read(k)));
    return new Plan(false, ops, render);
  }

  private static Plan write(List<TxnOp> ops, Function<Results, Reply> render) {
    return new Plan(true, ops, render);
  }

  private static List<TxnOp> each(byte op, List<byte[]> keys) {
    List<TxnOp> ops = new ArrayList<>();
    keys.forEach(k -> ops.add(new TxnOp(op, k, null)));
    return ops;
  }

  private static TxnOp op(byte op, byte[] key, byte[] value) {
    return new TxnOp(op, key, value);
  }

  private static byte[] mode(byte mode, byte[] value) {
    byte[] out = new byte[value.length + 1];
    out[0] = mode;
    System.arraycopy(value, 0, out, 1, value.length);
    return out;
  }

  /** The number the last op answered (INCR, APPEND, pushes). */
  private static Reply number(Results r) {
    KvResult last = r.each().get(r.each().size() - 1);
    return new Reply.Int(Long.parseLong(new String(last.value(), StandardCharsets.US_ASCII)));
  }

  private static Reply value(KvResult r) {
    if (r.value() == null) {
      return Reply.NIL;
    }
    return r.list() ? Reply.error(WRONGTYPE) : new Reply.Bulk(r.value());
  }

  private static Reply string(KvResult r, Function<byte[], Reply> f, long absent) {
    if (r.value() == null) {
      return new Reply.Int(absent);
    }
    return r.list() ? Reply.error(WRONGTYPE) : f.apply(r.value());
  }

  private static Reply list(KvResult r, Function<List<byte[]>, Reply> f, long absent) {
    if (r.value() == null) {
      return absent < 0 ? new Reply.Array(List.of()) : new Reply.Int(absent);
    }
    return r.list() ? f.apply(r.elements()) : Reply.error(WRONGTYPE);
  }

  /** LRANGE's indexes: negative counts from the end, out of range clips. */
  private static Reply range(List<byte[]> elements, long start, long stop) {
    long n = elements.size();
    long from = start < 0 ? Math.max(0, n + start) : start;
    long to = stop < 0 ? n + stop : Math.min(stop, n - 1);
    List<Reply> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(new Reply.Bulk(elements.get((int) i)));
    }
    return new Reply.Array(out);
  }

  /** An integer argument, parsed as the state machine parses stored numbers. */
  static long integer(byte[] digits) {
    Long value = RedisOps.parseInteger(digits);
    if (value == null) {
      throw new Refused(NOT_INTEGER);
    }
    return value;
  }

  /** Keys and values within the store's limits, before anything is proposed. */
  static void checkSizes(Plan plan) {
    for (TxnOp op : plan.ops()) {
      if (op.key().length > MAX_KEY_BYTES) {
        throw new Refused("ERR the key has " + op.key().length + " bytes; the limit is "
            + MAX_KEY_BYTES);
      }
      // SET and CHECK carry a mode or type byte ahead of the value.
      int value = op.value() == null ? 0 : op.value().length
          - (op.op() == KvCommand.SET ? 1 : op.op() == KvCommand.CHECK ? 2 : 0);
      if (value > KvCommand.MAX_STORED_VALUE_BYTES) {
        throw new Refused("ERR the value has " + value + " bytes; the limit is "
            + KvCommand.MAX_STORED_VALUE_BYTES);
      }
    }
  }

  static boolean isDataCommand(String name) {
    return ARITY.containsKey(name);
  }

  static String lower(byte[] name) {
    return new String(name, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
  }
}
