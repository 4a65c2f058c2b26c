package io.detraft.kv;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Java client of the HTTP API that finds each group's leader, retries through failures and
 * applies every write exactly once.
 *
 * <p>Exactly once: the client registers a session per group the first time it writes there,
 * and numbers its commands; a retry after a lost answer, a timeout or a leader change carries
 * the same number, so the state machine answers it from its session table instead of applying
 * it twice. Commands on one group are therefore sequential (a lock per group); different
 * groups proceed in parallel. Reads are linearizable unless asked otherwise, and are retried
 * freely.
 *
 * <p>Thread-safe. Each call gives up after {@link Options#operationTimeout()}: with
 * {@link KvClientException#outcomeUnknown()} if a write might have applied.
 */
public final class KvClient implements AutoCloseable {
  /**
   * @param requestTimeout one HTTP request
   * @param operationTimeout one call, retries included
   * @param sessions number writes in client sessions (exactly once); without, a write whose
   *     outcome is unknown is not retried
   * @param tls HTTPS with this context (the nodes' CA, and a client certificate for mutual
   *     TLS); null: plaintext HTTP
   * @param authToken sent as {@code Authorization: Bearer TOKEN} (nodes started with {@code
   *     --auth-data} want it on data requests); null: none
   */
  public record Options(Duration requestTimeout, Duration operationTimeout, boolean sessions,
      javax.net.ssl.SSLContext tls, byte[] authToken) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(5), Duration.ofSeconds(15), true, null, null);
    }

    public Options withOperationTimeout(Duration operationTimeout) {
      return new Options(requestTimeout, operationTimeout, sessions, tls, authToken);
    }

    public Options withTls(javax.net.ssl.SSLContext tls) {
      return new Options(requestTimeout, operationTimeout, sessions, tls, authToken);
    }

    public Options withAuthToken(byte[] authToken) {
      return new Options(requestTimeout, operationTimeout, sessions, tls, authToken);
    }
  }

  /** One group's client session: id from registration, next sequence number. */
  private static final class Session {
    long clientId;
    long sequence;
  }

  private final List<InetSocketAddress> seeds;
  private final Options options;
  private final HttpPool pool;
  /** The Authorization header, if the options have a token. */
  private final Map<String, String> auth;
  private final Map<Long, InetSocketAddress> httpById = new ConcurrentHashMap<>();
  private final Map<Long, Long> leaderByGroup = new ConcurrentHashMap<>();
  private final Map<Long, Session> sessions = new HashMap<>();
  private volatile Partitioner partitioner;
  private int nextSeed;

  private KvClient(List<InetSocketAddress> seeds, Options options) {
    this.seeds = List.copyOf(seeds);
    this.options = options;
    this.pool = new HttpPool(options.requestTimeout(), 8, options.tls());
    this.auth = new AdminToken(options.authToken()).headers();
  }

  /** A client of the cluster behind {@code endpoints} (HOST:PORT of any HTTP APIs). */
  public static KvClient connect(List<String> endpoints, Options options) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("at least one endpoint is needed");
    }
    List<InetSocketAddress> seeds = new ArrayList<>();
    endpoints.forEach(e -> seeds.add(Peers.address(e)));
    return new KvClient(seeds, options);
  }

  public static KvClient connect(List<String> endpoints) {
    return connect(endpoints, Options.defaults());
  }

  // ------------------------------------------------------------------ operations

  /** The value of {@code key}, linearizably (stale: whatever the node has applied). */
  public Optional<byte[]> get(byte[] key, boolean stale) {
    HttpPool.Response r = call(key, "GET", "/v1/kv/" + Http.percentEncode(key)
        + (stale ? "?consistency=stale" : ""), null, false);
    return r.status() == 404 ? Optional.empty() : Optional.of(r.body());
  }

  public Optional<byte[]> get(byte[] key) {
    return get(key, false);
  }

  public Optional<String> get(String key) {
    return get(bytes(key)).map(b -> new String(b, StandardCharsets.UTF_8));
  }

  public void put(byte[] key, byte[] value) {
    call(key, "PUT", "/v1/kv/" + Http.percentEncode(key), value, true);
  }

  public void put(String key, String value) {
    put(bytes(key), bytes(value));
  }

  /** Deletes {@code key}; false if it had no value. */
  public boolean delete(byte[] key) {
    return call(key, "DELETE", "/v1/kv/" + Http.percentEncode(key), null, true).status() == 200;
  }

  /**
   * Sets {@code replacement} if the value is {@code expected} (null: absent); a null
   * replacement deletes. False if the value differed.
   */
  public boolean compareAndSet(byte[] key, byte[] expected, byte[] replacement) {
    String body = "{\"op\":\"cas\",\"expected\":" + jsonString(expected) + ",\"value\":"
        + jsonString(replacement) + "}";
    return call(key, "POST", "/v1/kv/" + Http.percentEncode(key), bytes(body), true)
        .status() == 200;
  }

  /** Appends {@code element} to the list at {@code key} (creating it). */
  public void append(byte[] key, byte[] element) {
    String body = "{\"op\":\"append\",\"value\":" + jsonString(element) + "}";
    call(key, "POST", "/v1/kv/" + Http.percentEncode(key), bytes(body), true);
  }

  /**
   * Runs micro-ops atomically in one group (keys must share a group: use a hash tag). Returns,
   * per op, the value read (a JSON string, array or null) or null for writes, as JSON text.
   */
  public String transaction(List<KvCommand.TxnOp> ops) {
    StringBuilder body = new StringBuilder("{\"ops\":[");
    for (KvCommand.TxnOp op : ops) {
      String name = switch (op.op()) {
        case KvCommand.GET -> "read";
        case KvCommand.PUT -> "put";
        case KvCommand.DELETE -> "delete";
        default -> "append";
      };
      body.append(body.charAt(body.length() - 1) == '[' ? "" : ",").append("{\"op\":\"")
          .append(name).append("\",\"key\":").append(jsonString(op.key()));
      if (op.value() != null) {
        body.append(",\"value\":").append(jsonString(op.value()));
      }
      body.append('}');
    }
    body.append("]}");
    return call(ops.get(0).key(), "POST", "/v1/txn", bytes(body.toString()), true).text();
  }

  // ------------------------------------------------------------------ the retry loop

  /**
   * Sends one operation until it has an answer: 2xx, 404 and a failed cas are answers;
   * redirections, missing leaders and lost answers are retried until the deadline.
   */
  private HttpPool.Response call(byte[] key, String method, String target, byte[] body,
      boolean write) {
    long deadline = System.nanoTime() + options.operationTimeout().toNanos();
    long group = partitioner().groupOf(key);
    Object lock = write && options.sessions() ? sessionLock(group) : new Object();
    synchronized (lock) {
      Session session = write && options.sessions() ? sessions.get(group) : null;
      boolean sequenced = false;
      KvClientException last = null;
      // Sticky: once an attempt may have applied the write, a later attempt refused outright
      // (not_leader, say) does not make the outcome known.
      boolean mayHaveApplied = false;
      int attempt = 0;
      while (System.nanoTime() < deadline) {
        if (attempt++ > 0) {
          pause(attempt);
        }
        Map<String, String> headers = auth;
        if (session != null) {
          if (session.clientId == 0) {
            if (!register(group, session)) {
              continue;
            }
            sequenced = false;
          }
          if (!sequenced) {
            session.sequence++;
            sequenced = true;
          }
          headers = new HashMap<>(auth);
          headers.put(HttpApi.CLIENT_HEADER, Long.toString(session.clientId));
          headers.put(HttpApi.SEQUENCE_HEADER, Long.toString(session.sequence));
        }
        InetSocketAddress node = target(group, write || !target.contains("stale"));
        HttpPool.Response r;
        try {
          r = pool.send(node, method, target, headers, body);
        } catch (IOException e) {
          last = new KvClientException("unreachable", node + ": " + e.getMessage(), write);
          mayHaveApplied |= write;
          leaderByGroup.remove(group);
          if (write && session == null) {
            throw last; // the request may have arrived: without a session, no blind retry
          }
          continue;
        }
        int status = r.status();
        if (status == 200 || status == 404 || (status == 409 && r.text().contains(
            "\"cas_failed\""))) {
          if (r.leader() != 0) {
            leaderByGroup.put(group, r.leader()); // the node forwarded it to the leader
          }
          return r;
        }
        KvException e = Router.fromErrorAnswer(r, 0);
        if (e.leaderHint != 0) {
          leaderByGroup.put(group, e.leaderHint);
        }
        switch (e.code) {
          case "not_leader", "no_leader", "leadership_transfer", "dropped", "overloaded",
              "group_not_running", "witness" -> {
            last = new KvClientException(e.code, e.getMessage(), false);
            if (e.leaderHint == 0) {
              leaderByGroup.remove(group);
            }
          }
          case "outcome_unknown", "timeout" -> {
            last = new KvClientException(e.code, e.getMessage(), write);
            mayHaveApplied |= write;
            if (write && session == null) {
              throw last;
            }
          }
          case "session_expired" -> {
            if (mayHaveApplied) {
              // This attempt applied nothing, but an earlier one may have, before the session
              // expired: running the command in a new session could apply it twice.
              throw new KvClientException(e.code, e.getMessage() + " (an earlier attempt may"
                  + " have applied)", true);
            }
            session.clientId = 0; // nothing applied: a new session may run it again
            last = new KvClientException(e.code, e.getMessage(), false);
          }
          default -> throw new KvClientException(e.code, e.getMessage(), mayHaveApplied);
        }
      }
      throw last != null ? new KvClientException(last.code(), "gave up after "
          + options.operationTimeout().toMillis() + " ms: " + last.getMessage(),
          mayHaveApplied) : new KvClientException("timeout", "gave up", write);
    }
  }

  // ------------------------------------------------------------------ for the load generator

  /** The group of {@code key}. */
  long groupOf(byte[] key) {
    return partitioner().groupOf(key);
  }

  /** The HTTP address of {@code group}'s leader as last learned; refreshed when unknown. */
  InetSocketAddress leaderAddress(long group) {
    return target(group, true);
  }

  /** Forgets {@code group}'s leader (or learns it from a hint), as a failed call would. */
  void leaderMoved(long group, long hint) {
    if (hint != 0) {
      leaderByGroup.put(group, hint);
    } else {
      leaderByGroup.remove(group);
    }
  }

  /** Registers a new client session in {@code group}; its id, or 0 if that failed. */
  long newSession(long group) {
    Session session = new Session();
    return register(group, session) ? session.clientId : 0;
  }

  private Object sessionLock(long group) {
    synchronized (sessions) {
      return sessions.computeIfAbsent(group, g -> new Session());
    }
  }

  private boolean register(long group, Session session) {
    try {
      HttpPool.Response r = pool.send(target(group, true), "POST", "/v1/sessions?group="
          + group, auth, new byte[0]);
      if (r.status() != 200) {
        KvException e = Router.fromErrorAnswer(r, 0);
        if (e.leaderHint != 0) {
          leaderByGroup.put(group, e.leaderHint);
        }
        return false;
      }
      Object id = Json.parseObject(r.text()).get("client");
      session.clientId = ((Number) id).longValue();
      session.sequence = 0;
      return true;
    } catch (IOException | Json.ParseException e) {
      leaderByGroup.remove(group);
      return false;
    }
  }

  private InetSocketAddress target(long group, boolean leader) {
    if (leader) {
      Long id = leaderByGroup.get(group);
      if (id == null) {
        refreshTopology();
        id = leaderByGroup.get(group);
      }
      InetSocketAddress address = id == null ? null : httpById.get(id);
      if (address == null && id != null) {
        refreshTopology();
        address = httpById.get(id);
      }
      if (address != null) {
        return address;
      }
    }
    synchronized (this) {
      return seeds.get(Math.floorMod(nextSeed++, seeds.size()));
    }
  }

  private Partitioner partitioner() {
    if (partitioner == null) {
      refreshTopology();
      if (partitioner == null) {
        throw new KvClientException("unreachable", "no endpoint answered " + seeds, false);
      }
    }
    return partitioner;
  }

  /** Learns group count, leaders and HTTP addresses from any node that answers. */
  private void refreshTopology() {
    for (int i = 0; i < seeds.size(); i++) {
      InetSocketAddress seed;
      synchronized (this) {
        seed = seeds.get(Math.floorMod(nextSeed++, seeds.size()));
      }
      try {
        Map<String, Object> status = Json.parseObject(pool.send(seed, "GET", "/v1/status",
            auth, null).text());
        Map<String, Object> members = Json.parseObject(pool.send(seed, "GET", "/v1/members",
            auth, null).text());
        for (Object o : (List<?>) members.get("members")) {
          Map<?, ?> m = (Map<?, ?>) o;
          if (m.get("http") != null) {
            httpById.put(((Number) m.get("id")).longValue(),
                Peers.address(String.valueOf(m.get("http"))));
          }
        }
        for (Object o : (List<?>) status.get("groups")) {
          Map<?, ?> g = (Map<?, ?>) o;
          long leader = ((Number) g.get("leader")).longValue();
          if (leader != 0) {
            leaderByGroup.put(((Number) g.get("group")).longValue(), leader);
          }
        }
        if (partitioner == null) {
          partitioner = new Partitioner(((Number) status.get("group_count")).intValue());
        }
        return;
      } catch (IOException | Json.ParseException | RuntimeException e) {
        // Try the next seed.
      }
    }
  }

  private static void pause(int attempt) {
    try {
      Thread.sleep(Math.min(100, 5L * attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KvClientException("interrupted", "interrupted", true);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String jsonString(byte[] b) {
    return b == null ? "null" : Json.quote(new String(b, StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    pool.close();
  }
}
