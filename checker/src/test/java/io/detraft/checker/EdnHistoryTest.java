package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdnHistoryTest {

  /** A history with every kind of value the model allows. */
  static History everyKindOfValue() {
    Map<Object, Object> map = new LinkedHashMap<>();
    map.put(Keyword.of("node"), "n1");
    map.put("string-key", Arrays.asList(1L, null, true, false));
    map.put(7L, Keyword.of("jepsen/ns-keyword"));
    return new HistoryBuilder()
        .invoke(0, Txn.F, List.of(Txn.append(5L, 3L), Txn.read("k"), Txn.read(Keyword.of("x"))), 10)
        .invoke(1, "custom", map, 11)
        .ok(0, Txn.F, List.of(Txn.append(5L, 3L), Txn.read("k", List.of()),
            Txn.read(Keyword.of("x"), List.of(-1L, Long.MAX_VALUE))), 12)
        .info(1, "custom", "a \"quoted\" string\nwith a newline", 13)
        .build();
  }

  @Test
  void javaToEdnToJavaIsLossless() {
    History history = everyKindOfValue();
    String edn = EdnHistory.print(history);
    assertEquals(history, EdnHistory.parse(edn), edn);
    // One op per line, keywords stay keywords, strings stay strings.
    assertEquals(4, edn.lines().count(), edn);
    assertTrue(edn.contains("[[:append 5 3] [:r \"k\" nil] [:r :x nil]]"), edn);
    assertTrue(edn.startsWith("{:index 0, :time 10, :type :invoke, :process 0, :f :txn, "), edn);
    assertTrue(edn.contains(":jepsen/ns-keyword"), edn);
  }

  @Test
  void keywordsAndStringsStayDistinct() {
    History keyword = EdnHistory.parse("{:type :invoke, :f :txn, :process 0, :value [:r]}");
    History string = EdnHistory.parse("{:type :invoke, :f :txn, :process 0, :value [\"r\"]}");
    assertEquals(List.of(Keyword.of("r")), keyword.ops().get(0).value());
    assertEquals(List.of("r"), string.ops().get(0).value());
    assertNotEquals(keyword, string);
  }

  @Test
  void ednToJavaToEdnIsStable() {
    String edn = "[{:type :invoke, :f :txn, :value [[:append 1 2] (:r 1 nil)], :process 3}\n"
        + " {:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [2]]], :process 3, :time 9,"
        + " :error nil, :extra {:a [1 {:b nil}]}}]";
    History history = EdnHistory.parse(edn);
    assertEquals(0, history.ops().get(0).index());
    assertEquals(0, history.ops().get(0).time());
    assertEquals(1, history.ops().get(1).index());
    String printed = EdnHistory.print(history);
    assertEquals(history, EdnHistory.parse(printed));
    assertEquals(printed, EdnHistory.print(EdnHistory.parse(printed)));
    // A list prints as a vector.
    assertTrue(printed.contains("[[:append 1 2] [:r 1 nil]]"), printed);
  }

  @Test
  void readsJepsenRecordsAndSkipsNemesisOpsOnRequest() throws Exception {
    Path file = Path.of(EdnHistoryTest.class.getResource("/elle/la-jepsen-records.edn").toURI());
    HistoryFormatException e =
        assertThrows(HistoryFormatException.class, () -> EdnHistory.read(file, false));
    assertEquals(1, e.opIndex());
    History records = EdnHistory.read(file, true);
    assertEquals(4, records.size());
    assertEquals(List.of(0L, 2L, 4L, 5L), records.ops().stream().map(Op::index).toList());
  }

  @Test
  void rejectsANonIntegerProcessWithTheOpIndex() {
    HistoryFormatException e = assertThrows(HistoryFormatException.class, () ->
        EdnHistory.parse("{:index 0, :type :invoke, :f :txn, :process 0, :value []}\n"
            + "{:index 1, :type :info, :f :kill, :process :nemesis, :value #{1}}"));
    assertEquals(1, e.opIndex());
    assertTrue(e.getMessage().contains(":process must be an integer, got :nemesis"),
        e.getMessage());
  }

  @Test
  void rejectsUnknownTypesAndUnsupportedValues() {
    HistoryFormatException type = assertThrows(HistoryFormatException.class, () ->
        EdnHistory.parse("{:index 4, :type :maybe, :f :txn, :process 0, :value []}"));
    assertEquals(4, type.opIndex());
    assertTrue(type.getMessage().contains("unknown type :maybe"), type.getMessage());
    for (String value : List.of("1.5", "#{1}", "\\c", "sym", "1/2", "123456789012345678901")) {
      HistoryFormatException e = assertThrows(HistoryFormatException.class, () ->
          EdnHistory.parse("{:index 2, :type :invoke, :f :txn, :process 0, :value [" + value
              + "]}"), value);
      assertEquals(2, e.opIndex(), e.getMessage());
    }
    HistoryFormatException notAMap = assertThrows(HistoryFormatException.class, () ->
        EdnHistory.parse("{:type :invoke, :f :txn, :process 0} [1 2]"));
    assertEquals(1, notAMap.opIndex(), notAMap.getMessage());
  }

  @Test
  void rejectsSyntaxErrorsAndIllFormedHistories() {
    HistoryFormatException syntax = assertThrows(HistoryFormatException.class, () ->
        EdnHistory.parse("{:type :invoke, :f :txn, :process 0} {:type"));
    assertTrue(syntax.getMessage().contains("not readable EDN"), syntax.getMessage());
    HistoryFormatException orphan = assertThrows(HistoryFormatException.class, () ->
        EdnHistory.parse("{:index 3, :type :ok, :f :txn, :process 0, :value []}"));
    assertEquals(3, orphan.opIndex());
    assertTrue(orphan.getMessage().contains("completes nothing"), orphan.getMessage());
  }

  @Test
  void writesAndReadsFiles(@TempDir Path dir) throws Exception {
    History history = everyKindOfValue();
    Path file = dir.resolve("history.edn");
    EdnHistory.write(history, file);
    assertEquals(history, EdnHistory.read(file, false));
    assertTrue(Files.size(file) > 0);
  }
}
