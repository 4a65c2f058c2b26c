package io.detraft.sim;

import java.util.Locale;

/**
 * The outcome of one run.
 *
 * @param verdict PASS, FAIL, or UNKNOWN (every oracle held but a history checker ran out of
 *     budget: a warning, neither a pass nor a failure)
 * @param oracle for FAIL, the property that broke ("election-safety", "liveness", ...)
 * @param failure for FAIL the failure in words, for UNKNOWN the checker's explanation
 * @param fingerprint the trace's 64-bit hash: equal for two runs of the same seed
 * @param simulatedNanos virtual time the run covered
 * @param traceTail for FAIL, the last events in readable form, else empty
 * @param stats counters for the summary line
 * @param marks how often the run hit each coverage mark
 */
public record SimResult(SimOptions options, Verdict verdict, String oracle, String failure,
    long fingerprint, long simulatedNanos, String traceTail, Stats stats, Marks marks) {

  public enum Verdict { PASS, FAIL, UNKNOWN }

  /**
   * What a run did, for reports: {@code ops*} count the KV clients' operations, {@code txns*}
   * the list-append clients' transactions (which never fail).
   */
  public record Stats(long events, long messagesSent, long messagesDropped, long opsInvoked,
      long opsOk, long opsFail, long opsInfo, long txnsInvoked, long txnsOk, long txnsInfo,
      long crashes, long pauses, long partitions, long maxCommitIndex, String checker) {}

  public long seed() {
    return options.seed();
  }

  public boolean failed() {
    return verdict == Verdict.FAIL;
  }

  public String fingerprintHex() {
    return String.format(Locale.ROOT, "%016x", fingerprint);
  }

  /** One line: seed, verdict, fingerprint, size of the run; the failure if any. */
  public String line() {
    StringBuilder out = new StringBuilder();
    out.append("seed=").append(seed()).append(' ').append(verdict).append(" fingerprint=")
        .append(fingerprintHex())
        .append(String.format(Locale.ROOT, " sim=%.1fs", simulatedNanos / 1e9))
        .append(" events=").append(stats.events())
        .append(" ops=").append(stats.opsOk()).append("ok/").append(stats.opsFail())
        .append("fail/").append(stats.opsInfo()).append("info")
        .append(" txns=").append(stats.txnsOk()).append("ok/").append(stats.txnsInfo())
        .append("info")
        .append(" commit=").append(stats.maxCommitIndex())
        .append(" crashes=").append(stats.crashes())
        .append(" partitions=").append(stats.partitions());
    if (verdict != Verdict.PASS) {
      int newline = failure.indexOf('\n');
      out.append(" :: ").append(newline < 0 ? failure : failure.substring(0, newline));
    }
    return out.toString();
  }

  /** The full report of a failing (or unknown) seed: what to paste into an issue. */
  public String report() {
    StringBuilder out = new StringBuilder();
    out.append("seed ").append(seed()).append(' ').append(verdict).append('\n');
    out.append("options: ").append(options.describe()).append('\n');
    out.append("fingerprint: ").append(fingerprintHex()).append('\n');
    out.append(String.format(Locale.ROOT, "simulated: %.3fs, %d events%n", simulatedNanos / 1e9,
        stats.events()));
    if (verdict != Verdict.PASS) {
      out.append(verdict == Verdict.FAIL ? "failure: " : "warning: ").append(failure)
          .append('\n');
    }
    if (!traceTail.isEmpty()) {
      out.append("last events:\n").append(traceTail);
    }
    String replay = Main.replayCommand(options);
    out.append("replay: ").append(replay != null ? replay
        : "options built through the API (no command line makes them): new Simulation("
            + "options).run() with the options above").append('\n');
    return out.toString();
  }
}
