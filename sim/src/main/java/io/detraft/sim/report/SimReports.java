package io.detraft.sim.report;

import io.detraft.checker.History;
import io.detraft.checker.report.ReportDirectory;
import io.detraft.sim.SimResult;
import io.detraft.sim.Simulation;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the simulator's {@code --report DIR} flag does: records a run and writes its page. A
 * directory that cannot be used is reported once, on stderr, and the runs go on unrecorded:
 * a report never changes a verdict or an exit status.
 */
public final class SimReports {
  private final ReportDirectory dir;
  private final PrintStream err;
  private final List<Path> pending = new ArrayList<>();

  private SimReports(ReportDirectory dir, PrintStream err) {
    this.dir = dir;
    this.err = err;
  }

  /** {@code path} null means no reports; a bad path prints why and also means none. */
  public static SimReports open(String path, PrintStream err) {
    if (path == null) {
      return new SimReports(null, err);
    }
    try {
      return new SimReports(ReportDirectory.prepare(path), err);
    } catch (ReportDirectory.ReportException e) {
      err.println("detraft-sim: no report: " + e.getMessage());
      return new SimReports(null, err);
    }
  }

  /** Runs {@code simulation}, recording it and writing its page if reports are on. */
  public SimResult run(Simulation simulation) {
    if (dir == null) {
      return simulation.run();
    }
    SimReport report = new SimReport();
    SimResult result = simulation.recordTo(report).run();
    List<History> histories = simulation.clientHistories();
    report.clientHistory("kv", histories.get(0));
    report.clientHistory("txn", histories.get(1));
    try {
      pending.add(report.write(dir, result));
    } catch (ReportDirectory.ReportException | RuntimeException e) {
      err.println("detraft-sim: no report for seed " + result.seed() + ": " + e.getMessage());
    }
    return result;
  }

  /** Prints the pages written since the last call, one line each. */
  public void written(PrintStream out) {
    for (Path page : pending) {
      out.println("report: " + page.toAbsolutePath());
    }
    pending.clear();
  }
}
