package io.detraft.sim;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the sim command line in this JVM, for tests: its exit status and what it printed. */
final class SimCli {
  private SimCli() {}

  record Run(int status, String out, String err) {}

  static Run run(String... args) {
    return run(SimHooks.defaults(), args);
  }

  /** The command line with every run on {@code hooks} (a planted broken host, say). */
  static Run run(SimHooks hooks, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), hooks);
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }
}
