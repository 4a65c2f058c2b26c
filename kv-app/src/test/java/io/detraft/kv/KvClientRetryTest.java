package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The client's verdict on a write it gave up on, against a real HTTP server that answers as a
 * troubled node would: what one attempt learned (the write may have applied) is not forgotten
 * because a later attempt was refused outright.
 */
class KvClientRetryTest {

  @Test
  void anOutcomeOnceUnknownStaysUnknownThroughLaterRefusals() throws IOException {
    AtomicInteger writes = new AtomicInteger();
    HttpServer server = node(writes, "outcome_unknown", "not_leader");
    try (KvClient client = KvClient.connect(List.of("127.0.0.1:" + server.getAddress().getPort()),
        KvClient.Options.defaults().withOperationTimeout(Duration.ofMillis(500)))) {
      KvClientException e = assertThrows(KvClientException.class, () -> client.put("k", "v"));
      assertTrue(writes.get() >= 2, "retried: " + writes.get());
      assertTrue(e.outcomeUnknown(), "the first attempt may have applied: " + e.getMessage());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aWriteOnlyEverRefusedIsAKnownFailure() throws IOException {
    AtomicInteger writes = new AtomicInteger();
    HttpServer server = node(writes, "not_leader", "not_leader");
    try (KvClient client = KvClient.connect(List.of("127.0.0.1:" + server.getAddress().getPort()),
        KvClient.Options.defaults().withOperationTimeout(Duration.ofMillis(300)))) {
      KvClientException e = assertThrows(KvClientException.class, () -> client.put("k", "v"));
      assertEquals("not_leader", e.code());
      assertTrue(!e.outcomeUnknown(), "no attempt could have applied: " + e.getMessage());
    } finally {
      server.stop(0);
    }
  }

  /** One node of one group that answers the first write with {@code first}, then {@code rest}. */
  private static HttpServer node(AtomicInteger writes, String first, String rest)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/status", x -> answer(x, 200,
        "{\"group_count\":1,\"groups\":[{\"group\":1,\"leader\":1}]}"));
    server.createContext("/v1/members", x -> answer(x, 200, "{\"members\":[{\"id\":1,\"http\":"
        + "\"127.0.0.1:" + server.getAddress().getPort() + "\"}]}"));
    server.createContext("/v1/sessions", x -> answer(x, 200, "{\"client\":7}"));
    server.createContext("/v1/kv/", x -> {
      String code = writes.getAndIncrement() == 0 ? first : rest;
      answer(x, 503, "{\"code\":\"" + code + "\",\"message\":\"" + code + "\"}");
    });
    server.start();
    return server;
  }

  private static void answer(HttpExchange x, int status, String json) throws IOException {
    x.getRequestBody().readAllBytes();
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(status, body.length);
    x.getResponseBody().write(body);
    x.close();
  }
}
