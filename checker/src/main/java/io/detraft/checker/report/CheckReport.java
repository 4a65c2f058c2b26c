package io.detraft.checker.report;

import io.detraft.checker.Anomaly;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.LinearizabilityChecker;
import io.detraft.checker.Op;
import io.detraft.checker.OpType;
import io.detraft.checker.Operation;
import io.detraft.checker.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The HTML page of {@code check ... --report DIR}: the verdict, each anomaly's cycle drawn as
 * a graph (and written out as text), and a timeline of the history's operations, one lane per
 * process, with the operations named in anomalies marked. Built only from the checker's public
 * results ({@link ElleResult}, {@link LinearizabilityChecker.Result}) and the {@link History}.
 * Static HTML and SVG: no script, no network.
 */
public final class CheckReport {
  /** At most this many operations are drawn; a longer history shows a window of it. */
  static final int TIMELINE_OPS_MAX = 2_000;
  /** At most this many process lanes are drawn. */
  static final int TIMELINE_LANES_MAX = 64;

  private CheckReport() {}

  /** The page for a transactional (Elle-style) check. */
  public static String html(String source, String model, History history, ElleResult result) {
    StringBuilder body = new StringBuilder();
    header(body, source, model + ", checked as " + result.consistency().modelName(),
        result.verdict(), history);
    body.append("<pre id=\"explanation\">").append(Html.escape(result.explanation()))
        .append("</pre>\n");
    Map<Operation, String> named = new IdentityHashMap<>();
    int number = 0;
    if (!result.anomalies().isEmpty()) {
      body.append("<h2>Anomalies</h2>\n");
    }
    for (Anomaly anomaly : result.anomalies()) {
      number++;
      body.append("<section class=\"anomaly\" id=\"anomaly-").append(number).append("\">")
          .append("<h3>").append(number).append(". ").append(Html.escape(anomaly.type()
              .elleName())).append(" <small>").append(Html.escape(anomaly.type().description()))
          .append("</small></h3>\n");
      if (!anomaly.edges().isEmpty()) {
        body.append("<div class=\"graph\">").append(CycleGraph.svg(anomaly)).append("</div>\n");
        body.append("<p class=\"cycle-text\">");
        List<CycleGraph.Edge> edges = CycleGraph.edges(anomaly);
        for (CycleGraph.Edge e : edges) {
          body.append("T").append(e.from() + 1).append(" <b>-").append(Html.escape(e.label()))
              .append("-&gt;</b> ");
        }
        body.append("T1</p>\n");
      }
      body.append("<ol class=\"txns\">");
      for (int i = 0; i < anomaly.transactions().size(); i++) {
        Operation op = anomaly.transactions().get(i);
        named.putIfAbsent(op, "A" + number + ".T" + (i + 1));
        body.append("<li value=\"").append(i + 1).append("\"><b>T").append(i + 1)
            .append("</b> = <code>").append(Html.escape(String.valueOf(op)))
            .append("</code></li>");
      }
      body.append("</ol>\n<pre>").append(Html.escape(anomaly.explanation())).append("</pre>")
          .append("</section>\n");
    }
    timeline(body, history, named);
    return page("check: " + result.verdict() + " (" + source + ")", body);
  }

  /** The page for a key/value linearizability check. */
  public static String html(String source, History history,
      LinearizabilityChecker.Result result) {
    StringBuilder body = new StringBuilder();
    header(body, source, "kv-linearizable", result.verdict(), history);
    body.append("<pre id=\"explanation\">").append(Html.escape(String.valueOf(result)))
        .append("</pre>\n");
    Map<Operation, String> named = new IdentityHashMap<>();
    if (result.blocked() != null) {
      named.put(result.blocked(), "blocked");
    }
    timeline(body, history, named);
    return page("check: " + result.verdict() + " (" + source + ")", body);
  }

  private static void header(StringBuilder body, String source, String model, Verdict verdict,
      History history) {
    body.append("<h1>").append(Html.escape(source)).append(" <span id=\"verdict\" class=\"badge ")
        .append(verdict).append("\">").append(verdict).append("</span></h1>\n<p>model: ")
        .append(Html.escape(model)).append("; ").append(history.size()).append(" events, ")
        .append(history.operations().size()).append(" operations</p>\n");
  }

