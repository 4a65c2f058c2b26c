package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.kv.HttpServer.Exchange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The data half of the HTTP API:
 *
 * <pre>
 * GET    /v1/kv/KEY[?consistency=stale]  the value (raw bytes; a list as a JSON array)
 *        (every /v1/kv/ and /v1/txn request may name ?group=G, a group added at runtime:
 *        the key lives there instead of in the group its hash picks; see kv-app/README.md)
 * PUT    /v1/kv/KEY                      body = value
 * PUT    /v1/kv/KEY?cas=EXPECTED         compare-and-set ({@code ?cas-absent} expects no value)
 * POST   /v1/kv/KEY                      JSON {"op":"cas","expected":..,"value":..} or
 *                                        {"op":"append","value":..} (null = absent)
 * DELETE /v1/kv/KEY
 * POST   /v1/txn                         JSON {"ops":[{"op":"append|put|read|delete",
 *                                        "key":..,"value":..}]}, keys of one group
 * POST   /v1/sessions?group=G            registers a client session: {"group":G,"client":ID}
 * POST   /v1/internal/propose?group=G    a command forwarded by another node
 * </pre>
 *
 * <p>Writes may carry {@code Detraft-Client} and {@code Detraft-Sequence} headers to run in a
 * client session (exactly once across retries). Handlers never block: they start the work and
 * answer from its completion.
 */
final class HttpApi {
  static final String CLIENT_HEADER = "Detraft-Client";
  static final String SEQUENCE_HEADER = "Detraft-Sequence";

  /** Request limits, checked before anything is proposed. */
  record Limits(int maxKeyBytes, int maxValueBytes, int maxBodyBytes) {
    static Limits defaults() {
      return new Limits(1024, KvCommand.MAX_STORED_VALUE_BYTES, 1 << 20);
    }
  }

  private final Router router;
  private final Partitioner partitioner;
  private final Limits limits;
  private final Executor executor;
  private final Metrics metrics;
  private final AdminToken admin;
  /** Whether a group id is one of the cluster's (hashed, or added at runtime). */
  private final java.util.function.LongPredicate isGroup;

  HttpApi(Router router, Partitioner partitioner, Limits limits, Executor executor,
      Metrics metrics, AdminToken admin) {
    this(router, partitioner, limits, executor, metrics, admin,
        g -> g >= 1 && g <= partitioner.groups());
  }

  HttpApi(Router router, Partitioner partitioner, Limits limits, Executor executor,
      Metrics metrics, AdminToken admin, java.util.function.LongPredicate isGroup) {
    this.isGroup = isGroup;
    this.admin = admin;
    this.router = router;
    this.partitioner = partitioner;
    this.limits = limits;
    this.executor = executor;
    this.metrics = metrics;
  }

  void register(HttpServer server) {
    server.route("/v1/kv/", e -> handle(e, guarded(this::kv)));
    server.route("/v1/txn", e -> handle(e, guarded(this::txn)));
    server.route("/v1/sessions", e -> handle(e, guarded(this::session)));
    server.route("/v1/internal/propose", e -> handle(e, this::internalPropose));
  }

  /** Runs a handler, turning a thrown KvException into its JSON answer. */
  interface Handler {
    void handle(Exchange exchange, long startNanos);
  }

  /** {@code handler} behind the token, if the node guards its data endpoints (--auth-data). */
  private Handler guarded(Handler handler) {
    return (exchange, start) -> {
      admin.requireForData(exchange);
      handler.handle(exchange, start);
    };
  }

  /** Answers 401 unless the request carries the admin token (see {@link AdminToken}). */
  void requireAdmin(Exchange exchange) {
    admin.require(exchange);
  }

  /** Runs {@code handler} (the body has arrived in full: it never blocks). */
  void handle(Exchange exchange, Handler handler) {
    long start = System.nanoTime();
    try {
      handler.handle(exchange, start);
    } catch (KvException e) {
      Http.error(exchange, e, metrics);
    } catch (RuntimeException e) {
      Http.error(exchange, new KvException(500, "internal", e.toString()), metrics);
    }
  }

  /** Answers of at most this many bytes are written by whichever thread completes the work. */
  private static final int INLINE_ANSWER_BYTES = 16 << 10;

