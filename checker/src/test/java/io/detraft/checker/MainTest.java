package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir
  Path dir;

  private String out;
  private String err;

  private int run(String... args) {
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(stdout, true, StandardCharsets.UTF_8),
        new PrintStream(stderr, true, StandardCharsets.UTF_8));
    out = stdout.toString(StandardCharsets.UTF_8);
    err = stderr.toString(StandardCharsets.UTF_8);
    return status;
  }

  /** Copies a corpus file into the temp dir, under {@code name}. */
  private String corpus(String file, String name) throws IOException {
    Path target = dir.resolve(name);
    try (InputStream in = MainTest.class.getResourceAsStream("/elle/" + file)) {
      Files.copy(in, target);
    }
    return target.toString();
  }

  private String corpus(String file) throws IOException {
    return corpus(file, file);
  }

  @Test
  void validInvalidAndAllowedByAWeakerModel() throws IOException {
    assertEquals(0, run("check", "--model", "list-append", corpus("la-valid-concurrent.edn")));
    assertTrue(out.startsWith("VALID under strict-serializable"), out);
    String file = corpus("la-g-single.edn");
    assertEquals(1, run("check", "--model", "list-append", file));
    assertTrue(out.startsWith("INVALID under strict-serializable"), out);
    assertTrue(out.contains("T1 read key :x = [] before T2 appended 1, so T1 rw-> T2"), out);
    assertEquals(0, run("check", "--model", "list-append", "--consistency", "read-committed",
        file));
    assertTrue(out.contains("G-single (1, allowed)"), out);
  }

  @Test
  void unknownWhenTheSearchBudgetRunsOut() throws IOException {
    String file = corpus("la-g-single-and-write-skew.edn");
    assertEquals(1, run("check", "--model", "list-append", "--consistency",
        "snapshot-isolation", file));
    assertEquals(2, run("check", "--model", "list-append", "--consistency",
        "snapshot-isolation", "--max-search-steps", "1", file));
    assertTrue(out.startsWith("UNKNOWN"), out);
    assertTrue(out.contains("ran out of its budget"), out);
  }

  @Test
  void unreadableInput() throws IOException {
    assertEquals(3, run("check", "--model", "list-append", dir.resolve("absent.edn").toString()));
    assertTrue(err.contains("no such file"), err);
    Path broken = dir.resolve("broken.edn");
    Files.writeString(broken, "{:type :invoke, :f :txn, :process 0, :value [");
    assertEquals(3, run("check", "--model", "list-append", broken.toString()));
    // A register history is not a list-append one: its :w is an unknown micro-op.
    assertEquals(3, run("check", "--model", "list-append", corpus("rw-valid.edn")));
    assertTrue(err.contains("op 0: micro-op 1: unknown function :w"), err);
    String records = corpus("la-jepsen-records.edn");
    assertEquals(3, run("check", "--model", "list-append", records));
    assertTrue(err.contains("op 1: :process must be an integer, got :nemesis"), err);
    assertEquals(0, run("check", "--model", "list-append", "--skip-nemesis", records));
  }

  @Test
  void usageErrors() {
    List<String[]> calls = new ArrayList<>();
    calls.add(new String[0]);
    calls.add(new String[] {"verify", "--model", "list-append", "h.edn"});
    calls.add(new String[] {"check", "h.edn"});
    calls.add(new String[] {"check", "--model", "bank", "h.edn"});
    calls.add(new String[] {"check", "--model", "list-append"});
    calls.add(new String[] {"check", "--model", "list-append", "--consistency", "acid", "h"});
    calls.add(new String[] {"check", "--model", "list-append", "--frobnicate", "h.edn"});
    calls.add(new String[] {"check", "--model", "list-append", "a.edn", "b.edn"});
    calls.add(new String[] {"check", "--model", "list-append", "--max-anomalies", "0", "h"});
    calls.add(new String[] {"check", "--model", "list-append", "--format", "xml", "h"});
    calls.add(new String[] {"check", "--model", "list-append", "--sequential-keys", "h"});
    calls.add(new String[] {"check", "--model", "kv-linearizable", "--consistency",
        "serializable", "h"});
    calls.add(new String[] {"check", "--model"});
    for (String[] call : calls) {
      assertEquals(64, run(call), String.join(" ", call));
      assertTrue(err.contains("usage: check"), err);
    }
    assertEquals(0, run("--help"));
    assertTrue(out.contains("exit status: 0 valid, 1 invalid, 2 unknown, 3 unreadable input, "
        + "64 usage error"), out);
  }

  @Test
  void jsonByExtensionOrByContent() throws IOException {
    String json = JsonHistory.print(ElleCorpusTest.load("la-g1c.edn"));
    Path named = dir.resolve("h.json");
    Files.writeString(named, json);
    assertEquals(1, run("check", "--model", "list-append", named.toString()));
    assertTrue(out.contains("G1c"), out);
    Path unnamed = dir.resolve("history");
    Files.writeString(unnamed, json);
    assertEquals(1, run("check", "--model", "list-append", unnamed.toString()));
    assertEquals(1, run("check", "--model", "list-append", "--format", "json",
        unnamed.toString()));
    assertEquals(3, run("check", "--model", "list-append", "--format", "edn",
        dir.resolve("h.json").toString()));
  }

  @Test
  void otherModels() throws IOException {
    assertEquals(0, run("check", "--model", "kv-linearizable", corpus("kv-valid.edn")));
    assertEquals(1, run("check", "--model", "kv-linearizable", corpus("kv-stale-read.edn")));
    assertTrue(out.startsWith("INVALID: key 1 is not linearizable"), out);
    Path jepsen = dir.resolve("jepsen-register.edn");
    Files.writeString(jepsen, """
        {:type :invoke, :f :write, :value [1 10], :process 0, :time 0}
        {:type :ok, :f :write, :value [1 10], :process 0, :time 1}
        {:type :invoke, :f :read, :value [1 nil], :process 1, :time 2}
        {:type :ok, :f :read, :value [1 10], :process 1, :time 3}
        """);
    assertEquals(0, run("check", "--model", "kv-linearizable", jepsen.toString()));
    String cyclic = corpus("rw-cyclic-versions.edn");
    assertEquals(0, run("check", "--model", "rw-register", cyclic));
    assertEquals(1, run("check", "--model", "rw-register", "--sequential-keys", cyclic));
    assertTrue(out.contains("cyclic-versions"), out);
    assertEquals(0, run("check", "--model", "rw-register", "--linearizable-keys",
        corpus("rw-valid.edn")));
  }
}