  /**
   * Operations per process over time (or over the history's event index when it has no
   * times): a bar from invoke to completion, green ok, red fail, grey info or open; operations
   * in anomalies outlined and labelled. A long history shows the window around its anomalies.
   */
  static void timeline(StringBuilder body, History history, Map<Operation, String> named) {
    List<Operation> all = history.operations();
    body.append("<h2>Timeline</h2>\n");
    if (all.isEmpty()) {
      body.append("<p>No operations.</p>\n");
      return;
    }
    boolean timed = false;
    for (Op op : history.ops()) {
      timed |= op.time() != history.ops().get(0).time();
    }
    long lastTime = Long.MIN_VALUE;
    for (Op op : history.ops()) {
      lastTime = Math.max(lastTime, timed ? op.time() : op.index());
    }
    int from = 0;
    if (all.size() > TIMELINE_OPS_MAX) {
      int first = -1;
      for (int i = 0; i < all.size(); i++) {
        if (named.containsKey(all.get(i))) {
          first = first < 0 ? i : first;
        }
      }
      from = Math.max(0, Math.min(all.size() - TIMELINE_OPS_MAX,
          (first < 0 ? 0 : first) - TIMELINE_OPS_MAX / 2));
    }
    List<Operation> shown = all.subList(from, Math.min(all.size(), from + TIMELINE_OPS_MAX));
    if (shown.size() < all.size()) {
      body.append("<p class=\"note\">Showing operations ").append(from + 1).append(" to ")
          .append(from + shown.size()).append(" of ").append(all.size())
          .append(named.isEmpty() ? "." : ", around the first anomaly.").append("</p>\n");
    }
    Map<Long, Integer> lanes = new TreeMap<>();
    for (Operation op : shown) {
      lanes.putIfAbsent(op.process(), 0);
    }
    Map<Long, Integer> laneIndex = new HashMap<>();
    for (long process : lanes.keySet()) {
      if (laneIndex.size() < TIMELINE_LANES_MAX) {
        laneIndex.put(process, laneIndex.size());
      }
    }
    long t0 = Long.MAX_VALUE;
    long t1 = Long.MIN_VALUE;
    for (Operation op : shown) {
      t0 = Math.min(t0, at(op.invoke(), timed));
      t1 = Math.max(t1, op.completion() == null ? lastTime : at(op.completion(), timed));
    }
    t1 = Math.max(t1, t0 + 1);
    int left = 70;
    int width = 1100;
    int lane = 22;
    int height = 30 + laneIndex.size() * lane + 10;
    body.append(String.format(Locale.ROOT, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/"
        + "svg\" style=\"max-width:100%%;height:auto\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-size=\"11\">", left + width
        + 10, height, left + width + 10, height));
    body.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"14\" fill=\"#555\">%s %d</text>"
        + "<text x=\"%d\" y=\"14\" fill=\"#555\" text-anchor=\"end\">%d</text>", left,
        timed ? "time" : "event index", t0, left + width, t1));
    for (Map.Entry<Long, Integer> e : laneIndex.entrySet()) {
      int y = 24 + e.getValue() * lane;
      body.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
          + "fill=\"%s\"/><text x=\"4\" y=\"%d\">process %d</text>", left, y, width, lane,
          e.getValue() % 2 == 0 ? "#fafafa" : "#f0f0f0", y + 15, e.getKey()));
    }
    int drawn = 0;
    for (Operation op : shown) {
      Integer index = laneIndex.get(op.process());
      if (index == null) {
        continue;
      }
      long start = at(op.invoke(), timed);
      long end = op.completion() == null ? lastTime : at(op.completion(), timed);
      double x = left + (start - t0) * (double) width / (t1 - t0);
      double w = Math.max(2, (end - start) * (double) width / (t1 - t0));
      int y = 24 + index * lane + 3;
      OpType outcome = op.outcome();
      String fill = outcome == OpType.OK ? "#66bb6a" : outcome == OpType.FAIL ? "#ef5350"
          : "#bdbdbd";
      String name = named.get(op);
      body.append(String.format(Locale.ROOT, "<g class=\"op%s\"><title>%s%s</title><rect x=\"%.1f\" "
          + "y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"%s\"%s/>", name != null
          ? " named" : "", name != null ? Html.escape(name) + ": " : "",
          Html.escape(String.valueOf(op)), x, y, w, lane - 6, fill, name != null
          ? " stroke=\"#b71c1c\" stroke-width=\"2.5\"" : ""));
      if (name != null) {
        body.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-weight=\"700\" "
            + "fill=\"#b71c1c\">%s</text>", x + 3, y + 12, Html.escape(name)));
      }
      body.append("</g>");
      drawn++;
    }
    body.append("</svg>\n<p class=\"note\">").append(drawn).append(" operations drawn")
        .append(lanes.size() > laneIndex.size() ? " (the first " + TIMELINE_LANES_MAX
            + " processes)" : "").append(". Green ok, red fail, grey info (unknown outcome) or "
            + "never completed; outlined: named in an anomaly. Hover for the operation.</p>\n");
  }

  private static long at(Op op, boolean timed) {
    return timed ? op.time() : op.index();
  }

  private static String page(String title, StringBuilder body) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
        + Html.escape(title) + "</title>\n<!-- Written by `detraft check --report DIR`. "
        + "Self-contained: no script, no network. -->\n<style>\n"
        + "body { font: 14px/1.45 system-ui, sans-serif; margin: 18px; color: #222; }\n"
        + "h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 26px; }\n"
        + "h3 small { font-weight: normal; color: #555; }\n"
        + ".badge { padding: 1px 9px; border-radius: 10px; color: #fff; font-size: 15px; }\n"
        + ".VALID { background: #2e7d32; } .INVALID { background: #c62828; } "
        + ".UNKNOWN { background: #ef6c00; }\n"
        + "pre { font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; background: #f6f6f6;"
        + " padding: 8px; white-space: pre-wrap; }\n"
        + ".anomaly { border-left: 4px solid #c62828; padding-left: 12px; margin: 16px 0; }\n"
        + ".cycle-text { font-family: ui-monospace, monospace; }\n"
        + ".note { color: #666; }\n"
        + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
  }
}
