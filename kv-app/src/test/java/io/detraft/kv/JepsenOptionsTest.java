package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code detraft test}'s flags: bad input is refused with a clear message and exit 64. */
class JepsenOptionsTest {
  @TempDir Path dir;

  private record Result(int status, String out, String err) {}

  private static Result detraft(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> all = new ArrayList<>(List.of("test"));
    all.addAll(List.of(args));
    int status = Main.run(all.toArray(String[]::new), new PrintStream(out, true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private void refused(String message, String... args) {
    Result r = detraft(args);
    assertEquals(64, r.status(), r.err());
    assertTrue(r.err().contains(message), r.err());
    assertTrue(r.out().isEmpty(), "nothing ran: " + r.out());
  }

  @Test
  void unknownNemesisIsRefused() {
    refused("--nemesis: unknown fault crash (known: kill, pause, partition",
        "--nemesis", "kill,crash", "--dir", dir.resolve("a").toString());
  }

  @Test
  void unknownWorkloadIsRefused() {
    refused("--workload: unknown workload bank", "--workload", "bank", "--dir",
        dir.resolve("a").toString());
  }

  @Test
  void fewerThanThreeNodesAreRefused() {
    refused("--nodes must be at least 3", "--nodes", "2", "--dir", dir.resolve("a").toString());
    refused("--nodes must be 3 to 7", "--nodes", "9", "--dir", dir.resolve("a").toString());
  }

  @Test
  void aRunDirectoryThatIsNotEmptyIsRefused() throws Exception {
    Files.writeString(dir.resolve("history.edn"), "{}\n");
    refused("exists and is not empty", "--dir", dir.toString());
    Files.writeString(dir.resolve("file"), "x");
    refused("is a file", "--dir", dir.resolve("file").toString());
  }

  @Test
  void otherBadValuesAreRefused() {
    String d = dir.resolve("a").toString();
    refused("--time-limit must be 10 to 86400", "--time-limit", "5", "--dir", d);
    refused("--time-limit is not a number", "--time-limit", "soon", "--dir", d);
    refused("unknown flag --color", "--color", "--dir", d);
    refused("--plant-bug: unknown bug", "--plant-bug", "lost-writes", "--dir", d);
    refused("unexpected argument extra", "extra", "--dir", d);
    refused("--net: unknown mode bridges (known: auto, namespaces, relays)", "--net", "bridges",
        "--dir", d);
  }

  @Test
  void goodFlagsParse() {
    JepsenOptions o = JepsenOptions.parse(new String[] {"--nodes", "5", "--time-limit", "45s",
        "--nemesis", "partition,kill", "--workload", "list-append", "--seed", "9", "--dir",
        dir.toString()}); // an empty directory is fine
    assertEquals(5, o.nodes());
    assertEquals(45, o.timeLimitSeconds());
    assertEquals(List.of("partition", "kill"), o.nemeses());
    assertTrue(o.listAppend() && !o.register());
    assertEquals(10, o.concurrency());
    assertEquals("auto", o.net());
    assertEquals("relays", JepsenOptions.parse(new String[] {"--net", "relays", "--dir",
        dir.toString()}).net());
    assertTrue(JepsenOptions.DEFAULT_NEMESES.contains("member"));
    assertEquals(List.of(), JepsenOptions.parse(new String[] {"--nemesis", "none", "--dir",
        dir.toString()}).nemeses());
    assertEquals(JepsenOptions.NEMESES, JepsenOptions.parse(new String[] {"--nemesis", "all",
        "--dir", dir.toString()}).nemeses());
  }

  @Test
  void helpPrintsTheFlagsAndTheFaults() {
    Result r = detraft("--help");
    assertEquals(0, r.status());
    assertTrue(r.out().contains("--nemesis F,...") && r.out().contains("one-way"), r.out());
    assertTrue(r.out().contains("member     remove a node") && r.out().contains("--net M"),
        r.out());
    Result top = new Result(Main.run(new String[] {"--help"}, new PrintStream(
        new ByteArrayOutputStream()), System.err), "", "");
    assertEquals(0, top.status());
  }
}
