package io.detraft.checker.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.EdnHistory;
import io.detraft.checker.History;
import io.detraft.checker.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check ... --report DIR}: the page, and a report directory that cannot be used. */
class CheckReportTest {
  /** G1c: each transaction saw the other's append. */
  static final String G1C = String.join("\n",
      "{:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append :x 1] [:r :y nil]]}",
      "{:index 1, :time 1, :type :invoke, :process 1, :f :txn, :value [[:append :y 1] [:r :x nil]]}",
      "{:index 2, :time 2, :type :ok, :process 0, :f :txn, :value [[:append :x 1] [:r :y [1]]]}",
      "{:index 3, :time 3, :type :ok, :process 1, :f :txn, :value [[:append :y 1] [:r :x [1]]]}",
      "");
  static final String STALE_READ = String.join("\n",
      "{:index 0, :time 0, :type :invoke, :process 0, :f :put, :value [1 10]}",
      "{:index 1, :time 1, :type :ok, :process 0, :f :put, :value [1 10]}",
      "{:index 2, :time 2, :type :invoke, :process 1, :f :get, :value [1 nil]}",
      "{:index 3, :time 3, :type :ok, :process 1, :f :get, :value [1 nil]}",
      "");

  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  private static Run check(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anInvalidHistoryGetsAPageWithItsCycleAndTimeline() throws Exception {
    Path history = Files.writeString(dir.resolve("history.edn"), G1C);
    Path reports = dir.resolve("reports");
    Run run = check("check", "--model", "list-append", "--consistency", "strict-serializable",
        history.toString(), "--report", reports.toString());
    assertEquals(1, run.status(), run.err());
    Path page = reports.resolve("history.html");
    assertTrue(run.out().contains("report: " + page.toAbsolutePath()), run.out());
    String html = Files.readString(page);
    assertTrue(html.contains("<span id=\"verdict\" class=\"badge INVALID\">INVALID</span>"));
    assertTrue(html.contains("G1c"), html);
    assertTrue(html.contains("<svg class=\"cycle\""), html);
    // Both wr edges, labelled with the key and the value read.
    assertTrue(html.contains("T1 <b>-wr :x 1-&gt;</b> T2 <b>-wr :y 1-&gt;</b> T1"), html);
    assertTrue(html.contains("<svg id=\"timeline\""), html);
    assertTrue(html.contains("process 0") && html.contains("process 1"), html);
    assertFalse(html.contains("<script"), "the checker page needs no script");
    assertFalse(html.contains("http://") && html.replace("http://www.w3.org/", "")
        .contains("http://"), "no network reference");
  }

  @Test
  void aValidHistoryAndALinearizabilityCheckGetPagesToo() throws Exception {
    Path valid = Files.writeString(dir.resolve("ok.edn"), G1C.replace("[:r :y [1]]",
        "[:r :y []]"));
    Run ok = check("check", "--model", "list-append", valid.toString(), "--report",
        dir.toString());
    assertEquals(0, ok.status(), ok.out());
    assertTrue(Files.readString(dir.resolve("ok.html")).contains("badge VALID"));

    Path stale = Files.writeString(dir.resolve("stale.edn"), STALE_READ);
    Run kv = check("check", "--model", "kv-linearizable", stale.toString(), "--report",
        dir.toString());
    assertEquals(1, kv.status(), kv.out());
    String html = Files.readString(dir.resolve("stale.html"));
    assertTrue(html.contains("badge INVALID") && html.contains("not linearizable"), html);
    assertTrue(html.contains(">blocked</text>"), "the operation that cannot linearize: " + html);
  }

  @Test
  void anUnusableReportDirectoryIsSaidAndTheVerdictStands() throws Exception {
    Path history = Files.writeString(dir.resolve("history.edn"), G1C);
    Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
    Run onFile = check("check", "--model", "list-append", history.toString(), "--report",
        file.toString());
    assertEquals(1, onFile.status(), "the verdict, not a report error: " + onFile.err());
    assertTrue(onFile.out().startsWith("INVALID"), onFile.out());
    assertTrue(onFile.err().contains("check: no report: report directory " + file
        + " is a file, not a directory"), onFile.err());

    Run underFile = check("check", "--model", "list-append", history.toString(), "--report",
        file.resolve("sub").toString());
    assertEquals(1, underFile.status());
    assertTrue(underFile.err().contains("cannot create report directory"), underFile.err());

    // Not writable: /proc/self is a directory that no one, root included, may write in.
    if (Files.isDirectory(Path.of("/proc/self"))) {
      Run readOnly = check("check", "--model", "list-append", history.toString(), "--report",
          "/proc/self");
      assertEquals(1, readOnly.status());
      assertTrue(readOnly.err().contains("report directory /proc/self is not writable"),
          readOnly.err());
    }
    Run missingValue = check("check", "--model", "list-append", history.toString(), "--report");
    assertEquals(64, missingValue.status(), missingValue.err());
  }

  @Test
  void withGraphvizDotLaysTheCycleOut() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(CycleGraph.dotAvailable(),
        "Graphviz's dot is not installed: its layout is not tested here (apt-get install "
            + "graphviz); the page uses the built-in layout instead");
    History history = EdnHistory.read(new StringReader(G1C), false);
    ElleResult result = ElleChecker.checkListAppend(history,
        io.detraft.checker.ConsistencyModel.STRICT_SERIALIZABLE);
    String svg = CycleGraph.graphviz(result.anomalies().get(0));
    assertTrue(svg != null && svg.startsWith("<svg class=\"cycle\""), String.valueOf(svg));
    assertTrue(svg.contains(">wr :x 1</text>") && svg.contains(">wr :y 1</text>"), svg);
    assertTrue(svg.contains(">T1</text>") && svg.contains(">T2</text>"), svg);
  }

  @Test
  void withoutGraphvizTheCycleIsLaidOutHere() throws Exception {
    History history = EdnHistory.read(new StringReader(G1C), false);
    ElleResult result = ElleChecker.checkListAppend(history,
        io.detraft.checker.ConsistencyModel.STRICT_SERIALIZABLE);
    String svg = CycleGraph.circle(result.anomalies().get(0));
    assertTrue(svg.startsWith("<svg class=\"cycle\""), svg);
    assertEquals(2, svg.split("class=\"txn\"", -1).length - 1, svg);
    assertEquals(2, svg.split("class=\"edge\"", -1).length - 1, svg);
    assertTrue(svg.contains(">wr :x 1</text>") && svg.contains(">wr :y 1</text>"), svg);
  }
}