  /**
   * Answers when {@code future} completes. A small answer is built and sent at once by the
   * completing thread (often the Raft thread: sending never blocks, and it saves a thread
   * hand-off per request); a large one, or a failure of unknown size, is built on the
   * executor, so that the Raft thread does not spend its time rendering big JSON.
   */
  <T> void answer(Exchange exchange, String op, long start, CompletableFuture<T> future,
      java.util.function.BiConsumer<Exchange, T> onSuccess) {
    java.util.function.BiConsumer<T, Throwable> respond = (value, failure) -> {
      try {
        if (failure != null) {
          Http.error(exchange, Router.translate(failure), metrics);
        } else {
          onSuccess.accept(exchange, value);
        }
      } catch (KvException e) {
        Http.error(exchange, e, metrics);
      } catch (RuntimeException e) {
        Http.error(exchange, new KvException(500, "internal", e.toString()), metrics);
      }
      metrics.record(op, start);
    };
    future.whenComplete((value, failure) -> {
      if (estimatedBytes(value) <= INLINE_ANSWER_BYTES) {
        respond.accept(value, failure);
      } else {
        executor.execute(() -> respond.accept(value, failure));
      }
    });
  }

  private static long estimatedBytes(Object value) {
    if (value instanceof byte[] b) {
      return b.length;
    } else if (value instanceof KvResult r) {
      return r.value() == null ? 0 : r.value().length * 2L; // a list may grow as JSON
    }
    return value == null ? 0 : Long.MAX_VALUE;
  }

  private void kv(Exchange exchange, long start) {
    String rawPath = exchange.rawPath();
    byte[] key = Http.percentDecode(rawPath.substring("/v1/kv/".length()), false);
    checkKey(key);
    long group = groupOf(exchange, key);
    switch (exchange.method()) {
      case "GET" -> {
        boolean stale = "stale".equals(Http.query(exchange).get("consistency"));
        answer(exchange, stale ? "get_stale" : "get", start,
            router.read(group, stale, sm -> sm.read(key)), this::sendValue);
      }
      case "PUT" -> {
        byte[] value = Http.body(exchange, limits.maxBodyBytes());
        checkValue(value); // 413 value_too_large, as for values inside JSON bodies
        byte[] expected = Http.queryBytes(exchange, "cas");
        boolean casAbsent = Http.queryBytes(exchange, "cas-absent") != null;
        KvCommand command = expected != null || casAbsent
            ? new KvCommand.Cas(key, casAbsent ? null : expected, value)
            : new KvCommand.Put(key, value);
        write(exchange, command instanceof KvCommand.Cas ? "cas" : "put", start, group, command);
      }
      case "DELETE" -> write(exchange, "delete", start, group, new KvCommand.Delete(key));
      case "POST" -> {
        Map<String, Object> json = parseBody(exchange);
        String op = String.valueOf(json.get("op"));
        byte[] value = bytesOrNull(json.get("value"));
        KvCommand command = switch (op) {
          case "cas" -> new KvCommand.Cas(key, bytesOrNull(json.get("expected")), value);
          case "append" -> {
            if (value == null) {
              throw KvException.badRequest("append needs a value");
            }
            yield new KvCommand.Append(key, value);
          }
          default -> throw KvException.badRequest("op must be cas or append, not " + op);
        };
        checkValue(value);
        write(exchange, op, start, group, command);
      }
      default -> throw new KvException(405, "method_not_allowed",
          exchange.method() + " is not allowed on /v1/kv/");
    }
  }

  private void txn(Exchange exchange, long start) {
    requirePost(exchange);
    Object ops = parseBody(exchange).get("ops");
    if (!(ops instanceof List<?> list) || list.isEmpty() || list.size() > KvCommand.MAX_TXN_OPS) {
      throw KvException.badRequest("ops must be a list of 1 to " + KvCommand.MAX_TXN_OPS);
    }
    List<KvCommand.TxnOp> txnOps = new ArrayList<>();
    long group = 0;
    for (Object o : list) {
      if (!(o instanceof Map<?, ?> m)) {
        throw KvException.badRequest("each op is an object");
      }
      byte[] key = bytesOrNull(m.get("key"));
      if (key == null) {
        throw KvException.badRequest("each op needs a key");
      }
      checkKey(key);
      byte[] value = bytesOrNull(m.get("value"));
      checkValue(value);
      long g = groupOf(exchange, key);
      if (group != 0 && g != group) {
        throw KvException.badRequest("the keys of a transaction must share a group (use a "
            + "hash tag, as in {tag}:key); " + new String(key, StandardCharsets.UTF_8)
            + " is in group " + g + ", the first key in group " + group);
      }
      group = g;
      String op = String.valueOf(m.get("op"));
      try {
        txnOps.add(switch (op) {
          case "read", "get" -> KvCommand.TxnOp.read(key);
          case "append" -> KvCommand.TxnOp.append(key, value);
          case "put" -> new KvCommand.TxnOp(KvCommand.PUT, key, value);
          case "delete" -> new KvCommand.TxnOp(KvCommand.DELETE, key, null);
          default -> throw KvException.badRequest("unknown op " + op);
        });
      } catch (IllegalArgumentException e) {
        throw KvException.badRequest(op + ": " + e.getMessage());
      }
    }
    write(exchange, "txn", start, group, new KvCommand.Txn(txnOps));
  }

