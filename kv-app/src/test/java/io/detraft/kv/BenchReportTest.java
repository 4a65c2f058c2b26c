package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code detraft bench --report DIR}: charts, tables and page; a bad directory is only said. */
@Timeout(120)
class BenchReportTest {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  /** Runs the command with System.err captured too (the bench reports a bad directory there). */
  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedErr = System.err;
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    System.setErr(errStream);
    try {
      int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), errStream);
      return new Run(status, out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(savedErr);
    }
  }

  @Test
  void aBenchWritesChartsAndItsTable() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("cluster"), 1)) {
      cluster.awaitLeaders();
      String endpoints = String.join(",", cluster.endpoints());
      Path reports = dir.resolve("bench");
      Run bench = run("bench", "--clients", "4", "--duration", "2", "--warmup", "0", "--keys",
          "50", "--read-ratio", "0.5", "--endpoints", endpoints, "--report",
          reports.toString());
      assertEquals(Main.OK, bench.status(), bench.out() + bench.err());
      assertTrue(bench.out().contains("report: " + reports.resolve("index.html")
          .toAbsolutePath()), bench.out());
      for (String chart : List.of("throughput.png", "latency.png")) {
        byte[] bytes = Files.readAllBytes(reports.resolve(chart));
        assertArrayEquals(PNG, Arrays.copyOf(bytes, PNG.length), chart + " is a PNG");
        assertTrue(bytes.length > 5_000, chart + " has a chart in it: " + bytes.length);
      }
      String table = Files.readString(reports.resolve("bench.txt"));
      assertTrue(table.contains("result: ") && table.contains("latency: p50"), table);
      List<String> csv = Files.readAllLines(reports.resolve("bench.csv"));
      assertEquals("second,ops_per_second,p50_ms,p99_ms,ops", csv.get(0));
      assertEquals(1 + 8, csv.size(), "a 2 s run has eight quarter-second intervals: " + csv);
      long ops = csv.stream().skip(1).mapToLong(l -> Long.parseLong(l.split(",")[4])).sum();
      assertTrue(bench.out().contains("(" + String.format("%,d", ops) + " ops in"),
          "the intervals hold every counted operation: " + ops + " vs " + bench.out());
      String page = Files.readString(reports.resolve("index.html"));
      assertTrue(page.contains("src=\"throughput.png\"") && page.contains("src=\"latency.png\""));

      // A report directory that is a file: said, and the bench's result is as ever.
      Path file = Files.writeString(dir.resolve("a-file"), "x");
      Run onFile = run("bench", "--clients", "1", "--duration", "1", "--warmup", "0", "--keys",
          "5", "--endpoints", endpoints, "--report", file.toString());
      assertEquals(Main.OK, onFile.status(), onFile.err());
      assertTrue(onFile.out().contains("result: "), onFile.out());
      assertTrue(onFile.err().contains("detraft: no report: report directory " + file
          + " is a file, not a directory"), onFile.err());
    }
  }
}
