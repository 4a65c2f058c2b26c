package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonHistoryTest {
  /** elle-cli's example shape. */
  private static final String ELLE_CLI = """
      [{"index":0,"type":"invoke","f":"txn","value":[["append",253,1],["r",253,null]],
        "time":14843000,"process":0},
       {"index":1,"type":"ok","f":"txn","value":[["append",253,1],["r",253,[1]]],
        "time":19020000,"process":0}]
      """;

  @Test
  void readsElleCliHistoriesAndChecksThem() {
    History history = JsonHistory.parse(ELLE_CLI);
    assertEquals(2, history.size());
    assertEquals(List.of(List.of("append", 253L, 1L), List.of("r", 253L, List.of(1L))),
        history.ops().get(1).value());
    assertTrue(ElleChecker.checkListAppend(history, ConsistencyModel.STRICT_SERIALIZABLE)
        .isValid());
  }

  @Test
  void roundTripsAndKeywordsBecomeStrings() {
    History history = EdnHistoryTest.everyKindOfValue();
    String json = JsonHistory.print(history);
    History back = JsonHistory.parse(json);
    assertEquals(JsonHistory.print(back), json);
    assertEquals(List.of(List.of("append", 5L, 3L), List.of("r", "k", List.of()),
        java.util.Arrays.asList("r", "x", List.of(-1L, Long.MAX_VALUE))),
        back.ops().get(2).value());
    // A list-append history checks the same either way.
    ElleResult viaEdn = ElleChecker.checkListAppend(
        ElleCorpusTest.load("la-g-single.edn"), ConsistencyModel.SERIALIZABLE);
    ElleResult viaJson = ElleChecker.checkListAppend(JsonHistory.parse(
        JsonHistory.print(ElleCorpusTest.load("la-g-single.edn"))), ConsistencyModel.SERIALIZABLE);
    assertEquals(viaEdn.anomalyTypes(), viaJson.anomalyTypes());
  }

  @Test
  void readsJsonLines() {
    History history = JsonHistory.parse(
        "{\"type\":\"invoke\",\"f\":\"txn\",\"process\":1,\"value\":[]}\n"
            + "{\"type\":\"ok\",\"f\":\"txn\",\"process\":1,\"value\":[],\"time\":5}\n");
    assertEquals(2, history.size());
    assertEquals(5, history.ops().get(1).time());
  }

  @Test
  void rejectsWithPositionOrOpIndex() {
    HistoryFormatException fraction = assertThrows(HistoryFormatException.class,
        () -> JsonHistory.parse("[{\"type\":\"invoke\",\n \"value\": 1.5}]"));
    assertTrue(fraction.getMessage().contains("line 2"), fraction.getMessage());
    assertTrue(fraction.getMessage().contains("only integers"), fraction.getMessage());
    HistoryFormatException syntax = assertThrows(HistoryFormatException.class,
        () -> JsonHistory.parse("[{\"type\" \"invoke\"}]"));
    assertTrue(syntax.getMessage().contains("expected ':'"), syntax.getMessage());
    HistoryFormatException nemesis = assertThrows(HistoryFormatException.class,
        () -> JsonHistory.parse("[{\"index\":7,\"type\":\"info\",\"f\":\"kill\","
            + "\"process\":\"nemesis\"}]"));
    assertEquals(7, nemesis.opIndex());
    assertEquals(0, JsonHistory.parse("[{\"index\":7,\"type\":\"info\",\"f\":\"kill\","
        + "\"process\":\"nemesis\"}]", true).size());
    HistoryFormatException type = assertThrows(HistoryFormatException.class,
        () -> JsonHistory.parse("[{\"type\":\"done\",\"f\":\"txn\",\"process\":0}]"));
    assertEquals(0, type.opIndex());
  }

  @Test
  void escapesStrings() {
    History history = new HistoryBuilder()
        .invoke(0, "note", "tab\tquote\"backslash\\\u0001é", 0).build();
    assertEquals(history, JsonHistory.parse(JsonHistory.print(history)));
    assertEquals("\u00e9", ((String) JsonHistory.parse(
        "[{\"type\":\"invoke\",\"f\":\"n\",\"process\":0,\"value\":\"\\u00e9\"}]")
        .ops().get(0).value()));
  }
}
