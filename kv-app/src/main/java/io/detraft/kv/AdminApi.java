package io.detraft.kv;

import io.detraft.core.Membership;
import io.detraft.kv.HttpServer.Exchange;
import io.detraft.core.Status;
import io.detraft.io.NodeRunner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The admin half of the HTTP API:
 *
 * <pre>
 * GET    /v1/status           this node's view of every group: role, term, commit, applied,
 *                             leader, voters, learners
 * GET    /v1/members          the cluster: id, addresses and role of every node; removed ids
 * POST   /v1/members          {"id":N,"raft":"HOST:PORT","role":"voter"|"learner"|"witness"}
 *                             adds a node (start it afterwards with --join); every group
 *                             converges to it (a witness: {@link BookMirror})
 * DELETE /v1/members/N        removes node N from every group; N is never reused
 * POST   /v1/leader/transfer  {"to":N[,"group":G]} hands the groups this node leads to N
 * POST   /v1/snapshot         snapshots every group on this node now (and compacts its log)
 * GET    /v1/groups           the groups: hashed count, running here, stopped here, added
 * POST   /v1/groups           {"group":G} starts this node's replica of G (stopped here, or
 *                             added since); for a G the cluster does not have yet, adds it:
 *                             recorded in the address book with group 1's voters, every node
 *                             starts a replica (201)
 * DELETE /v1/groups/G         stops this node's replica of G, keeping its data
 * GET    /v1/snapshot/G       group G's snapshot, taken now, as an export file for disaster
 *                             recovery ({@link SnapshotFile}, streamed from the node's
 *                             snapshot file; {@code detraft snapshot export})
 * GET    /metrics             Prometheus text
 * </pre>
 *
 * <p>Membership changes are recorded in the replicated address book (group 1) and carried out
 * by each group's leader ({@link Reconciler}); the answer is 200 once this node sees every
 * group changed, 202 if that takes longer than a few seconds (it goes on).
 */
final class AdminApi {
  private static final long WAIT_NANOS = 10_000_000_000L;

  private final KvServer server;
  private final NodeRunner runner;
  private final Router router;
  private final AddressBook book;
  private final List<Long> groups;
  private final HttpApi api;
  private final Metrics metrics;

  AdminApi(KvServer server, NodeRunner runner, Router router, AddressBook book,
      List<Long> groups, HttpApi api, Metrics metrics) {
    this.server = server;
    this.runner = runner;
    this.router = router;
    this.book = book;
    this.groups = groups;
    this.api = api;
    this.metrics = metrics;
  }

