package io.detraft.kv;

/**
 * A request that did not succeed. {@link #outcomeUnknown()} says whether the command may
 * still have taken effect (a write whose answer was lost); otherwise nothing was applied.
 */
public final class KvClientException extends RuntimeException {
  private final String code;
  private final boolean outcomeUnknown;

  KvClientException(String code, String message, boolean outcomeUnknown) {
    super(code + ": " + message);
    this.code = code;
    this.outcomeUnknown = outcomeUnknown;
  }

  /** The server's error code ({@code not_found}, {@code timeout}, ...). */
  public String code() {
    return code;
  }

  public boolean outcomeUnknown() {
    return outcomeUnknown;
  }
}
