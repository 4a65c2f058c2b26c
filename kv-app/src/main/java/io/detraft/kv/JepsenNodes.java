package io.detraft.kv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.time.Duration;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * The {@code detraft server} processes of a {@code detraft test} run: one JVM per node, each
 * with its own data directory and log file (appended to across restarts), started inside the
 * node's network namespace when there is a {@link JepsenNet}, else on loopback (Raft through
 * {@link JepsenRelays} when there are relays). Process faults act from outside: SIGKILL,
 * SIGSTOP/SIGCONT, restart from the same data directory; and membership changes as an operator
 * makes them, through the admin API: a node removed, wiped, and added back under a new id (a
 * slot keeps its addresses and data directory; its node id changes). Every process is stopped
 * by {@link #close()}; each also watches this JVM (through {@link JepsenNodeMain}) and halts
 * when it is gone.
 */
final class JepsenNodes implements AutoCloseable {
  static final int RAFT_PORT = 7000;
  static final int HTTP_PORT = 8000;

  private final Path dir;
  private final JepsenNet net;
  private final JepsenRelays relays;
  private final int groups;
  private final String plantBug;
  private final String[] raft;
  private final String[] http;
  private final Process[] processes;
  private final boolean[] paused;
  /**
   * The node id each slot runs under: the slot number until a membership fault removes the
   * node and adds it back under a new id (ids are never reused).
   */
  private final long[] ids;
  /** Slots whose node was removed from the cluster and wiped, until it is added back. */
  private final boolean[] removed;
  private long nextId;
  /** For status and admin requests of the harness itself (not the clients'). */
  private final HttpPool status = new HttpPool(Duration.ofSeconds(2), 2);
  /** Membership changes answer once every group changed (up to 10 s): a longer timeout. */
  private final HttpPool membership = new HttpPool(Duration.ofSeconds(15), 1);

  /**
   * @param net the namespaces, or null to run every node on loopback
   * @param relays with {@code net} null: the relays that carry the nodes' Raft traffic, or
   *     null for direct links on 127.0.0.1
   * @param plantBug a bug to plant in every server (see {@link JepsenNodeMain}), or null
   */
  JepsenNodes(Path dir, int nodes, int groups, JepsenNet net, JepsenRelays relays,
      String plantBug) throws IOException {
    this.dir = dir;
    this.net = net;
    this.relays = relays;
    this.groups = groups;
    this.plantBug = plantBug;
    raft = new String[nodes + 1];
    http = new String[nodes + 1];
    processes = new Process[nodes + 1];
    paused = new boolean[nodes + 1];
    ids = new long[nodes + 1];
    removed = new boolean[nodes + 1];
    nextId = nodes + 1;
    for (int i = 1; i <= nodes; i++) {
      ids[i] = i;
      raft[i] = net != null ? net.address(i) + ":" + RAFT_PORT
          : relays != null ? relays.raftAddress(i) : "127.0.0.1:" + Ports.free();
      http[i] = (net != null ? net.address(i) + ":" + HTTP_PORT : "127.0.0.1:" + Ports.free());
    }
  }

  int groups() {
    return groups;
  }

  int size() {
    return processes.length - 1;
  }

  /** The node id slot {@code node} runs under now (or will, once added back). */
  synchronized long id(int node) {
    return ids[node];
  }

  /** The id the next node added back will get. */
  synchronized long nextId() {
    return nextId;
  }

  /** HOST:PORT of node {@code node}'s HTTP API (1-based). */
  String http(int node) {
    return http[node];
  }

  List<String> httpEndpoints() {
    List<String> all = new ArrayList<>();
    for (int i = 1; i <= size(); i++) {
      all.add(http[i]);
    }
    return all;
  }

  /** Bootstraps every node of a new cluster. */
  void startAll() throws IOException {
    StringJoiner peers = new StringJoiner(",");
    for (int i = 1; i <= size(); i++) {
      peers.add(i + "=" + raft[i]);
    }
    for (int i = 1; i <= size(); i++) {
      start(i, List.of("server", "--id", String.valueOf(i), "--data-dir", dataDir(i).toString(),
          "--raft", raft[i], "--http", http[i], "--peers", peers.toString(), "--groups",
          String.valueOf(groups)));
    }
  }

  /** Starts a killed node again from its data directory (not one removed from the cluster). */
  synchronized void restart(int node) throws IOException {
    if (isRunning(node) || removed[node]) {
      return;
    }
    start(node, List.of("server", "--data-dir", dataDir(node).toString()));
  }

  synchronized boolean isRunning(int node) {
    return processes[node] != null && processes[node].isAlive();
  }

  synchronized boolean isPaused(int node) {
    return paused[node];
  }

  /** SIGKILL, and waits until the process is gone. */
  synchronized void kill(int node) {
    Process p = processes[node];
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    paused[node] = false;
    processes[node] = null;
  }

  /** SIGSTOP: the node keeps its sockets but answers nothing. */
  synchronized void pause(int node) throws IOException {
    if (isRunning(node) && !paused[node]) {
      signal(node, "-STOP");
      paused[node] = true;
    }
  }

  synchronized void resume(int node) throws IOException {
    if (paused[node]) {
      paused[node] = false;
      if (isRunning(node)) {
        signal(node, "-CONT");
      }
    }
  }

  /**
   * Resumes paused nodes and restarts stopped ones; returns the nodes that had exited without
   * being killed (a server that dies by itself is a finding: its log says why).
   */
  synchronized List<Integer> healAll() throws IOException {
    List<Integer> exited = new ArrayList<>();
    for (int i = 1; i <= size(); i++) {
      resume(i);
      if (removed[i]) {
        continue; // addBack brings it back, under its new id
      }
      if (processes[i] != null && !processes[i].isAlive()) {
        exited.add(i);
      }
      restart(i);
    }
    return exited;
  }

  /** Stops every node: SIGCONT, then SIGTERM, then SIGKILL after 10 s. Idempotent. */
  @Override
  public synchronized void close() {
    for (int i = 1; i <= size(); i++) {
      Process p = processes[i];
      if (p == null) {
        continue;
      }
      try {
        resume(i);
      } catch (IOException e) {
        // SIGKILL below still works on a stopped process.
      }
      p.destroy();
    }
    for (int i = 1; i <= size(); i++) {
      Process p = processes[i];
      if (p == null) {
        continue;
      }
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      processes[i] = null;
    }
    status.close();
    membership.close();
  }

  /**
   * What an operator does to replace a node's disk: {@code DELETE /v1/members/ID} through
   * another node's admin API, waits until no group has the node any more, stops it and wipes
   * its data directory. The slot stays out until {@link #addBack}, which gives it a new id.
   *
   * @return the admin API's answer and how long the removal took, in words
   */
  String removeMember(int node) throws IOException, InterruptedException {
    long id = id(node);
    long started = System.nanoTime();
    int answer = membershipRequest(node, "DELETE", "/v1/members/" + id, null)[0];
    // The answer is 200 once the node that was asked saw every group change, 202 if that
    // took longer; either way, wait until every other node sees it (or give up after 30 s:
    // wiping a node that some group still lists is safe, as its id never comes back).
    boolean gone = false;
    while (!gone && System.nanoTime() - started < 30_000_000_000L) {
      gone = true;
      for (int i = 1; i <= size(); i++) {
        if (i == node) {
          continue;
        }
        List<Map<?, ?>> groups = groupStatus(i);
        if (groups.isEmpty() && isRunning(i) && !isPaused(i)) {
          gone = false; // it did not answer: ask again
        }
        for (Map<?, ?> g : groups) {
          if (lists((List<?>) g.get("voters"), id) || lists((List<?>) g.get("learners"), id)) {
            gone = false;
          }
        }
      }
      if (!gone) {
        Thread.sleep(200);
      }
    }
    kill(node);
    synchronized (this) {
      removed[node] = true;
      ids[node] = nextId++;
    }
    deleteTree(dataDir(node));
    return String.format(java.util.Locale.ROOT, "HTTP %d, %s after %.1f s", answer,
        gone ? "gone from every group" : "STILL LISTED by some group",
        (System.nanoTime() - started) / 1e9);
  }

  /**
   * Adds a removed node back under its new id ({@code POST /v1/members} through another
   * node), then starts it with an empty data directory and {@code --join}. Does nothing if
   * the node was not removed.
   *
   * @return the admin API's answer in words, or null if there was nothing to do
   */
  String addBack(int node) throws IOException, InterruptedException {
    long id;
    synchronized (this) {
      if (!removed[node]) {
        return null;
      }
      id = ids[node];
    }
    int[] answer = membershipRequest(node, "POST", "/v1/members", "{\"id\":" + id
        + ",\"raft\":\"" + raft[node] + "\",\"role\":\"voter\"}");
    int via = answer[1]; // it answered: the new node learns the cluster from it
    synchronized (this) {
      start(node, List.of("server", "--id", String.valueOf(id), "--data-dir",
          dataDir(node).toString(), "--raft", raft[node], "--http", http[node], "--join",
          http[via]));
      removed[node] = false;
    }
    return "HTTP " + answer[0];
  }

  private static boolean lists(List<?> ids, long id) {
    return ids != null && ids.stream().anyMatch(o -> ((Number) o).longValue() == id);
  }

  /**
   * Sends a membership change to the first other node that takes it (2xx), trying them in
   * turn for up to 60 s; the last status (-1: none answered) and the node asked last.
   */
  private int[] membershipRequest(int node, String method, String path, String body)
      throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    int answer = -1;
    int via = node % size() + 1;
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      via = (node + attempt % (size() - 1)) % size() + 1; // every other node in turn
      if (isRunning(via) && !isPaused(via)) {
        try {
          answer = membership.send(Peers.address(http[via]), method, path, Map.of(),
              body == null ? null : body.getBytes(java.nio.charset.StandardCharsets.UTF_8))
              .status();
        } catch (IOException | RuntimeException e) {
          answer = -1;
        }
        if (answer >= 200 && answer < 300) {
          return new int[] {answer, via};
        }
      }
      Thread.sleep(250);
    }
    return new int[] {answer, via};
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (java.util.stream.Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** The pids of the server JVMs still alive (for tests). */
  synchronized List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    for (int i = 1; i <= size(); i++) {
      if (isRunning(i)) {
        pids.add(processes[i].pid());
      }
    }
    return pids;
  }

  Path dataDir(int node) {
    return dir.resolve("n" + node).resolve("data");
  }

  Path logFile(int node) {
    return dir.resolve("n" + node).resolve("node.log");
  }

  /**
   * Each group's leader as the leaders themselves say (the highest term wins when a deposed
   * leader has not heard yet); groups without one are missing. Asks every running, unpaused
   * node, with a short timeout.
   */
  Map<Long, Integer> leaders() {
    Map<Long, Integer> leaders = new TreeMap<>();
    Map<Long, Long> terms = new TreeMap<>();
    for (int i = 1; i <= size(); i++) {
      List<Map<?, ?>> groups = groupStatus(i);
      for (Map<?, ?> g : groups) {
        long group = ((Number) g.get("group")).longValue();
        long term = ((Number) g.get("term")).longValue();
        if ("leader".equals(g.get("role")) && term > terms.getOrDefault(group, -1L)) {
          terms.put(group, term);
          leaders.put(group, i);
        }
      }
    }
    return leaders;
  }

  /**
   * Whether every node runs and reports a leader for each of the {@code groups} groups, and
   * they agree.
   */
  boolean ready() {
    Map<Long, Long> seen = new TreeMap<>();
    for (int i = 1; i <= size(); i++) {
      List<Map<?, ?>> groups = groupStatus(i);
      if (groups.size() != this.groups) {
        return false;
      }
      for (Map<?, ?> g : groups) {
        long leader = ((Number) g.get("leader")).longValue();
        Long before = seen.putIfAbsent(((Number) g.get("group")).longValue(), leader);
        if (leader == 0 || (before != null && before != leader)) {
          return false;
        }
      }
    }
    return true;
  }

  /** The "groups" of node {@code node}'s /v1/status, or none if it does not answer. */
  List<Map<?, ?>> groupStatus(int node) {
    if (!isRunning(node) || isPaused(node)) {
      return List.of();
    }
    try {
      HttpPool.Response r = status.send(Peers.address(http[node]), "GET", "/v1/status",
          Map.of(), null);
      if (r.status() != 200) {
        return List.of();
      }
      List<Map<?, ?>> out = new ArrayList<>();
      for (Object o : (List<?>) Json.parseObject(r.text()).get("groups")) {
        out.add((Map<?, ?>) o);
      }
      return out;
    } catch (IOException | Json.ParseException | RuntimeException e) {
      return List.of();
    }
  }

  /** POSTs {@code body} to node {@code node}'s admin API; the status, or -1 if unreachable. */
  int admin(int node, String path, String body) {
    try {
      return status.send(Peers.address(http[node]), "POST", path, Map.of(),
          body.getBytes(java.nio.charset.StandardCharsets.UTF_8)).status();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private void start(int node, List<String> serverArgs) throws IOException {
    Files.createDirectories(logFile(node).getParent());
    List<String> cmd = new ArrayList<>();
    if (net != null) {
      cmd.addAll(net.exec(node));
    }
    // Three servers share the machine with the clients: a small heap, one GC thread and the
    // C1 compiler only keep the JVMs from starving each other of CPU.
    List<String> jvm = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xss512k"));
    if (plantBug != null) {
      jvm.add("-D" + PlantedBug.PROPERTY + "=" + plantBug);
    }
    if (relays != null) { // its own view of the others' Raft addresses: the relays
      jvm.add("-Djdk.net.hosts.file=" + JepsenRelays.hostsFile(dir, node).toAbsolutePath());
    }
    cmd.addAll(JepsenNodeMain.command(jvm));
    cmd.addAll(serverArgs);
    Files.writeString(logFile(node), "=== " + java.time.Instant.now() + " " + String.join(" ",
        cmd) + "\n", java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    processes[node] = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(node).toFile()))
        .redirectInput(ProcessBuilder.Redirect.PIPE)
        .start();
    paused[node] = false;
  }

  private void signal(int node, String signal) throws IOException {
    JepsenNet.run(List.of("kill", signal, String.valueOf(processes[node].pid())));
  }
}
