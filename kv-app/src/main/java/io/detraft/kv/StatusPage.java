package io.detraft.kv;

import io.detraft.core.Status;
import io.detraft.io.NodeRunner;
import io.detraft.kv.HttpServer.Exchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The operator's page: {@code GET /ui} serves one self-contained HTML page (no external
 * script, style or font) that refreshes itself every second from
 * {@code GET /v1/ui/cluster} and this node's {@code GET /metrics}.
 *
 * <p>{@code /v1/ui/cluster} is this node's view of the cluster: every member of the address
 * book with its own {@code /v1/status} (fetched from it, 1 s timeout; a node that does not
 * answer is shown as such), so the page can show each group's leader, term, commit and
 * applied indexes on every node, and each follower's lag behind its leader; plus the recent
 * leadership changes this node saw. The fetches are asynchronous: the selector thread never
 * waits for them.
 */
final class StatusPage {
  /** How many leadership changes the page lists. */
  static final int CHANGES_KEPT = 100;

  private final KvServer server;
  private final NodeRunner runner;
  private final AddressBook book;
  private final List<Long> groups;
  private final HttpClient client = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(1)).build();
  private final byte[] page;
  /** Last (term, leader) seen per group; guarded by this. */
  private final Map<Long, long[]> seen = new HashMap<>();
  /** Newest last; guarded by this. */
  private final ArrayDeque<String> changes = new ArrayDeque<>();

  StatusPage(KvServer server, NodeRunner runner, AddressBook book, List<Long> groups) {
    this.server = server;
    this.runner = runner;
    this.book = book;
    this.groups = groups;
    try (InputStream in = StatusPage.class.getResourceAsStream("status-page.html")) {
      this.page = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void register(HttpServer http, HttpApi api) {
    http.route("/ui", e -> api.handle(e, (ex, start) -> {
      requireGet(ex);
      Http.send(ex, 200, "text/html; charset=utf-8", page, 0);
    }));
    http.route("/v1/ui/cluster", e -> api.handle(e, (ex, start) -> cluster(ex)));
  }

  private static void requireGet(Exchange exchange) {
    if (!exchange.method().equals("GET") && !exchange.method().equals("HEAD")) {
      throw new KvException(405, "method_not_allowed", "GET");
    }
  }

  /**
   * Notes leadership changes in this node's view (run by the server's timer, and on every
   * request of the page, so a change is caught within a timer period).
   */
  synchronized void sample() {
    if (!runner.isRunning()) {
      return;
    }
    for (long g : groups) {
      Status s;
      try {
        s = runner.status(g);
      } catch (RuntimeException e) {
        return; // stopping: the timer must not die of it (a thrown task is never run again)
      }
      long[] before = seen.get(g);
      if (before != null && before[0] == s.term() && before[1] == s.leader()) {
        continue;
      }
      seen.put(g, new long[] {s.term(), s.leader()});
      if (s.leader() == 0 && (before == null || before[1] == 0)) {
        continue; // still no leader known (an election under way): not a change yet
      }
      changes.addLast("{\"at\":" + Json.quote(Instant.now().toString()) + ",\"group\":" + g
          + ",\"term\":" + s.term() + ",\"leader\":" + s.leader() + ",\"previous_leader\":"
          + (before == null ? 0 : before[1]) + "}");
      while (changes.size() > CHANGES_KEPT) {
        changes.removeFirst();
      }
    }
  }

  private synchronized String changesJson() {
    return "[" + String.join(",", changes) + "]";
  }

  private void cluster(Exchange exchange) {
    requireGet(exchange);
    sample();
    List<AddressBook.Node> nodes = new ArrayList<>();
    for (AddressBook.Node n : book.nodes().values()) {
      if (!book.isRemoved(n.id())) {
        nodes.add(n);
      }
    }
    if (nodes.stream().noneMatch(n -> n.id() == server.nodeId())) {
      // Not yet in the address book (a fresh node): still show what this node knows.
      nodes.add(0, new AddressBook.Node(server.nodeId(), null,
          Peers.format(server.httpAddress()), null));
    }
    List<CompletableFuture<String>> statuses = new ArrayList<>();
    for (AddressBook.Node n : nodes) {
      statuses.add(status(n.http()));
    }
    CompletableFuture.allOf(statuses.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
      StringBuilder out = new StringBuilder("{\"node\":").append(server.nodeId())
          .append(",\"cluster\":").append(Json.quote(server.clusterId()))
          .append(",\"group_count\":").append(groups.size())
          .append(",\"leader_changes\":").append(changesJson()).append(",\"nodes\":[");
      for (int i = 0; i < nodes.size(); i++) {
        AddressBook.Node n = nodes.get(i);
        String status = statuses.get(i).getNow(null);
        out.append(i == 0 ? "" : ",").append("{\"id\":").append(n.id()).append(",\"raft\":")
            .append(n.raft() == null ? "null" : Json.quote(n.raft())).append(",\"http\":")
            .append(n.http() == null ? "null" : Json.quote(n.http()))
            .append(",\"desired_role\":").append(n.role() == null ? "null" : Json.quote(n.role()))
            .append(",\"status\":").append(status == null ? "null" : status).append('}');
      }
      Http.json(exchange, 200, out.append("]}").toString());
    });
  }

  /** A node's {@code /v1/status} JSON, or null if it does not answer 200 within a second. */
  private CompletableFuture<String> status(String http) {
    if (http == null) {
      return CompletableFuture.completedFuture(null);
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + http + "/v1/status"))
        .timeout(Duration.ofSeconds(1)).GET().build();
    return client.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .handle((response, failure) -> failure == null && response.statusCode() == 200
            && response.body().startsWith("{") ? response.body() : null);
  }
}
