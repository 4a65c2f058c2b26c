package io.detraft.checker.report;

import io.detraft.checker.Anomaly;
import io.detraft.checker.DependencyKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws one anomaly's cycle: transactions as nodes, dependencies as labelled arrows (kind, key,
 * value). Graphviz lays it out when {@code dot} is on the PATH; otherwise (or if dot fails) the
 * nodes go round a circle, which for the short cycles anomalies have (2 to ~6 transactions) is
 * as readable. The cycle is always shown as text as well.
 */
final class CycleGraph {
  private static final Pattern KEY = Pattern.compile("key (\\S+?)[ ,;]");
  /** The value an edge is about: the write's, else the one read. */
  private static final Pattern WRITTEN = Pattern.compile(
      "(?:appended|append of|wrote) (\\S+?)[ ,;]");
  private static final Pattern READ = Pattern.compile("= (\\S+?)[ ,;]");
  private static final Pattern PROCESS = Pattern.compile("ran on process (\\S+?)[ ,;]");
  private static final String[] COLORS = {"#1565c0", "#2e7d32", "#c62828", "#6a1b9a",
      "#ef6c00"};

  private CycleGraph() {}

  /** One edge: from transaction index {@code from} to {@code from + 1} (mod n). */
  record Edge(int from, int to, DependencyKind kind, String label, String why) {}

  /**
   * The edges of a cycle anomaly, each labelled with what its explanation says: the kind,
   * then the key and value where the clause names them ("wr :x 1"), and the clause itself.
   */
  static List<Edge> edges(Anomaly anomaly) {
    List<Edge> out = new ArrayList<>();
    int n = anomaly.transactions().size();
    String text = anomaly.explanation();
    for (int i = 0; i < n; i++) {
      DependencyKind kind = anomaly.edges().get(i);
      int to = (i + 1) % n;
      String arrow = "so T" + (i + 1) + " " + kind.shortName() + "-> T" + (to + 1);
      String why = clauseBefore(text, arrow);
      StringBuilder label = new StringBuilder(kind.shortName());
      if (why != null) {
        Matcher key = KEY.matcher(why + " ");
        if (key.find()) {
          label.append(' ').append(key.group(1));
        }
        Matcher written = WRITTEN.matcher(why + " ");
        Matcher read = READ.matcher(why + " ");
        Matcher process = PROCESS.matcher(why + " ");
        if (written.find()) {
          label.append(' ').append(written.group(1));
        } else if (read.find()) {
          label.append(' ').append(read.group(1));
        } else if (process.find()) {
          label.append(" p").append(process.group(1));
        }
      }
      out.add(new Edge(i, to, kind, label.toString(), why));
    }
    return out;
  }

  /** The clause of {@code text} that ends with {@code arrow}, "then" and indentation cut. */
  private static String clauseBefore(String text, String arrow) {
    int at = text.indexOf(arrow);
    if (at < 0) {
      return null;
    }
    int start = text.lastIndexOf('\n', at) + 1;
    String clause = text.substring(start, at + arrow.length()).trim();
    return clause.startsWith("then ") ? clause.substring(5) : clause;
  }

  /** The cycle as SVG: Graphviz's when available, else a circle laid out here. */
  static String svg(Anomaly anomaly) {
    String dot = graphviz(anomaly);
    return dot != null ? dot : circle(anomaly);
  }

