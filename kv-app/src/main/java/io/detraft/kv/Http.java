package io.detraft.kv;

import io.detraft.kv.HttpServer.Exchange;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Request and response plumbing shared by the HTTP handlers. */
final class Http {
  static final String JSON = "application/json";
  static final String BYTES = "application/octet-stream";
  static final String LEADER_HEADER = "Detraft-Leader";
  private static final byte[] OK_BODY = "{\"ok\":true}".getBytes(StandardCharsets.US_ASCII);

  private Http() {}

  static void ok(Exchange exchange) {
    send(exchange, 200, JSON, OK_BODY, 0);
  }

  static void json(Exchange exchange, int status, String json) {
    send(exchange, status, JSON, json.getBytes(StandardCharsets.UTF_8), 0);
  }

  static void error(Exchange exchange, KvException e, Metrics metrics) {
    metrics.error(e.code);
    send(exchange, e.status, JSON, Json.error(e.code, e.getMessage())
        .getBytes(StandardCharsets.UTF_8), e.leaderHint);
  }

  /** Sends a complete answer (once; later calls are ignored). Never blocks. */
  static void send(Exchange exchange, int status, String contentType, byte[] body,
      long leaderHint) {
    exchange.respond(status, contentType, body, leaderHint);
  }

  /** The request body, refusing more than {@code limit} bytes with a 413. */
  static byte[] body(Exchange exchange, int limit) {
    byte[] body = exchange.body();
    if (body.length > limit) {
      throw new KvException(413, "body_too_large", "the body has " + body.length
          + " bytes; the limit is " + limit);
    }
    return body;
  }

  /** Query parameters, percent-decoded; a name without '=' maps to "". */
  static Map<String, String> query(Exchange exchange) {
    Map<String, String> out = new HashMap<>();
    String raw = exchange.rawQuery();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String name = new String(percentDecode(eq < 0 ? part : part.substring(0, eq), true),
          StandardCharsets.UTF_8);
      byte[] value = eq < 0 ? new byte[0] : percentDecode(part.substring(eq + 1), true);
      out.put(name, new String(value, StandardCharsets.UTF_8));
    }
    return out;
  }

  /** A query parameter's raw bytes (values may be binary), or null. */
  static byte[] queryBytes(Exchange exchange, String name) {
    String raw = exchange.rawQuery();
    if (raw == null) {
      return null;
    }
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String n = eq < 0 ? part : part.substring(0, eq);
      if (n.equals(name)) {
        return eq < 0 ? new byte[0] : percentDecode(part.substring(eq + 1), true);
      }
    }
    return null;
  }

  /**
   * Percent-decoding to bytes ({@code +} means space only in a query). Other characters are
   * the request's raw bytes (the server reads the request line as ISO-8859-1), so each stands
   * for its own byte; a character beyond that range (from elsewhere) is taken as UTF-8.
   */
  static byte[] percentDecode(String s, boolean plusIsSpace) {
    int n = s.length();
    byte[] out = new byte[n];
    int size = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= n) {
          throw KvException.badRequest("bad percent-encoding in '" + s + "'");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw KvException.badRequest("bad percent-encoding in '" + s + "'");
        }
        out[size++] = (byte) (hi * 16 + lo);
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        out[size++] = ' ';
      } else if (c < 256) {
        out[size++] = (byte) c;
      } else {
        byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out = Arrays.copyOf(out, out.length + utf8.length);
        System.arraycopy(utf8, 0, out, size, utf8.length);
        size += utf8.length;
      }
    }
    return size == out.length ? out : Arrays.copyOf(out, size);
  }

  /** Percent-encodes {@code bytes} for a path segment or query value. */
  static String percentEncode(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length + 8);
    for (byte b : bytes) {
      int c = b & 0xFF;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.forDigit(c >> 4, 16)).append(
            Character.forDigit(c & 15, 16));
      }
    }
    return out.toString();
  }
}
