package io.detraft.kv;

import io.detraft.checker.OpType;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The two charts of a {@code detraft test} run (PNG, XChart): every operation's latency at the
 * time it completed, and the completions per second by outcome; each fault's period is shaded
 * in its family's colour, so what the faults did to the clients can be seen at a glance.
 */
final class JepsenPlots {
  private static final Map<String, Color> FAULT_COLORS = Map.of(
      "kill", new Color(220, 50, 47, 60),
      "pause", new Color(181, 137, 0, 60),
      "partition", new Color(38, 139, 210, 60),
      "member", new Color(42, 161, 152, 60),
      "netem", new Color(108, 113, 196, 60));
  private static final Map<OpType, Color> OUTCOME_COLORS = Map.of(
      OpType.OK, new Color(0, 128, 0),
      OpType.FAIL, new Color(200, 120, 0),
      OpType.INFO, new Color(200, 0, 0));

  private JepsenPlots() {}

  /** Writes latency.png and throughput.png into {@code dir}. */
  static void write(Path dir, List<JepsenHistory.Sample> samples,
      List<JepsenNemesis.Period> periods, double seconds) throws IOException {
    System.setProperty("java.awt.headless", "true"); // drawn off screen, on servers and in CI
    XYChart latency = chart("Latency of each operation (faults shaded)", "ms (log)");
    latency.getStyler().setYAxisLogarithmic(true);
    latency.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    latency.getStyler().setMarkerSize(3);
    double maxLatency = 1;
    for (OpType type : List.of(OpType.OK, OpType.FAIL, OpType.INFO)) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (JepsenHistory.Sample s : samples) {
        if (s.type() == type) {
          x.add(s.endNanos() / 1e9);
          double ms = Math.max(0.1, (s.endNanos() - s.invokeNanos()) / 1e6);
          y.add(ms);
          maxLatency = Math.max(maxLatency, ms);
        }
      }
      if (!x.isEmpty()) {
        XYSeries series = latency.addSeries(type.name().toLowerCase(java.util.Locale.ROOT), x, y);
        series.setMarker(SeriesMarkers.CIRCLE);
        series.setMarkerColor(OUTCOME_COLORS.get(type));
      }
    }
    shade(latency, periods, 0.1, maxLatency * 1.5);
    latency.getStyler().setYAxisMin(0.1);
    latency.getStyler().setXAxisMin(0.0);
    latency.getStyler().setXAxisMax(seconds);

    XYChart throughput = chart("Completions per second by outcome (faults shaded)", "ops/s");
    int buckets = (int) Math.ceil(seconds) + 1;
    double max = 1;
    for (OpType type : List.of(OpType.OK, OpType.FAIL, OpType.INFO)) {
      double[] counts = new double[buckets];
      for (JepsenHistory.Sample s : samples) {
        int b = (int) (s.endNanos() / 1_000_000_000L);
        if (s.type() == type && b >= 0 && b < buckets) {
          counts[b]++;
        }
      }
      double[] x = new double[buckets];
      for (int b = 0; b < buckets; b++) {
        x[b] = b + 0.5;
        max = Math.max(max, counts[b]);
      }
      XYSeries series = throughput.addSeries(type.name().toLowerCase(java.util.Locale.ROOT),
          x, counts);
      series.setMarker(SeriesMarkers.NONE);
      series.setLineColor(OUTCOME_COLORS.get(type));
    }
    shade(throughput, periods, 0, max * 1.1);
    throughput.getStyler().setYAxisMin(0.0);
    throughput.getStyler().setXAxisMin(0.0);
    throughput.getStyler().setXAxisMax(seconds);

    BitmapEncoder.saveBitmap(latency, dir.resolve("latency.png").toString(),
        BitmapEncoder.BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(throughput, dir.resolve("throughput.png").toString(),
        BitmapEncoder.BitmapFormat.PNG);
  }

  private static XYChart chart(String title, String unit) {
    XYChart chart = new XYChartBuilder().width(1000).height(400).title(title)
        .xAxisTitle("seconds since the run started").yAxisTitle(unit).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    return chart;
  }

  /**
   * One filled band per held fault, from {@code low} to {@code high}: an area series whose
   * outline is a box, filled in the family's translucent colour; one legend entry per family.
   */
  private static void shade(XYChart chart, List<JepsenNemesis.Period> periods, double low,
      double high) {
    Set<String> named = new HashSet<>();
    int n = 0;
    for (JepsenNemesis.Period p : periods) {
      Color color = FAULT_COLORS.get(p.family());
      if (color == null || p.endNanos() <= p.startNanos()) {
        continue; // instant faults (transfer, snapshot) have no period to shade
      }
      double from = p.startNanos() / 1e9;
      double to = p.endNanos() / 1e9;
      String name = named.add(p.family()) ? p.family() : " " + p.family() + " " + (++n);
      XYSeries band = chart.addSeries(name, new double[] {from, from, to, to},
          new double[] {low, high, high, low});
      band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
      band.setFillColor(color);
      band.setLineColor(color);
      band.setMarker(SeriesMarkers.NONE);
      band.setShowInLegend(!name.startsWith(" "));
    }
  }
}