  private void write(Exchange exchange, String op, long start, long group,
      KvCommand command) {
    byte[] envelope = envelope(exchange, command.encode());
    answer(exchange, op, start, router.propose(group, envelope), (ex, result) -> {
      ex.defaultLeaderHint(router.leaderElsewhere(group)); // it was forwarded: go there next
      sendResult(ex, op, result);
    });
  }

  private static byte[] envelope(Exchange exchange, byte[] payload) {
    String client = exchange.header(CLIENT_HEADER);
    if (client == null) {
      return SessionStateMachine.unsessioned(payload);
    }
    String sequence = exchange.header(SEQUENCE_HEADER);
    try {
      return SessionStateMachine.command(Long.parseLong(client.trim()),
          Long.parseLong(String.valueOf(sequence).trim()), payload);
    } catch (NumberFormatException e) {
      throw KvException.badRequest(CLIENT_HEADER + " and " + SEQUENCE_HEADER
          + " must both be numbers");
    }
  }

  /** Unwraps the session envelope of a result; a session problem becomes its error. */
  static KvResult unwrap(byte[] envelope) {
    SessionStateMachine.Result r = SessionStateMachine.decodeResult(envelope);
    return switch (r.status()) {
      case OK -> KvResult.decode(r.payload());
      case SESSION_EXPIRED -> throw new KvException(409, "session_expired",
          "the client session expired or never existed; register again (nothing applied)");
      case STALE_SEQUENCE -> throw new KvException(409, "stale_sequence",
          "an older sequence number than the session's last command (nothing applied)");
      case MALFORMED -> throw KvException.badRequest("malformed command");
    };
  }

  private void sendResult(Exchange exchange, String op, byte[] envelope) {
    KvResult r = unwrap(envelope);
    switch (r.status()) {
      case OK -> {
        if (op.equals("txn")) {
          Http.json(exchange, 200, txnJson(r));
        } else {
          Http.ok(exchange);
        }
      }
      case NOT_FOUND -> throw KvException.notFound("no such key");
      case CAS_FAILED -> {
        metrics.error("cas_failed");
        Http.json(exchange, 409, "{\"code\":\"cas_failed\",\"message\":"
            + "\"the current value differs\",\"current\":" + valueJson(r) + "}");
      }
      case ERROR -> throw new KvException(422, "unprocessable", r.error());
    }
  }

  private void sendValue(Exchange exchange, KvResult r) {
    if (r.status() == KvResult.Status.NOT_FOUND) {
      throw KvException.notFound("no such key");
    }
    if (r.list()) {
      Http.json(exchange, 200, valueJson(r));
    } else {
      Http.send(exchange, 200, Http.BYTES, r.value(), 0);
    }
  }

  private void session(Exchange exchange, long start) {
    requirePost(exchange);
    long group = groupParameter(exchange);
    answer(exchange, "register", start,
        router.propose(group, SessionStateMachine.register()), (ex, result) -> {
          ex.defaultLeaderHint(router.leaderElsewhere(group));
          long client = SessionStateMachine.clientIdOf(SessionStateMachine.decodeResult(result));
          Http.json(ex, 200, "{\"group\":" + group + ",\"client\":" + client + "}");
        });
  }

