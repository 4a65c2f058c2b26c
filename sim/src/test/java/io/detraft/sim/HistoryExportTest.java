package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.detraft.checker.EdnHistory;
import io.detraft.checker.History;
import io.detraft.checker.OpType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sim --seed N --history FILE}: the histories it writes are Jepsen EDN that {@code
 * detraft check} reads, and checking them gives the verdict the run reached, valid for a
 * correct host, invalid where a planted bug made the run fail its history check.
 */
class HistoryExportTest {
  private record Run(int status, String out, String err) {}

  private static Run sim(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  /** {@code detraft check}'s exit status on {@code file}. */
  private static int check(String model, Path file) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int status = io.detraft.checker.Main.run(new String[] {"check", "--model", model,
        file.toString()}, print, print);
    assertTrue(status <= 2, () -> file + ": " + out.toString(StandardCharsets.UTF_8));
    return status;
  }

  /** The exit status {@code detraft check} gives for the simulator's verdict. */
  private static int status(String verdict) {
    return switch (verdict) {
      case "VALID" -> 0;
      case "INVALID" -> 1;
      default -> 2;
    };
  }

  /** Both files check as the run's own checkers found (the "checker" of its stats). */
  private static void assertChecksAsTheRunDid(SimResult result, Path txnFile, Path kvFile) {
    // "VALID (12 steps), list-append VALID (40 txns)"; the second part is missing when the
    // key/value history already failed.
    String checkers = result.stats().checker();
    assertEquals(status(checkers.split(" ")[0]), check("kv-linearizable", kvFile), checkers);
    int listAppend = checkers.indexOf("list-append ");
    if (listAppend >= 0) {
      String verdict = checkers.substring(listAppend + 12).split(" ")[0];
      assertEquals(status(verdict), check("list-append", txnFile), checkers);
    }
  }

  @Test
  void aSeedsHistoriesCheckAsTheRunFoundThem(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("seed-7.edn");
    // The README's command.
    Run run = sim("--seed", "7", "--history", file.toString());
    assertEquals(0, run.status(), run.out() + run.err());
    assertTrue(run.out().contains("history: " + file.toAbsolutePath()), run.out());
    Path kvFile = dir.resolve("seed-7-kv.edn");
    assertTrue(run.out().contains("history: " + kvFile.toAbsolutePath()), run.out());
    assertEquals(0, check("list-append", file));
    assertEquals(0, check("kv-linearizable", kvFile));

    // The same run again (a seed replays exactly): the files hold its histories, in Jepsen's
    // shape, every operation completed.
    Simulation simulation = new Simulation(Main.optionsFor(7, -1));
    SimResult result = simulation.run();
    assertChecksAsTheRunDid(result, file, kvFile);
    List<History> recorded = simulation.clientHistories();
    History txns = EdnHistory.read(file, false);
    assertEquals(HistoryExport.jepsenShaped(recorded.get(1), false), txns);
    History kv = EdnHistory.read(kvFile, false);
    assertEquals(HistoryExport.jepsenShaped(recorded.get(0), true), kv);
    assertTrue(txns.size() > 20 && kv.size() > 20, txns.size() + " " + kv.size());
    assertTrue(kv.operations().stream().allMatch(o -> o.completion() != null));
    assertTrue(kv.ops().stream().anyMatch(o -> o.f().equals("read")));
    assertTrue(kv.ops().stream().noneMatch(o -> o.f().equals("get")));
    String text = Files.readString(file);
    assertTrue(text.startsWith("{:index 0, :time "), text.substring(0, 80));
    assertTrue(text.contains(":f :txn, :value [["), text.substring(0, 200));
  }

  /** Planted bugs make a run fail its history checks; the exported files fail them too. */
  @Test
  void historiesOfRunsThatFailedTheirCheckCheckInvalid(@TempDir Path dir) throws Exception {
    exportFirstFailure(dir, "strict-serializability", PlantedFaults.staleTxnReads(),
        CanaryTest.MAX_STALE_TXN_SEEDS);
    // Without the read oracle, which would stop the run at the first stale read served.
    exportFirstFailure(dir, "linearizability",
        PlantedFaults.staleReads().withPromiseOracles(false),
        CanaryTest.MAX_STALE_READ_SEEDS);
  }

  private static void exportFirstFailure(Path dir, String oracle, SimHooks hooks, int maxSeeds)
      throws Exception {
    for (long seed = 1; seed <= maxSeeds; seed++) {
      Simulation simulation = new Simulation(PlantedFaults.partitionHeavy(seed,
          CanaryTest.SAFETY_SECONDS), hooks);
      SimResult result = simulation.run();
      // The real-time read oracle catches many stale reads before they reach the history;
      // this test wants a run that only the end-of-run check failed.
      if (!result.failed() || !result.oracle().equals(oracle)) {
        continue;
      }
      Path file = dir.resolve(oracle + ".edn");
      List<Path> files = HistoryExport.write(simulation, file);
      assertEquals(List.of(file, dir.resolve(oracle + "-kv.edn")), files);
      assertChecksAsTheRunDid(result, files.get(0), files.get(1));
      int invalid = check(oracle.equals("linearizability") ? "kv-linearizable" : "list-append",
          files.get(oracle.equals("linearizability") ? 1 : 0));
      assertEquals(1, invalid, result::report);
      return;
    }
    fail("no seed up to " + maxSeeds + " failed " + oracle);
  }

  @Test
  void historyNeedsOneSeedAndAnExistingDirectory(@TempDir Path dir) {
    Run sweep = sim("--seeds", "1..2", "--history", dir.resolve("h.edn").toString());
    assertEquals(2, sweep.status());
    assertTrue(sweep.err().contains("--history needs one seed"), sweep.err());
    Run missing = sim("--seed", "1", "--history", dir.resolve("no/such/h.edn").toString());
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("no such directory"), missing.err());
  }

  @Test
  void kvFileSitsBesideTheTransactions() {
    assertEquals(Path.of("d/h-kv.edn"), HistoryExport.kvFile(Path.of("d/h.edn")));
    assertEquals(Path.of("h-kv"), HistoryExport.kvFile(Path.of("h")));
    assertEquals(Path.of(".h-kv"), HistoryExport.kvFile(Path.of(".h")));
  }

  /** An operation in flight at the end gets an :info completion, at the last time seen. */
  @Test
  void openOperationsCompleteAsInfo() {
    History open = new io.detraft.checker.HistoryBuilder()
        .invoke(0, "get", io.detraft.checker.Kv.pair(1L, null), 5)
        .invoke(1, "put", io.detraft.checker.Kv.pair(1L, 2L), 6)
        .ok(1, "put", io.detraft.checker.Kv.pair(1L, 2L), 9)
        .build();
    History shaped = HistoryExport.jepsenShaped(open, true);
    assertEquals(4, shaped.size());
    assertEquals(OpType.INFO, shaped.ops().get(3).type());
    assertEquals("read", shaped.ops().get(3).f());
    assertEquals(9, shaped.ops().get(3).time());
    assertEquals(3, shaped.ops().get(3).index());
    assertEquals("write", shaped.ops().get(1).f());
  }
}
