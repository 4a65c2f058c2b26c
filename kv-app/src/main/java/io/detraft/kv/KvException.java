package io.detraft.kv;

/**
 * An answer other than success, carrying what the HTTP layer needs: the status, a stable
 * machine-readable code, a message for people, and the leader to try (0 if unknown).
 *
 * <p>Codes whose outcome is unknown (the command may still apply): {@code outcome_unknown},
 * {@code timeout}. Every other code means nothing was applied.
 */
final class KvException extends RuntimeException {
  final int status;
  final String code;
  final long leaderHint;

  KvException(int status, String code, String message, long leaderHint) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.leaderHint = leaderHint;
  }

  KvException(int status, String code, String message) {
    this(status, code, message, 0);
  }

  static KvException badRequest(String message) {
    return new KvException(400, "bad_request", message);
  }

  static KvException notFound(String message) {
    return new KvException(404, "not_found", message);
  }
}