  void register(HttpServer http) {
    http.route("/v1/status", e -> api.handle(e, (ex, start) -> status(ex)));
    // Listing the members stays open (a joining node and `detraft members` read it); every
    // change needs the admin token when the node has one.
    http.route("/v1/members", e -> api.handle(e, (ex, start) -> {
      if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
        api.requireAdmin(ex);
      }
      members(ex, start);
    }));
    http.route("/v1/leader/transfer", e -> api.handle(e, (ex, start) -> {
      api.requireAdmin(ex);
      transfer(ex, start);
    }));
    http.route("/v1/snapshot", e -> api.handle(e, (ex, start) -> {
      api.requireAdmin(ex);
      snapshot(ex, start);
    }));
    http.route("/v1/groups", e -> api.handle(e, (ex, start) -> {
      if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
        api.requireAdmin(ex);
      }
      groups(ex, start);
    }));
    http.route("/v1/snapshot/", e -> api.handle(e, (ex, start) -> {
      api.requireAdmin(ex);
      export(ex, start);
    }));
    // A witness node's copy of the address book (BookMirror): its own group 1 has no payloads.
    http.route(BookMirror.PATH, e -> api.handle(e, (ex, start) -> {
      api.requireAdmin(ex);
      if (runner.membership(1).isWitness(server.nodeId())) {
        throw new KvException(409, "witness", "node " + server.nodeId() + " is a witness of"
            + " group 1: it holds no address book of its own");
      }
      Http.json(ex, 200, BookMirror.answer(server.nodeId(), runner.status(1).applied(), book));
    }));
    http.route("/metrics", e -> api.handle(e, (ex, start) -> Http.send(ex, 200,
        "text/plain; version=0.0.4", metrics.render(server.nodeId(), runner, groups)
            .getBytes(StandardCharsets.UTF_8), 0)));
  }

  private void status(Exchange exchange) {
    List<Long> running = List.copyOf(groups); // groups start and stop meanwhile
    StringBuilder out = new StringBuilder(256 + running.size() * 160);
    // group_count is what keys hash over (clients compute groups from it), not what runs.
    out.append("{\"node\":").append(server.nodeId()).append(",\"cluster\":")
        .append(Json.quote(server.clusterId())).append(",\"running\":")
        .append(server.isRunning()).append(",\"group_count\":")
        .append(server.groupCount()).append(",\"groups\":[");
    boolean first = true;
    for (long g : running) {
      Status s;
      Membership m;
      try {
        s = runner.status(g);
        m = runner.membership(g);
      } catch (IllegalArgumentException stoppedMeanwhile) {
        continue;
      }
      out.append(first ? "" : ",").append("{\"group\":").append(g)
          .append(",\"role\":").append(Json.quote(s.role().name().toLowerCase()))
          .append(",\"term\":").append(s.term()).append(",\"commit\":").append(s.commit())
          .append(",\"applied\":").append(s.applied()).append(",\"leader\":")
          .append(s.leader()).append(",\"voters\":").append(ids(m.voters()))
          .append(",\"learners\":").append(ids(m.learners()))
          .append(",\"witnesses\":").append(ids(m.witnesses())).append('}');
      first = false;
    }
    Http.json(exchange, 200, out.append("]}").toString());
  }

  private void members(Exchange exchange, long start) {
    String path = exchange.rawPath();
    switch (exchange.method()) {
      case "GET" -> Http.json(exchange, 200, membersJson());
      case "POST" -> add(exchange, start);
      case "DELETE" -> {
        String id = path.substring(path.lastIndexOf('/') + 1);
        try {
          remove(exchange, start, Long.parseLong(id));
        } catch (NumberFormatException e) {
          throw KvException.badRequest("DELETE /v1/members/ID needs a numeric id");
        }
      }
      default -> throw new KvException(405, "method_not_allowed", "GET, POST or DELETE");
    }
  }

  String membersJson() {
    Membership m = runner.membership(1);
    TreeMap<Long, AddressBook.Node> nodes = new TreeMap<>(book.nodes());
    for (long id : m.members()) {
      nodes.putIfAbsent(id, new AddressBook.Node(id, null, null, null));
    }
    StringBuilder out = new StringBuilder("{\"cluster\":").append(Json.quote(server.clusterId()))
        .append(",\"groups\":").append(server.groupCount()).append(",\"members\":[");
    boolean first = true;
    for (AddressBook.Node n : nodes.values()) {
      if (book.isRemoved(n.id())) {
        continue;
      }
      String role = m.isWitness(n.id()) ? "witness" : m.isVoter(n.id()) ? "voter"
          : m.isLearner(n.id()) ? "learner" : "joining";
      out.append(first ? "" : ",").append("{\"id\":").append(n.id()).append(",\"raft\":")
          .append(n.raft() == null ? "null" : Json.quote(n.raft())).append(",\"http\":")
          .append(n.http() == null ? "null" : Json.quote(n.http())).append(",\"role\":")
          .append(Json.quote(role)).append(",\"desired_role\":")
          .append(n.role() == null ? "null" : Json.quote(n.role())).append('}');
      first = false;
    }
    out.append("],\"removed\":").append(ids(book.removed().keySet().stream()
        .mapToLong(Long::longValue).toArray()));
    return out.append('}').toString();
  }

  private void add(Exchange exchange, long start) {
    Map<String, Object> body;
    try {
      body = Json.parseObject(new String(Http.body(exchange, 4096), StandardCharsets.UTF_8));
    } catch (Json.ParseException e) {
      throw KvException.badRequest("the body is not a JSON object: " + e.getMessage());
    }
    if (!(body.get("id") instanceof Long id) || id <= 0) {
      throw KvException.badRequest("id must be a positive number");
    }
    String raft = body.get("raft") == null ? null : String.valueOf(body.get("raft"));
    if (raft == null) {
      throw KvException.badRequest("raft (HOST:PORT) is required");
    }
    try {
      Peers.address(raft);
    } catch (IllegalArgumentException e) {
      throw KvException.badRequest(e.getMessage());
    }
    String role = String.valueOf(body.getOrDefault("role", "voter"));
    if (!role.equals("voter") && !role.equals("learner") && !role.equals("witness")) {
      throw KvException.badRequest("role is voter, learner or witness");
    }
    Membership directory = runner.membership(1);
    int dataVoters = directory.voters().length - directory.witnesses().length;
    if (role.equals("witness") && dataVoters < 2) {
      // The core refuses it too (a witness next to one data voter could block every
      // election), but only once the book asks: say so now.
      throw new KvException(409, "witness_needs_data_voters", "a witness needs two data voters"
          + " beside it; the cluster has " + dataVoters + ": add a voter first");
    }
    if (book.isRemoved(id)) {
      throw new KvException(409, "id_removed", "node id " + id + " was removed; ids are "
          + "never reused");
    }
    AddressBook.Node known = book.node(id);
    if (runner.membership(1).isMember(id) || (known != null && known.role() != null
        && !(raft.equals(known.raft()) && role.equals(known.role())))) {
      throw new KvException(409, "id_in_use", "node id " + id + " is already in use");
    }
    // Address first, then role: by the time a leader sees the role, every node can dial it.
    CompletableFuture<byte[]> written = router.propose(1, Reconciler.systemPut(
            AddressBook.raftKey(id), raft))
        .thenCompose(r -> router.propose(1, Reconciler.systemPut(AddressBook.roleKey(id),
            role)));
    api.answer(exchange, "member_add", start, written.thenCompose(r -> waitFor(
            () -> groups.stream().allMatch(g -> runner.membership(g).isMember(id)))),
        (ex, done) -> Http.json(ex, done ? 200 : 202, "{\"id\":" + id + ",\"role\":"
            + Json.quote(role) + ",\"complete\":" + done + "}"));
  }

  private void remove(Exchange exchange, long start, long id) {
    Membership directory = runner.membership(1);
    if (!directory.isMember(id) && book.node(id) == null) {
      throw KvException.notFound("node " + id + " is not a member");
    }
    int dataVoters = directory.voters().length - directory.witnesses().length;
    if (directory.witnesses().length > 0 && dataVoters <= 2 && directory.isVoter(id)
        && !directory.isWitness(id)) {
      throw new KvException(409, "last_data_voters", "node " + id + " is one of the "
          + dataVoters + " data voters a group with a witness keeps (the witness holds no data"
          + " and never leads): add a voter first, or remove the witness");
    }
    CompletableFuture<byte[]> written = router.propose(1, Reconciler.systemPut(
        AddressBook.removedKey(id), "removed"));
    api.answer(exchange, "member_remove", start, written.thenCompose(r -> waitFor(
            () -> groups.stream().noneMatch(g -> runner.membership(g).isMember(id)))),
        (ex, done) -> Http.json(ex, done ? 200 : 202, "{\"id\":" + id + ",\"complete\":"
            + done + "}"));
  }

  /** Polls {@code condition} off the HTTP threads; completes true, or false after a while. */
  private static CompletableFuture<Boolean> waitFor(java.util.function.BooleanSupplier condition) {
    return CompletableFuture.supplyAsync(() -> {
      long deadline = System.nanoTime() + WAIT_NANOS;
      while (System.nanoTime() < deadline) {
        if (condition.getAsBoolean()) {
          return true;
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return condition.getAsBoolean();
    });
  }

  private void transfer(Exchange exchange, long start) {
    Map<String, Object> body;
    try {
      body = Json.parseObject(new String(Http.body(exchange, 4096), StandardCharsets.UTF_8));
    } catch (Json.ParseException e) {
      throw KvException.badRequest("the body is not a JSON object: " + e.getMessage());
    }
    if (!(body.get("to") instanceof Long to)) {
      throw KvException.badRequest("to (a node id) is required");
    }
    List<Long> targets = new ArrayList<>();
    if (body.get("group") instanceof Long g) {
      Status s = runner.status(g);
      if (s.role() != io.detraft.core.Role.LEADER) {
        throw new KvException(409, "not_leader", "this node does not lead group " + g,
            s.leader());
      }
      targets.add(g);
    } else {
      for (long g : groups) {
        if (runner.status(g).role() == io.detraft.core.Role.LEADER) {
          targets.add(g);
        }
      }
    }
    Map<Long, String> outcome = new TreeMap<>();
    CompletableFuture<?>[] all = targets.stream().map(g -> runner.transferLeadership(g, to)
        .handle((v, e) -> {
          synchronized (outcome) {
            outcome.put(g, e == null ? "ok" : Router.translate(e).getMessage());
          }
          return null;
        })).toArray(CompletableFuture[]::new);
    api.answer(exchange, "transfer", start, CompletableFuture.allOf(all), (ex, v) -> {
      StringBuilder out = new StringBuilder("{\"to\":" + to + ",\"groups\":{");
      synchronized (outcome) {
        outcome.forEach((g, r) -> out.append(out.charAt(out.length() - 1) == '{' ? "" : ",")
            .append('"').append(g).append("\":").append(Json.quote(r)));
      }
      Http.json(ex, 200, out.append("}}").toString());
    });
  }

  private void snapshot(Exchange exchange, long start) {
    if (!exchange.method().equals("POST")) {
      throw new KvException(405, "method_not_allowed", "use POST");
    }
    Map<Long, Long> indexes = new TreeMap<>();
    CompletableFuture<?>[] all = groups.stream().map(g -> runner.snapshot(g)
        .thenAccept(index -> {
          synchronized (indexes) {
            indexes.put(g, index);
          }
        })).toArray(CompletableFuture[]::new);
    api.answer(exchange, "snapshot", start, CompletableFuture.allOf(all), (ex, v) -> {
      StringBuilder out = new StringBuilder("{\"snapshots\":{");
      synchronized (indexes) {
        indexes.forEach((g, i) -> out.append(out.charAt(out.length() - 1) == '{' ? "" : ",")
            .append('"').append(g).append("\":").append(i));
      }
      Http.json(ex, 200, out.append("}}").toString());
    });
  }

  private void groups(Exchange exchange, long start) {
    String path = exchange.rawPath();
    switch (exchange.method()) {
      case "GET", "HEAD" -> Http.json(exchange, 200, groupsJson());
      case "POST" -> {
        Map<String, Object> body;
        try {
          body = Json.parseObject(new String(Http.body(exchange, 4096), StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
          throw KvException.badRequest("the body is not a JSON object: " + e.getMessage());
        }
        if (!(body.get("group") instanceof Long g) || g < 1 || g > MAX_GROUP_ID) {
          throw KvException.badRequest("group must be a number from 1 to " + MAX_GROUP_ID);
        }
        startOrAdd(exchange, start, g);
      }
      case "DELETE" -> {
        long g;
        try {
          g = Long.parseLong(path.substring(path.lastIndexOf('/') + 1));
        } catch (NumberFormatException e) {
          throw KvException.badRequest("DELETE /v1/groups/G needs a numeric group id");
        }
        api.answer(exchange, "group_stop", start, CompletableFuture.runAsync(
                () -> server.stopGroup(g), executor()),
            (ex, v) -> Http.json(ex, 200, "{\"group\":" + g + ",\"running\":false}"));
      }
      default -> throw new KvException(405, "method_not_allowed", "GET, POST or DELETE");
    }
  }

  /** Group ids a cluster may add: well above any hashed count, well below overflow. */
  static final long MAX_GROUP_ID = 1_000_000;

  /**
   * Starts this node's replica of {@code g}; a group the cluster does not have yet is first
   * recorded in the address book (through group 1's leader) with group 1's voters, so that
   * every node bootstraps it with the same membership and starts it on its own.
   */
  private void startOrAdd(Exchange exchange, long start, long g) {
    if (server.runs(g)) {
      throw new KvException(409, "already_running", "group " + g + " already runs on node "
          + server.nodeId());
    }
    CompletableFuture<Boolean> added;
    if (server.isGroup(g)) {
      added = CompletableFuture.completedFuture(false);
    } else {
      // A witness's id negated, as the codecs store it: the group starts with the same witness.
      long[] voters = runner.membership(1).votersWitnessesNegated();
      StringBuilder csv = new StringBuilder();
      for (long v : voters) {
        csv.append(csv.length() == 0 ? "" : ",").append(v);
      }
      added = router.propose(1, Reconciler.systemPut(AddressBook.groupKey(g), csv.toString()))
          .thenCompose(r -> waitFor(() -> server.isGroup(g)))
          .thenApply(known -> {
            if (!known) {
              throw new KvException(503, "timeout", "group " + g + " was recorded but this"
                  + " node has not applied the record yet; retry");
            }
            return true;
          });
    }
    CompletableFuture<Boolean> started = added.thenApplyAsync(created -> {
      try {
        server.startGroup(g);
      } catch (KvException e) {
        if (!created || !e.code.equals("already_running")) {
          throw e;
        } // the node's own sweep of added groups was quicker: it runs, as asked
      }
      return created;
    }, executor());
    api.answer(exchange, "group_start", start, started, (ex, created) -> Http.json(ex,
        created ? 201 : 200, "{\"group\":" + g + ",\"created\":" + created
            + ",\"running\":true,\"voters\":" + ids(runner.membership(g).voters()) + "}"));
  }

  String groupsJson() {
    StringBuilder out = new StringBuilder("{\"group_count\":").append(server.groupCount())
        .append(",\"running\":").append(ids(groups.stream().mapToLong(Long::longValue)
            .toArray()))
        .append(",\"stopped\":").append(ids(server.stoppedGroups().stream()
            .mapToLong(Long::longValue).toArray()))
        .append(",\"added\":").append(ids(book.addedGroups().keySet().stream()
            .mapToLong(Long::longValue).toArray()));
    return out.append('}').toString();
  }

  /** Group lifecycle work blocks (maps open, the Raft thread answers): off the HTTP thread. */
  private java.util.concurrent.Executor executor() {
    return server.workers();
  }

  /** GET /v1/snapshot/G: group G's newest snapshot, taken now, as an export file. */
  private void export(Exchange exchange, long start) {
    if (!exchange.method().equals("GET")) {
      throw new KvException(405, "method_not_allowed", "use GET");
    }
    String path = exchange.rawPath();
    long group;
    try {
      group = Long.parseLong(path.substring(path.lastIndexOf('/') + 1));
    } catch (NumberFormatException e) {
      throw KvException.badRequest("GET /v1/snapshot/G needs a numeric group");
    }
    if (runner.groups().contains(group) && runner.membership(group).isWitness(server.nodeId())) {
      throw new KvException(409, "witness", "node " + server.nodeId() + " is a witness of group "
          + group + ": its snapshots hold no data; export from a data replica");
    }
    // Streamed from the node's snapshot file, a piece at a time as the client takes it, by a
    // worker until the socket is full and by the selector thread after: never on the Raft
    // thread (the future completes there), never whole in memory.
    CompletableFuture<SnapshotFile.Stream> file = runner.exportSnapshot(group)
        .thenApplyAsync(stored -> {
          if (stored == null) {
            throw new KvException(409, "no_snapshot", "group " + group + " has applied nothing");
          }
          try {
            // The hashed group count, fixed with the cluster (an import checks it), not the
            // number of groups running here.
            return SnapshotFile.stream(server.clusterId(), server.nodeId(), server.groupCount(),
                stored);
          } catch (java.io.IOException e) {
            closeQuietly(stored);
            throw new java.io.UncheckedIOException(e);
          }
        }, executor());
    api.answer(exchange, "snapshot_export", start, file, (ex, stream) ->
        ex.respondStreamed(200, "application/octet-stream", stream.length(), stream.body()));
  }

  private static void closeQuietly(AutoCloseable file) {
    try {
      file.close();
    } catch (Exception e) {
      // Only reading it failed; nothing to undo.
    }
  }

  private static String ids(long[] ids) {
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < ids.length; i++) {
      out.append(i == 0 ? "" : ",").append(ids[i]);
    }
    return out.append(']').toString();
  }
}
