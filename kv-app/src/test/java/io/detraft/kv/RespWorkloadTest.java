package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Kv;
import io.detraft.checker.LinearizabilityChecker;
import io.detraft.checker.Txn;
import io.detraft.kv.resp.RespServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The checker's workloads over RESP with Jedis, clients on every node (followers hand writes
 * to the leader), while the leader of the workload's group is stopped and restarted twice:
 * list-append (MULTI, RPUSH, LRANGE, EXEC) must be strict-serializable by Elle's checks, and
 * a register (GET, SET, and compare-and-set as WATCH, GET, MULTI, SET, EXEC) linearizable.
 */
@Timeout(150)
class RespWorkloadTest {
  @TempDir Path dir;

  /**
   * One operation of a workload on a connection; records it in the history itself and throws
   * {@link Reconnect} after an error.
   */
  private interface Operation {
    void run(Jedis jedis, Random random, long process) throws Exception;
  }

  private final HistoryBuilder history = new HistoryBuilder();
  private final long t0 = System.nanoTime();
  private final AtomicLong processes = new AtomicLong();

  private long now() {
    return System.nanoTime() - t0;
  }

  @Test
  void listAppendOverRespUnderLeaderCrashesIsStrictSerializable() throws Exception {
    AtomicLong nextElement = new AtomicLong(1);
    History h = record("{la}", (jedis, random, process) -> {
      List<Object> invoke = new ArrayList<>();
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        long key = random.nextInt(4);
        invoke.add(random.nextBoolean() ? Txn.append(key, nextElement.getAndIncrement())
            : Txn.read(key));
      }
      boolean writes = invoke.stream().anyMatch(o -> ((List<?>) o).get(0).equals(Txn.APPEND));
      synchronized (history) {
        history.invoke(process, Txn.F, invoke, now());
      }
      try {
        Transaction multi = jedis.multi();
        for (Object o : invoke) {
          List<?> op = (List<?>) o;
          if (op.get(0).equals(Txn.READ)) {
            multi.lrange("{la}" + op.get(1), 0, -1);
          } else {
            multi.rpush("{la}" + op.get(1), String.valueOf(op.get(2)));
          }
        }
        List<Object> results = multi.exec();
        List<Object> completed = new ArrayList<>();
        for (int i = 0; i < invoke.size(); i++) {
          List<?> op = (List<?>) invoke.get(i);
          if (op.get(0).equals(Txn.READ)) {
            List<Long> observed = new ArrayList<>();
            for (Object e : (List<?>) results.get(i)) {
              observed.add(Long.parseLong(text(e)));
            }
            completed.add(Txn.read(op.get(1), observed));
          } else {
            completed.add(op);
          }
        }
        synchronized (history) {
          history.ok(process, Txn.F, completed, now());
        }
      } catch (JedisDataException | JedisConnectionException e) {
        failed(process, Txn.F, invoke, writes, e);
      }
    });
    assertTrue(h.operations().size() > 50, "only " + h.operations().size() + " transactions");
    ElleResult result = ElleChecker.checkListAppend(h, ConsistencyModel.STRICT_SERIALIZABLE);
    assertTrue(result.isValid(), result.toString());
  }

  @Test
  void registerOverRespUnderLeaderCrashesIsLinearizable() throws Exception {
    History h = record("{rg}", (jedis, random, process) -> {
      long key = random.nextInt(3);
      long value = random.nextInt(5);
      long expected = random.nextInt(5);
      String k = "{rg}" + key;
      int kind = random.nextInt(3);
      String f = kind == 0 ? Kv.GET : kind == 1 ? Kv.PUT : Kv.CAS;
      Object invokeValue = kind == 0 ? Kv.pair(key, null) : kind == 1 ? Kv.pair(key, value)
          : Kv.casValue(key, expected, value);
      synchronized (history) {
        history.invoke(process, f, invokeValue, now());
      }
      try {
        boolean applied = true;
        Object okValue = invokeValue;
        if (kind == 0) {
          String v = jedis.get(k);
          okValue = Kv.pair(key, v == null ? null : Long.parseLong(v));
        } else if (kind == 1) {
          jedis.set(k, String.valueOf(value));
        } else {
          // Redis's compare-and-set: WATCH, read, then a transaction that EXEC refuses (nil)
          // if the key changed since the WATCH.
          jedis.watch(k);
          if (!String.valueOf(expected).equals(jedis.get(k))) {
            jedis.unwatch();
            applied = false;
          } else {
            Transaction multi = jedis.multi();
            multi.set(k, String.valueOf(value));
            applied = multi.exec() != null;
          }
        }
        synchronized (history) {
          if (applied) {
            history.ok(process, f, okValue, now());
          } else {
            history.fail(process, f, okValue, now());
          }
        }
      } catch (JedisDataException | JedisConnectionException e) {
        failed(process, f, invokeValue, kind != 0, e);
      }
    });
    assertTrue(h.operations().size() > 100, "only " + h.operations().size() + " operations");
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(h);
    assertTrue(result.isValid(), result.toString());
  }

  /**
   * An error: TRYAGAIN (and EXECABORT) applied nothing; any other error of a write, or a lost
   * connection, may have applied it, so the operation stays open ("info") and its process is
   * retired.
   */
  private void failed(long process, String f, Object value, boolean writes, Exception e) {
    boolean nothingApplied = e instanceof JedisDataException
        && (e.getMessage().startsWith("TRYAGAIN") || e.getMessage().startsWith("EXECABORT"));
    synchronized (history) {
      if (writes && !nothingApplied) {
        history.info(process, f, value, now());
      } else {
        history.fail(process, f, value, now());
      }
    }
    throw new Reconnect(writes && !nothingApplied);
  }

  /** Thrown after an error: the client takes a fresh connection (and, if asked, process). */
  private static final class Reconnect extends RuntimeException {
    final boolean newProcess;

    Reconnect(boolean newProcess) {
      super(null, null, false, false);
      this.newProcess = newProcess;
    }
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : (String) o;
  }

  /** Runs {@code operation} from 3 clients while the group of {@code tag} loses its leader. */
  private History record(String tag, Operation operation) throws Exception {
    ConcurrentHashMap<Long, Integer> ports = new ConcurrentHashMap<>();
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      for (long id = 1; id <= 3; id++) {
        ports.put(id, Resp.serve(cluster.servers.get(id), "127.0.0.1:0",
            RespServer.Options.defaults()).getPort());
      }
      cluster.awaitLeaders();
      AtomicBoolean running = new AtomicBoolean(true);
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 3; c++) {
        int seed = c;
        Thread t = new Thread(() -> {
          Random random = new Random(seed);
          long process = processes.getAndIncrement();
          long node = 1 + seed;
          Jedis jedis = null;
          while (running.get()) {
            if (jedis == null) {
              Integer port = ports.get(node);
              node = node % 3 + 1;
              if (port == null) {
                continue;
              }
              jedis = new Jedis("127.0.0.1", port, 5_000);
            }
            try {
              operation.run(jedis, random, process);
            } catch (Reconnect e) {
              jedis.close(); // no MULTI or WATCH state left behind
              jedis = null;
              if (e.newProcess) {
                process = processes.getAndIncrement() + 100;
              }
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
          if (jedis != null) {
            jedis.close();
          }
        }, "resp-workload-" + c);
        clients.add(t);
        t.start();
      }
      long group = new Partitioner(TestCluster.GROUPS).groupOf(tag.getBytes(
          StandardCharsets.UTF_8));
      for (int round = 0; round < 2; round++) {
        Thread.sleep(1500);
        long victim = cluster.leaderOf(group);
        if (victim != 0) {
          ports.remove(victim);
          cluster.stop(victim); // closes its RESP server: its clients reconnect elsewhere
          Thread.sleep(1500);
          ports.put(victim, Resp.serve(cluster.restart(victim), "127.0.0.1:0",
              RespServer.Options.defaults()).getPort());
        }
      }
      Thread.sleep(1000);
      running.set(false);
      for (Thread t : clients) {
        t.join(30_000);
      }
    }
    synchronized (history) {
      return history.build();
    }
  }
}
