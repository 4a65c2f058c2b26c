package io.detraft.kv;

import io.detraft.checker.Kv;
import io.detraft.checker.OpType;
import io.detraft.checker.Txn;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clients of a {@code detraft test} run: {@code concurrency} threads, each drawing its
 * operations from its own seeded generator and recording them in the {@link JepsenHistory}.
 *
 * <ul>
 *   <li><b>register</b>: get, put and cas of small values on keys that rotate (a key is retired
 *       after {@link #OPS_PER_REGISTER} operations, as Jepsen's independent keys, so the
 *       linearizability search of one key stays small). Writes go through the Java {@link
 *       KvClient} (leader routing, retries, exactly-once sessions); linearizable reads go as
 *       plain HTTP GETs to a random node, as a user's curl would, so every node's read path is
 *       exercised, followers included.
 *   <li><b>list-append</b>: transactions of 1 to 4 appends and reads over keys of one group
 *       (one hash tag), through {@link KvClient#transaction}; every element is unique, so a
 *       duplicate or a lost append shows in Elle's checks and in the final read-back.
 * </ul>
 *
 * <p>An operation whose outcome is unknown completes {@code :info}, and its thread goes on as
 * a new logical process (Jepsen's rule: a process with a pending operation never issues
 * another). A read that failed changed nothing and completes {@code :fail}.
 */
final class JepsenWorkload {
  static final int OPS_PER_REGISTER = 150;
  static final int ACTIVE_REGISTERS = 4;
  static final int APPENDS_PER_LIST = 64;
  static final int ACTIVE_LISTS = 4;
  /** The hash tag that puts every list of the list-append workload in one group. */
  static final String LIST_TAG = "{la}";
  static final String REGISTER_PREFIX = "jr";

  private final JepsenOptions options;
  private final JepsenNodes nodes;
  private final JepsenHistory history;
  private final Partitioner partitioner;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong nextElement = new AtomicLong(1);
  private final List<Thread> threads = new ArrayList<>();
  private final Rotation registers = new Rotation(ACTIVE_REGISTERS, OPS_PER_REGISTER);
  private final Rotation lists = new Rotation(ACTIVE_LISTS, APPENDS_PER_LIST);

  JepsenWorkload(JepsenOptions options, JepsenNodes nodes, JepsenHistory history,
      Partitioner partitioner) {
    this.options = options;
    this.nodes = nodes;
    this.history = history;
    this.partitioner = partitioner;
  }

  /** The store key of register {@code id}. */
  static String registerKey(long id) {
    return REGISTER_PREFIX + id;
  }

  /** The store key of list {@code id}. */
  static String listKey(long id) {
    return LIST_TAG + id;
  }

  /** Registers used so far (ids 0 to n - 1). */
  long registersUsed() {
    return registers.used();
  }

  /** Lists used so far (ids 0 to n - 1). */
  long listsUsed() {
    return lists.used();
  }

  long listGroup() {
    return partitioner.groupOf(bytes(listKey(0)));
  }

  void start() {
    for (int w = 0; w < options.concurrency(); w++) {
      int worker = w;
      Thread t = new Thread(() -> work(worker), "detraft-test-client-" + w);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Stops issuing operations and waits for those in flight (each has a deadline). */
  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(60_000);
    }
  }

  private void work(int worker) {
    Random random = new Random(options.seed() * 1_000_003 + worker);
    // Each thread spaces its operations so that all together make the target rate.
    long intervalNanos = (long) (1e9 * options.concurrency() / options.rate());
    long next = System.nanoTime() + (long) (random.nextDouble() * intervalNanos);
    long process = worker;
    List<String> endpoints = new ArrayList<>(nodes.httpEndpoints());
    java.util.Collections.rotate(endpoints, -worker);
    KvClient.Options clientOptions = new KvClient.Options(Duration.ofSeconds(2),
        Duration.ofSeconds(5), true, null, null);
    try (KvClient client = KvClient.connect(endpoints, clientOptions);
        HttpPool http = new HttpPool(Duration.ofSeconds(2), 2)) {
      while (running.get()) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        next = Math.max(next + intervalNanos, System.nanoTime() - intervalNanos);
        boolean register = options.register() && (!options.listAppend() || random.nextBoolean());
        boolean unknown = register ? registerOp(client, http, random, process)
            : listAppendOp(client, random, process);
        if (unknown) {
          process += options.concurrency();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One register operation; true if its outcome is unknown. */
  private boolean registerOp(KvClient client, HttpPool http, Random random, long process) {
    long id = registers.pick(random);
    byte[] key = bytes(registerKey(id));
    long group = partitioner.groupOf(key);
    int kind = random.nextInt(4);
    if (kind < 2) {
      long t = history.invoke(process, Kv.GET, Kv.pair(id, null));
      int node = 1 + random.nextInt(nodes.size());
      try {
        HttpPool.Response r = http.send(Peers.address(nodes.http(node)), "GET",
            "/v1/kv/" + Http.percentEncode(key), Map.of(), null);
        if (r.status() == 200 || r.status() == 404) {
          Object value = r.status() == 404 ? null : number(r.text().trim());
          history.complete(OpType.OK, process, Kv.GET, Kv.pair(id, value), t, group, false);
        } else {
          history.complete(OpType.FAIL, process, Kv.GET, Kv.pair(id, null), t, group, false);
        }
      } catch (IOException | RuntimeException e) {
        history.complete(OpType.FAIL, process, Kv.GET, Kv.pair(id, null), t, group, false);
      }
      return false;
    }
    if (kind == 2) {
      long v = random.nextInt(5);
      long t = history.invoke(process, Kv.PUT, Kv.pair(id, v));
      try {
        client.put(key, bytes(Long.toString(v)));
        history.complete(OpType.OK, process, Kv.PUT, Kv.pair(id, v), t, group, true);
        return false;
      } catch (KvClientException e) {
        return failed(e, process, Kv.PUT, Kv.pair(id, v), t, group);
      }
    }
    long expected = random.nextInt(5);
    long replacement = random.nextInt(5);
    Object value = Kv.casValue(id, expected, replacement);
    long t = history.invoke(process, Kv.CAS, value);
    try {
      boolean applied = client.compareAndSet(key, bytes(Long.toString(expected)),
          bytes(Long.toString(replacement)));
      history.complete(applied ? OpType.OK : OpType.FAIL, process, Kv.CAS, value, t, group,
          applied);
      return false;
    } catch (KvClientException e) {
      return failed(e, process, Kv.CAS, value, t, group);
    }
  }

  /** One list-append transaction; true if its outcome is unknown. */
  private boolean listAppendOp(KvClient client, Random random, long process) {
    List<KvCommand.TxnOp> ops = new ArrayList<>();
    List<Object> invoke = new ArrayList<>();
    boolean writes = false;
    for (int i = 1 + random.nextInt(4); i > 0; i--) {
      long id = lists.pick(random);
      byte[] key = bytes(listKey(id));
      if (random.nextBoolean()) {
        long element = nextElement.getAndIncrement();
        ops.add(KvCommand.TxnOp.append(key, bytes(Long.toString(element))));
        invoke.add(Txn.append(id, element));
        writes = true;
      } else {
        ops.add(KvCommand.TxnOp.read(key));
        invoke.add(Txn.read(id));
      }
    }
    long group = listGroup();
    long t = history.invoke(process, Txn.F, invoke);
    try {
      List<?> results = (List<?>) Json.parseObject(client.transaction(ops)).get("results");
      List<Object> completed = new ArrayList<>();
      for (int i = 0; i < invoke.size(); i++) {
        List<?> op = (List<?>) invoke.get(i);
        if (op.get(0).equals(Txn.READ)) {
          completed.add(Txn.read(op.get(1), elements(((Map<?, ?>) results.get(i))
              .get("value"))));
        } else {
          completed.add(op);
        }
      }
      history.complete(OpType.OK, process, Txn.F, completed, t, group, writes);
      return false;
    } catch (KvClientException e) {
      if (!writes) { // a read-only transaction changed nothing, whatever happened to it
        history.complete(OpType.FAIL, process, Txn.F, invoke, t, group, false);
        return false;
      }
      return failed(e, process, Txn.F, invoke, t, group);
    } catch (Json.ParseException | RuntimeException e) {
      // An answer we cannot read: the transaction may have applied.
      history.complete(OpType.INFO, process, Txn.F, invoke, t, group, true);
      return true;
    }
  }

  /** A register's value as a number; a value that is not one stays text (and is then wrong). */
  static Object number(String text) {
    try {
      return Long.valueOf(text);
    } catch (NumberFormatException e) {
      return text;
    }
  }

  /** The elements of a list as JSON gives them (strings of numbers); empty for null. */
  static List<Long> elements(Object value) {
    List<Long> out = new ArrayList<>();
    if (value != null) {
      for (Object e : (List<?>) value) {
        out.add(Long.parseLong(String.valueOf(e)));
      }
    }
    return out;
  }

  private boolean failed(KvClientException e, long process, String f, Object value, long t,
      long group) {
    OpType type = e.outcomeUnknown() ? OpType.INFO : OpType.FAIL;
    history.complete(type, process, f, value, t, group, true);
    return e.outcomeUnknown();
  }

  /** The groups the workload's keys fall in (for the recovery times). */
  Set<Long> groupsInUse() {
    Set<Long> groups = new TreeSet<>();
    if (options.listAppend()) {
      groups.add(listGroup());
    }
    if (options.register()) {
      for (long id = 0; id < Math.max(1, registersUsed()); id++) {
        groups.add(partitioner.groupOf(bytes(registerKey(id))));
      }
    }
    return groups;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A window of active keys: each pick draws one of the window's slots, and a key that has
   * had its share of operations is replaced by a fresh one.
   */
  private static final class Rotation {
    private final long[] active;
    private final Map<Long, Integer> uses = new TreeMap<>();
    private final int usesPerKey;
    private long next;

    Rotation(int width, int usesPerKey) {
      this.active = new long[width];
      this.usesPerKey = usesPerKey;
      for (int i = 0; i < width; i++) {
        active[i] = next++;
      }
    }

    synchronized long pick(Random random) {
      int slot = random.nextInt(active.length);
      long key = active[slot];
      int n = uses.merge(key, 1, Integer::sum);
      if (n >= usesPerKey) {
        uses.remove(key);
        active[slot] = next++;
      }
      return key;
    }

    synchronized long used() {
      return next;
    }
  }

  /** The HTTP address of node {@code node} (for the read-back). */
  InetSocketAddress address(int node) {
    return Peers.address(nodes.http(node));
  }
}
