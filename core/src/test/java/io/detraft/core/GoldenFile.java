package io.detraft.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A data-driven script in the style of etcd-io/raft's {@code testdata/*.txt} (cockroachdb's
 * datadriven format): each case is one command line, a {@code ----} separator, the expected
 * output lines, and a blank line. Blank lines and {@code #} comment lines between cases are
 * kept verbatim when the file is rewritten. Output never contains blank lines.
 */
final class GoldenFile {
  static final String SEPARATOR = "----";

  /** One command and what it should print. {@code line} is 1-based. */
  record Case(String leadingText, int line, String command, List<String> expected) {}

  final String name;
  final List<Case> cases;
  /** Comments and blank lines after the last case. */
  final String trailingText;

  private GoldenFile(String name, List<Case> cases, String trailingText) {
    this.name = name;
    this.cases = cases;
    this.trailingText = trailingText;
  }

  static GoldenFile parse(String name, String text) {
    String[] lines = text.split("\n", -1);
    int count = lines.length;
    if (count > 0 && lines[count - 1].isEmpty()) {
      count--; // The final newline ends the last line; it does not start another.
    }
    List<Case> cases = new ArrayList<>();
    StringBuilder leading = new StringBuilder();
    int i = 0;
    while (i < count) {
      String line = lines[i];
      if (line.isBlank() || line.startsWith("#")) {
        leading.append(line).append('\n');
        i++;
        continue;
      }
      int commandLine = i + 1;
      i++;
      if (i >= count || !lines[i].equals(SEPARATOR)) {
        throw new IllegalArgumentException(
            name + ":" + (i + 1) + ": expected '" + SEPARATOR + "' after command '" + line + "'");
      }
      i++;
      List<String> expected = new ArrayList<>();
      while (i < count && !lines[i].isEmpty()) {
        expected.add(lines[i]);
        i++;
      }
      cases.add(new Case(leading.toString(), commandLine, line.strip(), expected));
      leading.setLength(0);
    }
    return new GoldenFile(name, cases, leading.toString());
  }

  /** The file with every case's output replaced by {@code actual.apply(case)}. */
  String render(Function<Case, List<String>> actual) {
    StringBuilder out = new StringBuilder();
    for (Case c : cases) {
      out.append(c.leadingText());
      out.append(c.command()).append('\n').append(SEPARATOR).append('\n');
      for (String line : actual.apply(c)) {
        out.append(line).append('\n');
      }
    }
    String trailing = trailingText;
    if (!cases.isEmpty() && !trailing.startsWith("\n")) {
      trailing = "\n" + trailing; // Every case ends with a blank line.
    }
    out.append(trailing);
    return out.toString();
  }

  /**
   * A readable line diff (longest common subsequence): unchanged lines start with two spaces,
   * expected-only lines with "- ", actual-only lines with "+ ".
   */
  static String diff(List<String> expected, List<String> actual) {
    int n = expected.size();
    int m = actual.size();
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = expected.get(i).equals(actual.get(j))
            ? lcs[i + 1][j + 1] + 1
            : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    StringBuilder out = new StringBuilder();
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && expected.get(i).equals(actual.get(j))) {
        out.append("    ").append(expected.get(i++)).append('\n');
        j++;
      } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
        out.append("  + ").append(actual.get(j++)).append('\n');
      } else {
        out.append("  - ").append(expected.get(i++)).append('\n');
      }
    }
    return out.toString();
  }
}
