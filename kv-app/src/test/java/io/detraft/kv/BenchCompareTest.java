package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smoke test of {@code detraft bench --against etcd}: both clusters and the no-op ceiling
 * start, all answer the same load, the table has them all, and nothing is left running. It
 * asserts no speed (benchmarks are not tests); it is skipped, saying why, where etcd is not
 * installed.
 */
@Timeout(300)
class BenchCompareTest {
  @TempDir Path dir;

  @Test
  void bothSystemsAnswerTheSameLoadAndTheTableHasBoth() throws Exception {
    Assumptions.assumeTrue(etcdInstalled(), "etcd is not installed (Debian: apt-get install "
        + "etcd-server); the side-by-side bench is not tested here");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status = Main.run(new String[] {"bench", "--against", "etcd", "--rounds", "1",
        "--clients", "8", "--duration", "1", "--warmup", "1", "--keys", "200", "--groups",
        "2,1", "--dir", dir.toString()}, out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(Main.OK, status, text);
    for (String system : new String[] {"detraft/2", "detraft/1", "etcd", "no-op"}) {
      for (String load : new String[] {"write", "read"}) {
        Matcher m = Pattern.compile("round 1  " + Pattern.quote(system) + " +" + load
            + " +8 clients\\s+([\\d,]+) ops/s.* (\\d+) errors").matcher(text);
        assertTrue(m.find(), system + " " + load + ":\n" + text);
        assertTrue(Long.parseLong(m.group(1).replace(",", "")) > 0, text);
        assertEquals("0", m.group(2), text);
      }
      assertTrue(text.contains("| writes | 8 | " + system + " |")
          && text.contains("| linearizable reads | 8 | " + system + " |"), text);
    }
    // Every server stopped: no process of ours runs on the data directory any more.
    assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.isAlive() && p.info()
        .commandLine().map(c -> c.contains(dir.toString())).orElse(false)),
        "a server outlived the bench");
    assertTrue(Files.exists(dir.resolve("etcd-1.log")) && Files.exists(dir.resolve(
        "detraft-2-1.log")), "each server's log is kept in --dir");
  }

  @Test
  void aServerThatDiesWhileStartingFailsTheBenchAtOnceWithTheEndOfItsLog() throws Exception {
    Path etcd = dir.resolve("fake-etcd");
    Files.writeString(etcd, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'etcd Version: "
        + "fake'; exit 0; fi\necho 'fake etcd: cannot start, for this test'\nexit 3\n");
    assertTrue(etcd.toFile().setExecutable(true));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long start = System.nanoTime();
    int status = Main.run(new String[] {"bench", "--against", "etcd", "--etcd-binary",
        etcd.toString(), "--groups", "1", "--dir", dir.resolve("run").toString()}, out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(Main.FAILED, status, text);
    assertTrue(text.contains("etcd-1.log: the server exited (status 3) while starting; its log "
        + "ends: fake etcd: cannot start, for this test"), text);
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(50),
        "not the 60 s wait for a leader:\n" + text);
    assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.isAlive() && p.info()
        .commandLine().map(c -> c.contains(dir.toString())).orElse(false)),
        "detraft's servers stopped with the failed bench");
  }

  @Test
  void anUnknownSystemIsAUsageError() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status = Main.run(new String[] {"bench", "--against", "consul"}, out, out);
    assertEquals(Main.USAGE, status);
    assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("--against: only etcd is known"));
  }

  private static boolean etcdInstalled() {
    try {
      Process p = new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
