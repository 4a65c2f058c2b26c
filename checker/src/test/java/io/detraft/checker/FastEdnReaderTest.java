package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.checker.bench.KvGenerator;
import io.detraft.checker.bench.ListAppendGenerator;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast EDN reader reads what Clojure's reader reads, and gives up (so that Clojure reads
 * it) on everything else: both paths must agree on every text, history or error.
 */
class FastEdnReaderTest {

  /** Both paths read {@code text} to the same history, or both reject it at the same op. */
  private static void assertReadAlike(String text, boolean skip) {
    Object fast = outcome(() -> EdnHistory.parse(text, skip));
    Object clojure = outcome(() -> EdnHistory.readWithClojure(new StringReader(text), skip));
    assertEquals(clojure, fast, text.length() > 300 ? text.substring(0, 300) : text);
  }

  /** A history, or for a rejection the op it names (syntax errors: -1, say alike). */
  private static Object outcome(java.util.function.Supplier<History> read) {
    try {
      return read.get();
    } catch (HistoryFormatException e) {
      return e.getMessage().contains("not readable EDN") ? "unreadable"
          : "rejected at op " + e.opIndex() + ": " + e.getMessage();
    }
  }

  private static List<Path> goldenFiles() throws Exception {
    Path dir = Path.of(FastEdnReaderTest.class.getResource("/elle").toURI());
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".edn")).sorted().toList();
    }
  }

  @Test
  void goldenFilesReadAlikeAndFast() throws Exception {
    List<Path> files = goldenFiles();
    assertTrue(files.size() > 30, files.toString());
    for (Path file : files) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      assertReadAlike(text, false);
      assertReadAlike(text, true);
      if (!text.contains("#{")) {
        // Sets (a nemesis's) are the one thing in these files the fast reader leaves to Clojure.
        assertDoesNotThrow(() -> FastEdnReader.readAll(text.getBytes(StandardCharsets.UTF_8)), file.toString());
      }
    }
  }

  @Test
  void generatedHistoriesReadAlikeAndFast() {
    List<History> histories = new ArrayList<>();
    histories.add(EdnHistoryTest.everyKindOfValue());
    for (long seed = 1; seed <= 3; seed++) {
      histories.add(ListAppendGenerator.generate(seed, ListAppendGenerator.Options.benchmark(300)));
      histories.add(ListAppendGenerator.generate(seed, new ListAppendGenerator.Options(200, 5,
          10, 20, 6, 10, 10, ListAppendGenerator.Mode.SERIAL, true)));
      histories.add(KvGenerator.generate(seed, 300, 10, 5, 5));
      histories.add(RegisterHistories.strict(new SplittableRandom(seed), 100, 5, 4));
    }
    for (History history : histories) {
      String text = EdnHistory.print(history);
      assertDoesNotThrow(() -> FastEdnReader.readAll(text.getBytes(StandardCharsets.UTF_8)));
      assertEquals(history, EdnHistory.parse(text));
      assertReadAlike(text, false);
    }
  }

  @Test
  void whatTheFastReaderLeavesToClojureReadsAlike() throws Exception {
    String op = "{:index 0, :time 1, :type :invoke, :process 0, :f :txn, :value %s}";
    List<String> values = List.of("1.5", "-0.5", "1e3", "1/2", "1N", "010", "0x1F", "-0",
        "+7", "123456789012345678", "1234567890123456789", "12345678901234567890", "#{1 2}",
        "#{1 1}", "\\c", "sym", "nil", "true", "false", "nilly", "truex", "[1 #_ 2 3]",
        "\"a\\u0041b\"", "\"tab\\tquote\\\"\"", "\"\\q\"", ":a/b", ":a/b/c", "::a", ":a:",
        ":1", ":-", ":a.b", "#inst \"2020-01-01\"", "#foo.Bar{:a 1}", "#foo.Bar [1]",
        "^:meta [1]", "'x", "@x", "(1 2)", "{:a 1, :a 2}", "{:a nil, :a 2}", "{:a}", "{1 2}",
        "[1 2", "\"unclosed", "##Inf", "#_x 5", "[1;comment\n2]", "{\"process\" 1}", "\u00e9",
        "\"\u00e9\"", "[,,1,,]");
    for (String value : values) {
      String text = String.format(op, value) + "\n" + op.replace(":invoke", ":ok")
          .replace(":index 0", ":index 1").formatted("nil");
      assertReadAlike(text, false);
      assertReadAlike(text, true);
    }
    // The same for the other fields of an op, a nemesis's process and a string-keyed field.
    String complete = "{:index 1, :time 2, :type :info, :process 0, :f :txn, :value nil}";
    for (String extra : List.of(":error 1.5", ":error #{1}", ":error nil", ":node \"n1\"",
        ":index 0", ":process :nemesis", ":process :nemesis, :value #{1}",
        ":process :nemesis, :value 1.5", "\"process\" 1", "\"value\" 2")) {
      assertReadAlike("{" + extra + ", :index 0, :type :invoke, :process 0, :f :txn}\n"
          + complete, false);
      assertReadAlike("{:type :invoke, :f :txn, :process 7, " + extra + "}", true);
    }
    for (String text : List.of("", " ; only a comment", "[]", "()", "[{:type :invoke, :f :txn,"
        + " :process 0}]", "({:type :invoke, :f :txn, :process 0})", "5", "[1] [2]",
        "{:type :invoke, :f :txn, :process 0} [1 2]", "#jepsen.history.Op {:type :invoke,"
        + " :f :txn, :process 0}", "[#jepsen.history.Op{:type :invoke, :f :txn, :process 0}]",
        "{:type :invoke :f :txn :process 0}}")) {
      assertReadAlike(text, false);
    }
    Path records = Path.of(FastEdnReaderTest.class.getResource("/elle/la-jepsen-records.edn")
        .toURI());
    assertThrows(FastEdnReader.Unsupported.class,
        () -> FastEdnReader.readAll(Files.readAllBytes(records)));
  }

  @Test
  void nestingTooDeepForTheStackIsUnreadableNotACrash() {
    String deep = "[".repeat(200_000) + "]".repeat(200_000);
    String text = "{:type :invoke, :f :txn, :process 0, :value " + deep + "}";
    HistoryFormatException e = assertThrows(HistoryFormatException.class,
        () -> EdnHistory.parse(text));
    assertTrue(e.getMessage().contains("not readable EDN"), e.getMessage());
  }

  @Test
  void textThatIsNotUtf8IsRejected() {
    byte[] op = "{:type :invoke, :f :txn, :process 0, :value \"ab\"}".getBytes(
        StandardCharsets.UTF_8);
    op[op.length - 3] = (byte) 0xff;
    HistoryFormatException e = assertThrows(HistoryFormatException.class,
        () -> EdnHistory.parse(op, false));
    assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    // Well-formed multi-byte characters are read, in strings as in keywords (via Clojure).
    assertEquals(List.of("\u00e9\u4e2d", Keyword.of("caf\u00e9")), EdnHistory.parse(
        "{:type :invoke, :f :txn, :process 0, :value [\"\u00e9\u4e2d\" :caf\u00e9]}").ops().get(0)
        .value());
  }

  /** The printer writes what Clojure's pr-str writes, character for character. */
  @Test
  void printsAsClojurePrints() throws Exception {
    List<History> histories = new ArrayList<>();
    histories.add(EdnHistoryTest.everyKindOfValue());
    histories.add(new HistoryBuilder().invoke(0, "note", List.of("\"\\\n\t\r\f\b\u00e9\u0001",
        Keyword.of("a/b"), Long.MIN_VALUE, Long.MAX_VALUE, true), 0).build());
    histories.add(ListAppendGenerator.generate(9, ListAppendGenerator.Options.benchmark(200)));
    histories.add(KvGenerator.generate(9, 200, 10, 5, 5));
    for (Path file : goldenFiles()) {
      histories.add(EdnHistory.read(file, true));
    }
    for (History history : histories) {
      assertEquals(EdnHistory.printWithClojure(history), EdnHistory.print(history));
    }
  }

  /** The README's benchmark command writes a history that the checker reads back valid. */
  @Test
  void benchWritesAnEdnHistoryThatChecksValid(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("la.edn");
    io.detraft.checker.bench.ElleBench.main(new String[] {"--write-edn", file.toString(),
        "--sizes", "2000"});
    assertEquals(ListAppendGenerator.generate(42, ListAppendGenerator.Options.benchmark(2000)),
        EdnHistory.read(file, false));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    assertEquals(0, Main.run(new String[] {"check", "--model", "list-append",
        file.toString()}, print, print), () -> out.toString(StandardCharsets.UTF_8));
  }

  /** Texts above the parallel threshold: cut into chunks, or not, they read alike. */
  @Test
  void largeTextsReadInChunksReadAlike() {
    History history = ListAppendGenerator.generate(5, ListAppendGenerator.Options.benchmark(
        4_000));
    String text = EdnHistory.print(history);
    assertTrue(text.length() > 1 << 20, "above the parallel threshold: " + text.length());
    assertEquals(history, EdnHistory.parse(text));
    // One vector of all ops, with a line start opening a map in the middle: a cut there
    // falls inside the vector, and the text is read in one piece.
    String vector = "[" + text + "]";
    assertEquals(history, EdnHistory.parse(vector));
    // A string spanning lines that open maps, long enough to hold the middle of the text,
    // in an ignored field: the cut falls inside it, and the text is read in one piece.
    int middle = text.indexOf("}\n{", text.length() / 2);
    String withString = text.substring(0, middle) + ", :comment \"a" + "\n{:b 1}".repeat(4000)
        + "\"" + text.substring(middle);
    assertReadAlike(withString, false);
    assertEquals(history, EdnHistory.parse(withString));
  }
}
