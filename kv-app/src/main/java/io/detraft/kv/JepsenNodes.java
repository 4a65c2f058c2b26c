package io.detraft.kv;

import java.io.IOException;
import java.net.ServerSocket;
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
 * node's network namespace when there is a {@link JepsenNet}, else on 127.0.0.1 with free
 * ports. Process faults act from outside: SIGKILL, SIGSTOP/SIGCONT, restart from the same data
 * directory. Every process is stopped by {@link #close()}; each also watches this JVM (through
 * {@link JepsenNodeMain}) and halts when it is gone.
 */
final class JepsenNodes implements AutoCloseable {
  static final int RAFT_PORT = 7000;
  static final int HTTP_PORT = 8000;

  private final Path dir;
  private final JepsenNet net;
  private final int groups;
  private final String plantBug;
  private final String[] raft;
  private final String[] http;
  private final Process[] processes;
  private final boolean[] paused;
  /** For status and admin requests of the harness itself (not the clients'). */
  private final HttpPool status = new HttpPool(Duration.ofSeconds(2), 2);

  /**
   * @param net the namespaces, or null to run every node on 127.0.0.1
   * @param plantBug a bug to plant in every server (see {@link JepsenNodeMain}), or null
   */
  JepsenNodes(Path dir, int nodes, int groups, JepsenNet net, String plantBug)
      throws IOException {
    this.dir = dir;
    this.net = net;
    this.groups = groups;
    this.plantBug = plantBug;
    raft = new String[nodes + 1];
    http = new String[nodes + 1];
    processes = new Process[nodes + 1];
    paused = new boolean[nodes + 1];
    for (int i = 1; i <= nodes; i++) {
      raft[i] = (net != null ? net.address(i) + ":" + RAFT_PORT : "127.0.0.1:" + freePort());
      http[i] = (net != null ? net.address(i) + ":" + HTTP_PORT : "127.0.0.1:" + freePort());
    }
  }

  int groups() {
    return groups;
  }

  int size() {
    return processes.length - 1;
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

  /** Starts a killed node again from its data directory. */
  synchronized void restart(int node) throws IOException {
    if (isRunning(node)) {
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
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Three servers share the machine with the clients: a small heap, one GC thread and the
    // C1 compiler only keep the JVMs from starving each other of CPU.
    cmd.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-XX:CICompilerCount=1", "-Xss512k"));
    cmd.addAll(List.of(
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true"));
    cmd.add("-D" + JepsenNodeMain.PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
    if (plantBug != null) {
      cmd.add("-D" + PlantedBug.PROPERTY + "=" + plantBug);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        JepsenNodeMain.class.getName()));
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
