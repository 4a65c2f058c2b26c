package io.detraft.sim;

/**
 * Sees every event a {@link Trace} records, with the same arguments (see {@code
 * Trace.describe} for what {@code first}, {@code second} and {@code detail} mean per kind).
 * The seam between a run and what draws it (the HTML report of {@code sim --report}): a sink
 * observes only, and must not change the run.
 */
@FunctionalInterface
public interface TraceSink {
  void event(long time, Trace.Kind kind, int node, int peer, long first, long second,
      Object detail);
}
