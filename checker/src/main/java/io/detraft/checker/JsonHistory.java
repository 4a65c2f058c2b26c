package io.detraft.checker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Histories as JSON, in the shape elle-cli reads: an array of op objects {@code {"index": 0,
 * "time": 0, "type": "invoke", "process": 0, "f": "txn", "value": [["append", 5, 3], ["r",
 * 6, null]]}}. One object per line without the surrounding array (JSON lines) reads too.
 *
 * <p>JSON has no keywords: keywords inside values are written as strings, and read back as
 * strings. The checkers accept both for micro-op names, so a history checks the same either
 * way; for an exact round trip of keyword values, use {@link EdnHistory}. Field rules and
 * rejections are those of {@link EdnHistory}.
 */
public final class JsonHistory {
  private JsonHistory() {}

  /** Reads a history from JSON text; rejects non-integer processes. */
  public static History parse(String json) {
    return parse(json, false);
  }

  /**
   * Reads a history from JSON text.
   *
   * @param skipOtherProcesses leave out ops whose process is not an integer instead of
   *     rejecting the history
   * @throws HistoryFormatException on a syntax error or an op that does not fit
   */
  public static History parse(String json, boolean skipOtherProcesses) {
    List<Object> forms = Json.parseAll(json);
    if (forms.size() == 1 && forms.get(0) instanceof List<?> all) {
      return OpMaps.toHistory(all, skipOtherProcesses);
    }
    return OpMaps.toHistory(forms, skipOtherProcesses);
  }

  /** Reads a history from a JSON file. */
  public static History read(Path file, boolean skipOtherProcesses) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), skipOtherProcesses);
  }

  /** The JSON text of a history: an array, one op object per line. */
  public static String print(History history) {
    StringBuilder out = new StringBuilder("[\n");
    List<Op> ops = history.ops();
    for (int i = 0; i < ops.size(); i++) {
      Json.write(out, OpMaps.toMap(ops.get(i), false));
      out.append(i + 1 < ops.size() ? ",\n" : "\n");
    }
    return out.append("]\n").toString();
  }

  /** Writes a history to a JSON file. */
  public static void write(History history, Path file) throws IOException {
    Files.writeString(file, print(history), StandardCharsets.UTF_8);
  }
}