  private void internalPropose(Exchange exchange, long start) {
    requirePost(exchange);
    admin.require(exchange);
    long group = groupParameter(exchange);
    byte[] command = Http.body(exchange, limits.maxBodyBytes() + 64);
    if (command.length == 0) {
      throw KvException.badRequest("empty command");
    }
    answer(exchange, "forwarded", start, router.proposeHere(group, command),
        (ex, result) -> Http.send(ex, 200, Http.BYTES, result, 0));
  }

  private long groupParameter(Exchange exchange) {
    try {
      long group = Long.parseLong(Http.query(exchange).getOrDefault("group", ""));
      if (!isGroup.test(group)) {
        throw KvException.badRequest("group must be 1 to " + partitioner.groups()
            + " or a group added at runtime (GET /v1/groups)");
      }
      return group;
    } catch (NumberFormatException e) {
      throw KvException.badRequest("?group=G is required");
    }
  }

  /**
   * The group of {@code key}: the one its hash picks over the cluster's fixed group count, or
   * the one {@code ?group=G} names, which must be a group added at runtime (or the hashed one).
   * Keys never move between groups: adding a group changes no key's hash group, and a key
   * written to an added group is found there only by naming it.
   */
  private long groupOf(Exchange exchange, byte[] key) {
    long hashed = partitioner.groupOf(key);
    String named = Http.query(exchange).get("group");
    if (named == null) {
      return hashed;
    }
    long group;
    try {
      group = Long.parseLong(named);
    } catch (NumberFormatException e) {
      throw KvException.badRequest("?group= must be a group id, not " + named);
    }
    if (group == hashed) {
      return group;
    }
    if (group >= 1 && group <= partitioner.groups()) {
      throw KvException.badRequest("the key " + new String(key, StandardCharsets.UTF_8)
          + " hashes to group " + hashed + "; ?group= may name that group or a group added"
          + " at runtime, not another hashed one");
    }
    if (!isGroup.test(group)) {
      throw new KvException(404, "no_group", "no group " + group + " in this cluster (GET"
          + " /v1/groups lists them)");
    }
    return group;
  }

  private void checkKey(byte[] key) {
    if (key.length == 0) {
      throw KvException.badRequest("the key is empty");
    }
    if (key.length > limits.maxKeyBytes()) {
      throw new KvException(414, "key_too_large", "the key has " + key.length
          + " bytes; the limit is " + limits.maxKeyBytes());
    }
  }

  private void checkValue(byte[] value) {
    if (value != null && value.length > limits.maxValueBytes()) {
      throw new KvException(413, "value_too_large", "the value has " + value.length
          + " bytes; the limit is " + limits.maxValueBytes());
    }
  }

  private Map<String, Object> parseBody(Exchange exchange) {
    try {
      return Json.parseObject(new String(Http.body(exchange, limits.maxBodyBytes()),
          StandardCharsets.UTF_8));
    } catch (Json.ParseException e) {
      throw KvException.badRequest("the body is not a JSON object: " + e.getMessage());
    }
  }

  private static void requirePost(Exchange exchange) {
    if (!exchange.method().equals("POST")) {
      throw new KvException(405, "method_not_allowed", "use POST");
    }
  }

  private static byte[] bytesOrNull(Object o) {
    if (o == null) {
      return null;
    }
    if (o instanceof Map || o instanceof List) {
      throw KvException.badRequest("keys and values are strings or numbers");
    }
    return String.valueOf(o).getBytes(StandardCharsets.UTF_8);
  }

  /** A value as JSON: a string, an array of strings for a list, or null. */
  static String valueJson(KvResult r) {
    if (r.value() == null) {
      return "null";
    }
    if (!r.list()) {
      return Json.quote(new String(r.value(), StandardCharsets.UTF_8));
    }
    StringBuilder out = new StringBuilder("[");
    for (byte[] e : r.elements()) {
      if (out.length() > 1) {
        out.append(',');
      }
      Json.appendQuoted(out, new String(e, StandardCharsets.UTF_8));
    }
    return out.append(']').toString();
  }

  private static String txnJson(KvResult r) {
    StringBuilder out = new StringBuilder("{\"results\":[");
    for (int i = 0; i < r.txn().size(); i++) {
      KvResult op = r.txn().get(i);
      out.append(i == 0 ? "" : ",");
      out.append(op.value() != null || op.status() == KvResult.Status.NOT_FOUND
          ? "{\"value\":" + valueJson(op) + "}" : "{\"ok\":true}");
    }
    return out.append("]}").toString();
  }
}
