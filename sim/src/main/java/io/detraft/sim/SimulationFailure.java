package io.detraft.sim;

/**
 * A run found a bug: an oracle fired, the liveness goal was missed, the KV history is not
 * linearizable or the list-append history not strictly serializable. {@code oracle} names the property in a word or two ("log-matching",
 * "liveness", ...) so sweeps can group failures.
 */
public final class SimulationFailure extends RuntimeException {
  private final String oracle;

  public SimulationFailure(String oracle, String message) {
    super(oracle + ": " + message);
    this.oracle = oracle;
  }

  public String oracle() {
    return oracle;
  }
}
