package io.detraft.kv;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The bearer token ({@code --auth-token-file}) that guards the admin API: changes of
 * membership ({@code POST}/{@code DELETE /v1/members}), {@code /v1/leader/transfer}, {@code
 * /v1/snapshot}, the export of a group's snapshot ({@code GET /v1/snapshot/G}) and the
 * internal endpoint through which nodes forward writes to a leader
 * ({@link Router} sends the token there). A request without it is answered 401. With no
 * token (null) everything is open, as in the plaintext quick start. With {@code --auth-data}
 * ({@code guardsData}) the data endpoints ({@code /v1/kv/}, {@code /v1/txn}, {@code
 * /v1/sessions}) want it too.
 */
final class AdminToken {
  static final AdminToken NONE = new AdminToken(null);
  private final byte[] expected;
  /** Whether {@link #requireForData} checks the token too. */
  private final boolean guardsData;

  AdminToken(byte[] token) {
    this(token, false);
  }

  AdminToken(byte[] token, boolean guardsData) {
    if (guardsData && token == null) {
      throw new IllegalArgumentException("guarding the data endpoints needs a token");
    }
    this.guardsData = guardsData;
    this.expected = token == null ? null
        : ("Bearer " + new String(token, StandardCharsets.UTF_8))
            .getBytes(StandardCharsets.UTF_8);
  }

  /** Throws a 401 unless {@code exchange} carries the token (in constant time). */
  void require(HttpServer.Exchange exchange) {
    if (expected == null) {
      return;
    }
    String given = exchange.header("authorization");
    if (given == null || !MessageDigest.isEqual(expected,
        given.strip().getBytes(StandardCharsets.UTF_8))) {
      throw new KvException(401, "unauthorized", given == null
          ? "this endpoint needs the token: Authorization: Bearer TOKEN"
          : "wrong admin token");
    }
  }

  /** As {@link #require}, if the data endpoints are guarded too. */
  void requireForData(HttpServer.Exchange exchange) {
    if (guardsData) {
      require(exchange);
    }
  }

  /** The header a node sends to another's guarded endpoint. */
  Map<String, String> headers() {
    return expected == null ? Map.of()
        : Map.of("Authorization", new String(expected, StandardCharsets.UTF_8));
  }
}