  static String circle(Anomaly anomaly) {
    int n = anomaly.transactions().size();
    List<Edge> edges = edges(anomaly);
    double radius = n == 2 ? 120 : 50 + 25 * n;
    double[] xs = new double[n];
    double[] ys = new double[n];
    double minX = Double.MAX_VALUE;
    double minY = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE;
    double maxY = -Double.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      // T1 on the left, then clockwise: the cycle reads like a clock.
      double angle = Math.PI + 2 * Math.PI * i / n;
      xs[i] = radius * Math.cos(angle);
      ys[i] = n == 2 ? 0 : -radius * Math.sin(angle);
      minX = Math.min(minX, xs[i]);
      maxX = Math.max(maxX, xs[i]);
      minY = Math.min(minY, ys[i]);
      maxY = Math.max(maxY, ys[i]);
    }
    // Room around the nodes for the bent edges and their labels.
    double marginX = 110;
    double marginY = n == 2 ? 75 : 55;
    double width = maxX - minX + 2 * marginX;
    double height = maxY - minY + 2 * marginY;
    for (int i = 0; i < n; i++) {
      xs[i] += marginX - minX;
      ys[i] += marginY - minY;
    }
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg class=\"cycle\" xmlns=\"http://www.w3.org/2000/"
        + "svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">", width, height, width,
        height));
    svg.append("<defs>");
    for (int c = 0; c < COLORS.length; c++) {
      svg.append("<marker id=\"arrow-").append(c).append("\" viewBox=\"0 0 10 10\" refX=\"10\""
          + " refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 "
          + "L10,5 L0,10 z\" fill=\"").append(COLORS[c]).append("\"/></marker>");
    }
    svg.append("</defs>");
    double nodeRadius = 26;
    for (Edge e : edges) {
      double x1 = xs[e.from()];
      double y1 = ys[e.from()];
      double x2 = xs[e.to()];
      double y2 = ys[e.to()];
      double dx = x2 - x1;
      double dy = y2 - y1;
      double length = Math.max(1, Math.hypot(dx, dy));
      // Bend each edge to its left: two opposite edges between the same pair do not overlap.
      double bend = n == 2 ? 70 : 30;
      double mx = (x1 + x2) / 2 + dy / length * bend;
      double my = (y1 + y2) / 2 - dx / length * bend;
      double[] start = towards(x1, y1, mx, my, nodeRadius);
      double[] end = towards(x2, y2, mx, my, nodeRadius + 2);
      int colorIndex = e.kind().ordinal() % COLORS.length;
      String color = COLORS[colorIndex];
      svg.append(String.format(Locale.ROOT, "<g class=\"edge\" data-kind=\"%s\"><title>%s"
          + "</title><path d=\"M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"%s\" "
          + "stroke-width=\"2\" marker-end=\"url(#arrow-%d)\"/>", e.kind().shortName(),
          Html.escape(e.why() == null ? e.label() : e.why()), start[0], start[1], mx, my,
          end[0], end[1], color, colorIndex));
      // The label sits at the curve's midpoint (a quadratic Bezier's point at t = 1/2).
      double lx = 0.25 * start[0] + 0.5 * mx + 0.25 * end[0];
      double ly = 0.25 * start[1] + 0.5 * my + 0.25 * end[1];
      svg.append(String.format(Locale.ROOT, "<text class=\"edge-label\" x=\"%.1f\" y=\"%.1f\" "
          + "text-anchor=\"middle\" fill=\"%s\" font-size=\"13\" font-weight=\"600\" "
          + "paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">%s</text></g>", lx,
          ly + 4, color, Html.escape(e.label())));
    }
    for (int i = 0; i < n; i++) {
      svg.append(String.format(Locale.ROOT, "<g class=\"txn\"><title>%s</title><circle "
          + "cx=\"%.1f\" cy=\"%.1f\" r=\"%.0f\" fill=\"#fff8e1\" stroke=\"#555\" stroke-width="
          + "\"1.5\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
          + "font-weight=\"700\">T%d</text></g>", Html.escape(String.valueOf(
          anomaly.transactions().get(i))), xs[i], ys[i], nodeRadius, xs[i], ys[i] + 5, i + 1));
    }
    return svg.append("</svg>").toString();
  }

  private static double[] towards(double x, double y, double tx, double ty, double distance) {
    double length = Math.max(1, Math.hypot(tx - x, ty - y));
    return new double[] {x + (tx - x) / length * distance, y + (ty - y) / length * distance};
  }

  /** Graphviz's rendering of the cycle, or null when dot is missing or fails. */
  static String graphviz(Anomaly anomaly) {
    if (!dotAvailable()) {
      return null;
    }
    StringBuilder dot = new StringBuilder("digraph cycle {\n  rankdir=LR;\n"
        + "  node [shape=circle, style=filled, fillcolor=\"#fff8e1\", fontname=\"Helvetica\"];\n"
        + "  edge [fontname=\"Helvetica\", fontsize=11];\n");
    for (int i = 0; i < anomaly.transactions().size(); i++) {
      dot.append("  T").append(i + 1).append(" [tooltip=").append(quote(String.valueOf(
          anomaly.transactions().get(i)))).append("];\n");
    }
    for (Edge e : edges(anomaly)) {
      String color = COLORS[e.kind().ordinal() % COLORS.length];
      dot.append("  T").append(e.from() + 1).append(" -> T").append(e.to() + 1)
          .append(" [label=").append(quote(e.label())).append(", color=\"").append(color)
          .append("\", fontcolor=\"").append(color).append("\"];\n");
    }
    dot.append("}\n");
    try {
      Process process = new ProcessBuilder("dot", "-Tsvg").redirectErrorStream(false).start();
      process.getOutputStream().write(dot.toString().getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().close();
      String svg;
      try (InputStream in = process.getInputStream()) {
        svg = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!process.waitFor(20, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        return null;
      }
      int start = svg.indexOf("<svg");
      return start < 0 ? null : svg.substring(start).replaceFirst("<svg", "<svg class=\"cycle\"");
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static Boolean dotFound;

  /** Whether {@code dot} runs here; asked once per JVM. The tests may switch it off. */
  static synchronized boolean dotAvailable() {
    if (dotFound == null) {
      if (Boolean.getBoolean("detraft.report.noGraphviz")) {
        dotFound = false;
      } else {
        try {
          Process p = new ProcessBuilder("dot", "-V").redirectErrorStream(true).start();
          p.getInputStream().readAllBytes();
          dotFound = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
          dotFound = false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          dotFound = false;
        }
      }
    }
    return dotFound;
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }
}
