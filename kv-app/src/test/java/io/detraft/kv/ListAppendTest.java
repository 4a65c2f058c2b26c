package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.HistoryBuilder;
import io.detraft.checker.Txn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jepsen's list-append workload on a real cluster: transactions of appends and reads over keys
 * of one group (a hash tag), while the group's leader is stopped and restarted; Elle's checks
 * must find the history strict-serializable.
 */
@Timeout(120)
class ListAppendTest {
  @TempDir Path dir;

  @Test
  void listAppendUnderLeaderCrashesIsStrictSerializable() throws Exception {
    HistoryBuilder history = new HistoryBuilder();
    long t0 = System.nanoTime();
    AtomicLong nextElement = new AtomicLong(1);
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      cluster.awaitLeaders();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong processes = new AtomicLong();
      List<Thread> clients = new ArrayList<>();
      KvClient.Options options = KvClient.Options.defaults()
          .withOperationTimeout(Duration.ofSeconds(3));
      for (int c = 0; c < 3; c++) {
        int seed = c;
        Thread t = new Thread(() -> {
          Random random = new Random(seed);
          long process = processes.getAndIncrement();
          try (KvClient client = KvClient.connect(cluster.endpoints(), options)) {
            while (running.get()) {
              List<KvCommand.TxnOp> ops = new ArrayList<>();
              List<Object> invoke = new ArrayList<>();
              boolean writes = false;
              for (int i = 1 + random.nextInt(3); i > 0; i--) {
                long key = random.nextInt(4);
                byte[] k = ("{la}" + key).getBytes(StandardCharsets.UTF_8);
                if (random.nextBoolean()) {
                  long element = nextElement.getAndIncrement();
                  ops.add(KvCommand.TxnOp.append(k, Long.toString(element)
                      .getBytes(StandardCharsets.UTF_8)));
                  invoke.add(Txn.append(key, element));
                  writes = true;
                } else {
                  ops.add(KvCommand.TxnOp.read(k));
                  invoke.add(Txn.read(key));
                }
              }
              synchronized (history) {
                history.invoke(process, Txn.F, invoke, System.nanoTime() - t0);
              }
              try {
                String answer = client.transaction(ops);
                List<?> results = (List<?>) Json.parseObject(answer).get("results");
                List<Object> completed = new ArrayList<>();
                for (int i = 0; i < invoke.size(); i++) {
                  List<?> op = (List<?>) invoke.get(i);
                  if (op.get(0).equals(Txn.READ)) {
                    Object value = ((Map<?, ?>) results.get(i)).get("value");
                    List<Long> observed = new ArrayList<>();
                    if (value != null) {
                      for (Object e : (List<?>) value) {
                        observed.add(Long.parseLong((String) e));
                      }
                    }
                    completed.add(Txn.read(op.get(1), observed));
                  } else {
                    completed.add(op);
                  }
                }
                synchronized (history) {
                  history.ok(process, Txn.F, completed, System.nanoTime() - t0);
                }
              } catch (KvClientException e) {
                synchronized (history) {
                  if (e.outcomeUnknown() && writes) {
                    history.info(process, Txn.F, invoke, System.nanoTime() - t0);
                    process = processes.getAndIncrement() + 100;
                  } else {
                    history.fail(process, Txn.F, invoke, System.nanoTime() - t0);
                  }
                }
              } catch (Json.ParseException e) {
                throw new AssertionError(e);
              }
            }
          }
        }, "list-append-" + c);
        clients.add(t);
        t.start();
      }
      long group = new Partitioner(TestCluster.GROUPS).groupOf("{la}0".getBytes(
          StandardCharsets.UTF_8));
      for (int round = 0; round < 2; round++) {
        Thread.sleep(1500);
        long victim = cluster.leaderOf(group);
        if (victim != 0) {
          cluster.stop(victim);
          Thread.sleep(1500);
          cluster.restart(victim);
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
