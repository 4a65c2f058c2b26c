package io.detraft.checker;

import io.detraft.checker.report.ReportDirectory;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Writes the page of {@code check --report DIR}; a failure to write never changes the verdict. */
final class CheckReports {
  private CheckReports() {}

  static void write(ReportDirectory dir, Path history, PrintStream out, PrintStream err,
      Supplier<String> page) {
    String name = history.getFileName().toString();
    int dot = name.lastIndexOf('.');
    name = (dot > 0 ? name.substring(0, dot) : name) + ".html";
    try {
      out.println("report: " + dir.write(name, page.get()).toAbsolutePath());
    } catch (ReportDirectory.ReportException | RuntimeException e) {
      err.println("check: no report: " + e.getMessage());
    }
  }
}
