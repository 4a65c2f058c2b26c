package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
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
 * Jepsen's list-append workload over RESP with Jedis: MULTI, RPUSH and LRANGE, EXEC on keys of
 * one hash tag, clients on every node (followers hand the transactions to the leader), while
 * the group's leader is stopped and restarted; Elle's checks must find the history
 * strict-serializable.
 */
@Timeout(150)
class RespListAppendTest {
  @TempDir Path dir;

  @Test
  void listAppendOverRespUnderLeaderCrashesIsStrictSerializable() throws Exception {
    HistoryBuilder history = new HistoryBuilder();
    long t0 = System.nanoTime();
    AtomicLong nextElement = new AtomicLong(1);
    ConcurrentHashMap<Long, Integer> ports = new ConcurrentHashMap<>();
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      for (long id = 1; id <= 3; id++) {
        ports.put(id, Resp.serve(cluster.servers.get(id), "127.0.0.1:0",
            RespServer.Options.defaults()).getPort());
      }
      cluster.awaitLeaders();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong processes = new AtomicLong();
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
            List<Object> invoke = new ArrayList<>();
            boolean writes = false;
            for (int i = 1 + random.nextInt(3); i > 0; i--) {
              long key = random.nextInt(4);
              if (random.nextBoolean()) {
                invoke.add(Txn.append(key, nextElement.getAndIncrement()));
                writes = true;
              } else {
                invoke.add(Txn.read(key));
              }
            }
            synchronized (history) {
              history.invoke(process, Txn.F, invoke, System.nanoTime() - t0);
            }
            try {
              Transaction multi = jedis.multi();
              for (Object o : invoke) {
                List<?> op = (List<?>) o;
                String key = "{la}" + op.get(1);
                if (op.get(0).equals(Txn.READ)) {
                  multi.lrange(key, 0, -1);
                } else {
                  multi.rpush(key, String.valueOf(op.get(2)));
                }
              }
              List<Object> results = multi.exec();
              List<Object> completed = new ArrayList<>();
              for (int i = 0; i < invoke.size(); i++) {
                List<?> op = (List<?>) invoke.get(i);
                if (op.get(0).equals(Txn.READ)) {
                  List<Long> observed = new ArrayList<>();
                  for (Object e : (List<?>) results.get(i)) {
                    observed.add(Long.parseLong(e instanceof byte[] b
                        ? new String(b, StandardCharsets.UTF_8) : (String) e));
                  }
                  completed.add(Txn.read(op.get(1), observed));
                } else {
                  completed.add(op);
                }
              }
              synchronized (history) {
                history.ok(process, Txn.F, completed, System.nanoTime() - t0);
              }
            } catch (JedisDataException e) {
              // TRYAGAIN: nothing applied; ERR outcome_unknown / timeout: it may apply.
              boolean unknown = !e.getMessage().startsWith("TRYAGAIN")
                  && !e.getMessage().startsWith("EXECABORT");
              synchronized (history) {
                if (unknown && writes) {
                  history.info(process, Txn.F, invoke, System.nanoTime() - t0);
                  process = processes.getAndIncrement() + 100;
                } else {
                  history.fail(process, Txn.F, invoke, System.nanoTime() - t0);
                }
              }
              jedis.close(); // a fresh connection: no transaction state left behind
              jedis = null;
            } catch (JedisConnectionException e) {
              synchronized (history) {
                if (writes) {
                  history.info(process, Txn.F, invoke, System.nanoTime() - t0);
                  process = processes.getAndIncrement() + 100;
                } else {
                  history.fail(process, Txn.F, invoke, System.nanoTime() - t0);
                }
              }
              jedis.close();
              jedis = null;
            }
          }
          if (jedis != null) {
            jedis.close();
          }
        }, "resp-list-append-" + c);
        clients.add(t);
        t.start();
      }
      long group = new Partitioner(TestCluster.GROUPS).groupOf("{la}0".getBytes(
          StandardCharsets.UTF_8));
      for (int round = 0; round < 2; round++) {
        Thread.sleep(1500);
        long victim = cluster.leaderOf(group);
        if (victim != 0) {
          ports.remove(victim);
          cluster.stop(victim); // closes its RESP server too: its clients reconnect elsewhere
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
    History h = history.build();
    assertTrue(h.operations().size() > 50, "only " + h.operations().size() + " transactions");
    ElleResult result = ElleChecker.checkListAppend(h, ConsistencyModel.STRICT_SERIALIZABLE);
    assertTrue(result.isValid(), result.toString());
  }
}
