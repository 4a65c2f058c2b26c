package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The HTTP/1.1 server on raw sockets: framing, keep-alive, pipelining, refusals, slow readers. */
@Timeout(30)
class HttpServerTest {
  private static final int MAX_BODY = 1000;
  private HttpServer server;
  private volatile byte[] big;

  @BeforeEach
  void start() throws IOException {
    server = new HttpServer(new InetSocketAddress("127.0.0.1", 0), 16, MAX_BODY, 300, "test-http");
    // Echoes method, path, query, a header and the body.
    server.route("/echo", e -> e.respond(200, "text/plain", (e.method() + " " + e.rawPath()
        + " " + e.rawQuery() + " " + e.header("x-thing") + " " + new String(e.body(),
        StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8), 0));
    // Answers later, from another thread.
    server.route("/later", e -> CompletableFuture.runAsync(() -> e.respond(503, Http.JSON,
        "{}".getBytes(StandardCharsets.UTF_8), 7), CompletableFuture.delayedExecutor(50,
        TimeUnit.MILLISECONDS)));
    server.route("/big", e -> e.respond(200, Http.BYTES, big, 0));
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(server.address());
    s.setSoTimeout(10_000);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** Reads one answer: status line, headers (lower-cased names) and a Content-Length body. */
  private record Answer(int status, Map<String, String> headers, String body) {}

  private static Answer read(InputStream in) throws IOException {
    return read(in, false);
  }

  private static Answer read(InputStream in, boolean head) throws IOException {
    String status = line(in);
    java.util.TreeMap<String, String> headers = new java.util.TreeMap<>();
    for (String l; !(l = line(in)).isEmpty(); ) {
      int colon = l.indexOf(':');
      headers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
    }
    int length = head ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    assertEquals(length, body.length, "body cut short");
    return new Answer(Integer.parseInt(status.substring(9, 12)), headers,
        new String(body, StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new java.io.EOFException("closed after " + out);
      }
      out.write(c);
    }
    String s = out.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  @Test
  void keepAliveAndPipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (Socket s = connect()) {
      send(s, "PUT /echo/a?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing: one\r\nContent-Length: 3\r\n\r\nabc");
      Answer first = read(s.getInputStream());
      assertEquals(200, first.status());
      assertEquals("PUT /echo/a x=1 one abc", first.body());
      assertTrue(first.headers().containsKey("date"));
      // Three at once, the last one slow: the answers keep the order of the requests.
      send(s, "GET /later HTTP/1.1\r\n\r\nGET /echo/b HTTP/1.1\r\n\r\n"
          + "POST /echo/c HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
      Answer later = read(s.getInputStream());
      assertEquals(503, later.status());
      assertEquals("7", later.headers().get("detraft-leader"));
      assertEquals("GET /echo/b null null ", read(s.getInputStream()).body());
      assertEquals("POST /echo/c null null hi", read(s.getInputStream()).body());
    }
  }

  @Test
  void chunkedBodiesAndExpectContinue() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n");
      send(s, "A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n");
      assertEquals("POST /echo null null abc0123456789", read(s.getInputStream()).body());
      send(s, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
      assertEquals("HTTP/1.1 100 Continue", line(s.getInputStream()));
      assertEquals("", line(s.getInputStream()));
      send(s, "body");
      assertEquals("POST /echo null null body", read(s.getInputStream()).body());
    }
  }

  @Test
  void closeWhenAskedAndForHttp10() throws Exception {
    for (String request : new String[] {"GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /echo HTTP/1.0\r\n\r\n"}) {
      try (Socket s = connect()) {
        send(s, request);
        Answer a = read(s.getInputStream());
        assertEquals(200, a.status());
        assertEquals("close", a.headers().get("connection"));
        assertEquals(-1, s.getInputStream().read(), "closed after the answer");
      }
    }
    try (Socket s = connect()) {
      send(s, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertEquals(200, read(s.getInputStream()).status());
      send(s, "HEAD /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      Answer head = read(s.getInputStream(), true);
      assertEquals(200, head.status());
      assertTrue(Integer.parseInt(head.headers().get("content-length")) > 0);
    }
  }

  @Test
  void badRequestsAreRefusedAndClosed() throws Exception {
    String[][] cases = {
        {"NONSENSE\r\n\r\n", "400"},
        {"GET /echo HTTP/2.0\r\n\r\n", "505"},
        {"GET /echo HTTP/1.1\r\nBad Header: x\r\n\r\n", "400"},
        {"POST /echo HTTP/1.1\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n\r\n", "413"},
        {"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "400"},
        {"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
        {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"},
        {"GET /echo HTTP/1.1\r\nX: " + "y".repeat(HttpServer.MAX_HEAD_BYTES) + "\r\n\r\n", "431"},
    };
    for (String[] c : cases) {
      try (Socket s = connect()) {
        send(s, c[0]);
        Answer a = read(s.getInputStream());
        assertEquals(Integer.parseInt(c[1]), a.status(), c[0].substring(0, Math.min(40, c[0].length())) + ": " + a);
        assertTrue(a.body().startsWith("{\"code\":"), a.body());
        assertEquals(-1, s.getInputStream().read(), "closed after the refusal");
      }
    }
    try (Socket s = connect()) {
      send(s, "GET /nowhere HTTP/1.1\r\n\r\n");
      assertEquals(404, read(s.getInputStream()).status());
      send(s, "GET /echo HTTP/1.1\r\n\r\n"); // still open
      assertEquals(200, read(s.getInputStream()).status());
    }
  }

  @Test
  void aLargeAnswerToASlowReaderNeverBlocksTheResponder() throws Exception {
    big = new byte[16 << 20];
    Arrays.fill(big, (byte) 'x');
    big[big.length - 1] = 'y';
    try (Socket s = connect()) {
      send(s, "GET /big HTTP/1.1\r\n\r\nGET /echo HTTP/1.1\r\n\r\n");
      Thread.sleep(300); // the selector thread answered; the socket buffers are full by now
      Answer a = read(s.getInputStream());
      assertEquals(big.length, a.body().length());
      assertTrue(a.body().endsWith("xy"));
      assertEquals(200, read(s.getInputStream()).status(), "the pipelined one follows");
    }
  }

  @Test
  void idleConnectionsAreClosed() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /echo HTTP/1.1\r\n\r\n");
      assertEquals(200, read(s.getInputStream()).status());
      long start = System.nanoTime();
      assertEquals(-1, s.getInputStream().read());
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }
  }

  @Test
  void theClientPoolTalksToIt() throws Exception {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(5), 2)) {
      for (int i = 0; i < 3; i++) {
        HttpPool.Response r = pool.send(server.address(), "PUT", "/echo/k?v=" + i,
            Map.of("X-Thing", "t"), ("b" + i).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.status());
        assertEquals("PUT /echo/k v=" + i + " t b" + i, r.text());
      }
      HttpPool.Response later = pool.send(server.address(), "GET", "/later", Map.of(), null);
      assertEquals(503, later.status());
      assertEquals(7, later.leader());
      Thread.sleep(1500); // the server closes the pooled connection as idle
      assertEquals(200, pool.send(server.address(), "GET", "/echo", Map.of(), null).status(),
          "a stale pooled connection is replaced");
    }
  }

  @Test
  void theClientTimesOut() throws Exception {
    server.route("/never", e -> { });
    try (HttpPool pool = new HttpPool(Duration.ofMillis(200), 2)) {
      long start = System.nanoTime();
      java.net.SocketTimeoutException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.net.SocketTimeoutException.class,
          () -> pool.send(server.address(), "GET", "/never", Map.of(), null));
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis >= 200 && millis < 3000, millis + " ms: " + e);
    }
  }

  @Test
  void percentDecodingKeepsRawBytes() {
    // The server reads the request line as ISO-8859-1: a raw UTF-8 "é" arrives as two chars.
    String raw = new String("a%20b+\u00e9".getBytes(StandardCharsets.UTF_8),
        StandardCharsets.ISO_8859_1);
    org.junit.jupiter.api.Assertions.assertArrayEquals("a b \u00e9".getBytes(
        StandardCharsets.UTF_8), Http.percentDecode(raw, true));
    org.junit.jupiter.api.Assertions.assertArrayEquals("a b+\u00e9".getBytes(
        StandardCharsets.UTF_8), Http.percentDecode(raw, false));
    org.junit.jupiter.api.Assertions.assertThrows(KvException.class,
        () -> Http.percentDecode("%4", false));
  }
}
