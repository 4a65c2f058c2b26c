package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.EdnHistory;
import io.detraft.checker.History;
import io.detraft.checker.Kv;
import io.detraft.checker.OpType;
import io.detraft.checker.Txn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recorder's EDN (read back by the checker) and the recovery times, without a cluster. */
class JepsenHistoryTest {
  @TempDir Path dir;

  @Test
  void ednHoldsClientAndNemesisOpsInOrderAndTheCheckerReadsIt() throws Exception {
    JepsenHistory h = new JepsenHistory();
    long t = h.invoke(0, Kv.PUT, Kv.pair(1L, 3L));
    h.nemesis("start-kill", "node [2]");
    h.complete(OpType.OK, 0, Kv.PUT, Kv.pair(1L, 3L), t, 1, true);
    t = h.invoke(1, Txn.F, List.of(Txn.append(0L, 1L), Txn.read(0L)));
    h.complete(OpType.INFO, 1, Txn.F, List.of(Txn.append(0L, 1L), Txn.read(0L)), t, 2, true);
    h.nemesis("stop-kill", "node [2]");
    Path file = dir.resolve("history.edn");
    h.writeEdn(file);
    List<String> lines = Files.readAllLines(file);
    assertEquals(6, lines.size());
    assertTrue(lines.get(1).contains(":type :info, :f :start-kill, :value \"node [2]\","
        + " :process :nemesis"), lines.get(1));
    assertTrue(lines.get(3).contains(":value [[:append 0 1] [:r 0 nil]]"), lines.get(3));
    History clients = EdnHistory.read(file, true);
    assertEquals(4, clients.size());
    assertEquals(List.of(0L, 2L, 3L, 4L), clients.ops().stream().map(o -> o.index()).toList());

    h.writeEdn(dir.resolve("register.edn"), Set.of(Kv.GET, Kv.PUT, Kv.CAS));
    assertEquals(2, EdnHistory.read(dir.resolve("register.edn"), true).size());
    assertEquals(4, Files.readAllLines(dir.resolve("register.edn")).size()); // + 2 nemesis ops
  }

  @Test
  void recoveryIsTheTimeUntilEveryGroupAcknowledgedAWriteSentAfterTheHeal() {
    long s = 1_000_000_000L;
    List<JepsenNemesis.Period> periods = List.of(
        new JepsenNemesis.Period("kill", "node [1]", 1 * s, 3 * s),
        new JepsenNemesis.Period("snapshot", "node 2", 4 * s, 4 * s), // instant: no heal
        new JepsenNemesis.Period("pause", "node [2]", 5 * s, 6 * s));
    List<JepsenHistory.Sample> samples = List.of(
        new JepsenHistory.Sample(2 * s, 3 * s + 100_000_000, OpType.OK, 1, true), // sent before
        new JepsenHistory.Sample(3 * s + 10_000_000, 3 * s + 200_000_000, OpType.OK, 1, true),
        new JepsenHistory.Sample(3 * s + 10_000_000, 3 * s + 300_000_000, OpType.OK, 2, false),
        new JepsenHistory.Sample(3 * s + 10_000_000, 3 * s + 400_000_000, OpType.FAIL, 2, true),
        new JepsenHistory.Sample(3 * s + 20_000_000, 3 * s + 500_000_000, OpType.OK, 2, true),
        // After the pause's heal only group 1 writes before the next heal at 8 s.
        new JepsenHistory.Sample(6 * s + 10_000_000, 6 * s + 50_000_000, OpType.OK, 1, true),
        // After the final heal at 8 s, both groups within 80 ms.
        new JepsenHistory.Sample(8 * s, 8 * s + 80_000_000, OpType.OK, 1, true),
        new JepsenHistory.Sample(8 * s, 8 * s + 20_000_000, OpType.OK, 2, true));
    Map<String, Object> r = JepsenCheck.recovery(periods, 8 * s, 9 * s, samples, Set.of(1L, 2L));
    assertEquals(3L, r.get("heals"));
    assertEquals(2L, r.get("measured"));
    assertEquals(1L, r.get("unrecovered"));
    assertEquals(80L, r.get("p50-ms"));
    assertEquals(500L, r.get("max-ms"));
  }
}
