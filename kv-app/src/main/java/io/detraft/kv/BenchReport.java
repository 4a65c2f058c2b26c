package io.detraft.kv;

import io.detraft.checker.report.Html;
import io.detraft.checker.report.ReportDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * What {@code detraft bench --report DIR} writes: throughput and latency (p50, p99) per
 * interval of the measured window as PNG charts (XChart), the per-interval figures as
 * {@code bench.csv}, the final table as {@code bench.txt}, and an {@code index.html} that shows
 * them together. A directory that cannot be used is said once and the bench goes on: a report
 * never changes the bench's result or exit status.
 */
final class BenchReport {
  private final ReportDirectory dir;
  private final PrintStream err;

  private BenchReport(ReportDirectory dir, PrintStream err) {
    this.dir = dir;
    this.err = err;
  }

  /** Prepares {@code path}; on failure prints why and returns a report that writes nothing. */
  static BenchReport open(String path, PrintStream err) {
    try {
      return new BenchReport(ReportDirectory.prepare(path), err);
    } catch (ReportDirectory.ReportException e) {
      err.println("detraft: no report: " + e.getMessage());
      return new BenchReport(null, err);
    }
  }

  /** One interval of the measured window. */
  record Interval(double endSeconds, double opsPerSecond, double p50Millis, double p99Millis,
      long ops) {}

  /**
   * Buckets the samples (completion times in [startNanos, endNanos)) into intervals of one
   * second, or of a quarter second for runs shorter than 5 s so a short run still has a curve.
   */
  static List<Interval> intervals(List<BenchLoop.Samples> all, long startNanos, long endNanos) {
    long window = endNanos - startNanos;
    long bucket = window < 5_000_000_000L ? 250_000_000L : 1_000_000_000L;
    int buckets = (int) Math.max(1, (window + bucket - 1) / bucket);
    List<long[]> latencies = new ArrayList<>();
    int[] counts = new int[buckets];
    for (BenchLoop.Samples s : all) {
      for (int i = 0; i < s.size; i++) {
        int b = (int) ((s.ends[i] - startNanos) / bucket);
        if (b >= 0 && b < buckets) {
          counts[b]++;
        }
      }
    }
    for (int b = 0; b < buckets; b++) {
      latencies.add(new long[counts[b]]);
    }
    int[] filled = new int[buckets];
    for (BenchLoop.Samples s : all) {
      for (int i = 0; i < s.size; i++) {
        int b = (int) ((s.ends[i] - startNanos) / bucket);
        if (b >= 0 && b < buckets) {
          latencies.get(b)[filled[b]++] = s.nanos[i];
        }
      }
    }
    List<Interval> out = new ArrayList<>();
    for (int b = 0; b < buckets; b++) {
      long[] l = latencies.get(b);
      Arrays.sort(l);
      double seconds = Math.min(bucket, window - (long) b * bucket) / 1e9;
      out.add(new Interval((double) Math.min((long) (b + 1) * bucket, window) / 1e9,
          l.length / seconds, percentile(l, 50) / 1e6, percentile(l, 99) / 1e6, l.length));
    }
    return out;
  }

  /** Nearest-rank percentile of sorted values; 0 for none. */
  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** Writes the charts, the tables and the page; prints where, or why not. */
  void write(String title, List<BenchLoop.Samples> samples, long startNanos, long endNanos,
      String table, PrintStream out) {
    if (dir == null) {
      return;
    }
    try {
      List<Interval> intervals = intervals(samples, startNanos, endNanos);
      double[] x = intervals.stream().mapToDouble(Interval::endSeconds).toArray();
      XYChart throughput = chart("Throughput", "ops/s");
      series(throughput, "ops/s", x, intervals.stream().mapToDouble(Interval::opsPerSecond)
          .toArray());
      XYChart latency = chart("Latency", "ms");
      series(latency, "p50", x, intervals.stream().mapToDouble(Interval::p50Millis).toArray());
      series(latency, "p99", x, intervals.stream().mapToDouble(Interval::p99Millis).toArray());
      dir.write("throughput.png", png(throughput));
      dir.write("latency.png", png(latency));
      StringBuilder csv = new StringBuilder("second,ops_per_second,p50_ms,p99_ms,ops\n");
      for (Interval i : intervals) {
        csv.append(String.format(Locale.ROOT, "%.2f,%.1f,%.3f,%.3f,%d%n", i.endSeconds(),
            i.opsPerSecond(), i.p50Millis(), i.p99Millis(), i.ops()));
      }
      dir.write("bench.csv", csv.toString());
      dir.write("bench.txt", title + System.lineSeparator() + table);
      dir.write("index.html", page(title, table, intervals));
      out.println("report: " + dir.path().resolve("index.html").toAbsolutePath());
    } catch (ReportDirectory.ReportException | IOException | RuntimeException e) {
      err.println("detraft: no report: " + e.getMessage());
    }
  }

  private static XYChart chart(String title, String unit) {
    XYChart chart = new XYChartBuilder().width(900).height(360).title(title)
        .xAxisTitle("seconds into the measured window").yAxisTitle(unit).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    return chart;
  }

  private static void series(XYChart chart, String name, double[] x, double[] y) {
    chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
  }

  private static byte[] png(XYChart chart) throws IOException {
    // Charts are drawn off screen: no display is needed, or wanted, on a server or in CI.
    System.setProperty("java.awt.headless", "true");
    return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
  }

  private static String page(String title, String table, List<Interval> intervals) {
    StringBuilder rows = new StringBuilder();
    for (Interval i : intervals) {
      rows.append(String.format(Locale.ROOT, "<tr><td>%.2f</td><td>%,.0f</td><td>%.2f</td>"
          + "<td>%.2f</td></tr>%n", i.endSeconds(), i.opsPerSecond(), i.p50Millis(),
          i.p99Millis()));
    }
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<title>detraft bench</title>\n<style>body { font: 14px/1.45 system-ui, sans-serif; "
        + "margin: 18px; } pre { background: #f6f6f6; padding: 8px; } table { border-collapse:"
        + " collapse; } td, th { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align:"
        + " right; }</style>\n</head>\n<body>\n<h1>detraft bench</h1>\n<p id=\"title\">"
        + Html.escape(title) + "</p>\n<pre id=\"result\">" + Html.escape(table) + "</pre>\n"
        + "<img id=\"throughput\" src=\"throughput.png\" alt=\"throughput over time\"><br>\n"
        + "<img id=\"latency\" src=\"latency.png\" alt=\"p50 and p99 latency over time\">\n"
        + "<h2>Per interval</h2>\n<table id=\"intervals\"><tr><th>second</th><th>ops/s</th>"
        + "<th>p50 ms</th><th>p99 ms</th></tr>\n" + rows + "</table>\n"
        + "<p>Also: bench.csv, bench.txt.</p>\n</body>\n</html>\n";
  }
}
