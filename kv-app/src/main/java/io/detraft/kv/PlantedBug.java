package io.detraft.kv;

/**
 * Bugs planted on purpose, so that a test can show {@code detraft test} catches what it must.
 * Only a system property turns one on ({@code -Ddetraft.plant-bug=stale-reads}, which {@code
 * detraft test --plant-bug stale-reads} passes to its servers); no flag of {@code detraft
 * server} does, and nothing in production sets it.
 */
final class PlantedBug {
  static final String PROPERTY = "detraft.plant-bug";

  /** Serve linearizable reads from the local state machine, without ReadIndex. */
  static final boolean STALE_READS = "stale-reads".equals(System.getProperty(PROPERTY));

  private PlantedBug() {}
}
