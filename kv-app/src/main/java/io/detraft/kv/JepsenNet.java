package io.detraft.kv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real network of a {@code detraft test} run: one network namespace per node, each joined
 * by a veth pair to a bridge in the host namespace (which also carries the test's clients), so
 * a partition is a real packet drop. A cut link from A to B is a blackhole route to B's
 * address inside A's namespace (only iproute2 is needed; a one-way cut drops A's packets to B,
 * and with them A's acknowledgements of B's TCP segments). Delay and loss use {@code tc netem}
 * where the kernel has it.
 *
 * <p>Names carry the test process's pid ({@code dt<pid><letter>...}), so a later run can sweep
 * what a run killed with SIGKILL left behind ({@link #sweepStale}); interface names stay under
 * the kernel's 15 characters.
 */
final class JepsenNet implements JepsenNemesis.Links, AutoCloseable {
  private static final Pattern OURS = Pattern.compile("^dt(\\d+)[a-z]");
  private static int runs;

  private final String prefix;
  private final String subnet;
  private final int nodes;
  /** The cut links as "from>to" (1-based node numbers), so healing removes exactly them. */
  private final Set<String> cuts = new LinkedHashSet<>();
  private final Set<Integer> netem = new LinkedHashSet<>();
  private boolean created;

  private JepsenNet(String prefix, String subnet, int nodes) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.nodes = nodes;
  }

  /** Why namespaces cannot be used here, or null if they can (root and a working `ip netns`). */
  static String unavailableReason() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "not running as root";
    }
    String probe = "dt" + ProcessHandle.current().pid() + "z" + "probe";
    try {
      if (run(List.of("ip", "netns", "add", probe)) != 0) {
        return "`ip netns add` failed";
      }
      run(List.of("ip", "netns", "del", probe));
      return null;
    } catch (IOException e) {
      return "no `ip` command (install iproute2)";
    }
  }

  /** Creates the bridge and one namespace per node. Close it even if this throws. */
  static JepsenNet create(int nodes) throws IOException {
    String prefix;
    synchronized (JepsenNet.class) {
      prefix = "dt" + ProcessHandle.current().pid() + (char) ('a' + runs++ % 26);
    }
    String used = output(List.of("ip", "-o", "addr", "show"));
    int third = (int) (ProcessHandle.current().pid() * 7 + runs) % 250;
    while (used.contains("10.213." + third + ".")) {
      third = (third + 1) % 250;
    }
    JepsenNet net = new JepsenNet(prefix, "10.213." + third + ".", nodes);
    net.created = true;
    try {
      net.build();
    } catch (IOException | RuntimeException e) {
      net.close();
      throw e;
    }
    return net;
  }

  private void build() throws IOException {
    String bridge = prefix + "b";
    must("ip", "link", "add", bridge, "type", "bridge");
    must("ip", "addr", "add", subnet + "254/24", "dev", bridge);
    must("ip", "link", "set", bridge, "up");
    for (int i = 1; i <= nodes; i++) {
      String ns = namespace(i);
      must("ip", "netns", "add", ns);
      must("ip", "link", "add", prefix + "h" + i, "type", "veth", "peer", "name", prefix + "p" + i);
      must("ip", "link", "set", prefix + "p" + i, "netns", ns);
      must("ip", "link", "set", prefix + "h" + i, "master", bridge);
      must("ip", "link", "set", prefix + "h" + i, "up");
      must("ip", "netns", "exec", ns, "ip", "link", "set", prefix + "p" + i, "name", "eth0");
      must("ip", "netns", "exec", ns, "ip", "addr", "add", address(i) + "/24", "dev", "eth0");
      must("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up");
      must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
  }

  String prefix() {
    return prefix;
  }

  String namespace(int node) {
    return prefix + "n" + node;
  }

  /** Node {@code node}'s address on the bridge (1-based). */
  String address(int node) {
    return subnet + node;
  }

  /** The command prefix that runs a program inside node {@code node}'s namespace. */
  List<String> exec(int node) {
    return List.of("ip", "netns", "exec", namespace(node));
  }

  /** Drops every packet {@code from} sends to {@code to} (one way). */
  @Override
  public synchronized void cut(int from, int to) throws IOException {
    if (cuts.add(from + ">" + to)) {
      must("ip", "netns", "exec", namespace(from), "ip", "route", "add", "blackhole",
          address(to) + "/32");
    }
  }

  /** Removes every cut. */
  @Override
  public synchronized void healPartitions() throws IOException {
    for (String cut : new ArrayList<>(cuts)) {
      String[] ends = cut.split(">");
      run(List.of("ip", "netns", "exec", namespace(Integer.parseInt(ends[0])), "ip", "route",
          "del", "blackhole", address(Integer.parseInt(ends[1])) + "/32"));
      cuts.remove(cut);
    }
  }

  /** Whether this kernel has {@code tc netem} (probed on node 1, left clean). */
  boolean netemAvailable() throws IOException {
    List<String> add = new ArrayList<>(exec(1));
    add.addAll(List.of("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "1ms"));
    if (run(add) != 0) {
      return false;
    }
    List<String> del = new ArrayList<>(exec(1));
    del.addAll(List.of("tc", "qdisc", "del", "dev", "eth0", "root"));
    run(del);
    return true;
  }

  /** Delay, jitter and loss on everything node {@code node} sends. */
  synchronized void netem(int node, int delayMs, int jitterMs, int lossPercent)
      throws IOException {
    List<String> cmd = new ArrayList<>(exec(node));
    cmd.addAll(List.of("tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay",
        delayMs + "ms", jitterMs + "ms", "loss", lossPercent + "%"));
    must(cmd.toArray(String[]::new));
    netem.add(node);
  }

  synchronized void healNetem() throws IOException {
    for (int node : new ArrayList<>(netem)) {
      List<String> cmd = new ArrayList<>(exec(node));
      cmd.addAll(List.of("tc", "qdisc", "del", "dev", "eth0", "root"));
      run(cmd);
      netem.remove(node);
    }
  }

  /** Kills whatever still runs in the namespaces, deletes them and the bridge. Idempotent. */
  @Override
  public synchronized void close() {
    if (!created) {
      return;
    }
    created = false;
    for (int i = 1; i <= nodes; i++) {
      removeNamespace(namespace(i));
      quietly(List.of("ip", "link", "del", prefix + "h" + i)); // gone with the namespace, or now
    }
    quietly(List.of("ip", "link", "del", prefix + "b"));
  }

  /**
   * Removes namespaces and bridges of runs whose process is gone (a run killed with SIGKILL
   * cannot clean up after itself); returns what it removed.
   */
  static List<String> sweepStale() {
    List<String> removed = new ArrayList<>();
    try {
      for (String line : output(List.of("ip", "netns", "list")).split("\n")) {
        String name = line.split(" ")[0].trim();
        if (isStale(name)) {
          removeNamespace(name);
          removed.add(name);
        }
      }
      // The bridge, and the host ends of the veth pairs: the kernel removes those when their
      // namespace goes, but asynchronously, so they are deleted here too.
      for (String line : output(List.of("ip", "-o", "link", "show")).split("\n")) {
        String[] parts = line.split(":");
        String name = parts.length > 1 ? parts[1].trim().split("@")[0] : "";
        if (isStale(name)) {
          quietly(List.of("ip", "link", "del", name));
          removed.add(name);
        }
      }
    } catch (IOException e) {
      // No `ip`: nothing of ours can exist.
    }
    return removed;
  }

  /** Names of namespaces of this test process (for tests: none after a run). */
  static List<String> namespacesOf(long pid) throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : output(List.of("ip", "netns", "list")).split("\n")) {
      String name = line.split(" ")[0].trim();
      Matcher m = OURS.matcher(name);
      if (m.find() && Long.parseLong(m.group(1)) == pid) {
        names.add(name);
      }
    }
    for (String line : output(List.of("ip", "-o", "link", "show")).split("\n")) {
      String[] parts = line.split(":");
      if (parts.length > 1) {
        String name = parts[1].trim().split("@")[0];
        Matcher m = OURS.matcher(name);
        if (m.find() && Long.parseLong(m.group(1)) == pid) {
          names.add(name);
        }
      }
    }
    return names;
  }

  private static boolean isStale(String name) {
    Matcher m = OURS.matcher(name);
    return m.find() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
  }

  private static void removeNamespace(String ns) {
    try {
      for (String pid : output(List.of("ip", "netns", "pids", ns)).split("\\s+")) {
        if (!pid.isBlank()) {
          ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(p -> {
            quietly(List.of("kill", "-CONT", pid.trim()));
            p.destroyForcibly();
          });
        }
      }
    } catch (IOException | RuntimeException e) {
      // Deleting the namespace below is what matters.
    }
    quietly(List.of("ip", "netns", "del", ns));
  }

  private static void must(String... cmd) throws IOException {
    List<String> list = List.of(cmd);
    ProcessBuilder b = new ProcessBuilder(list).redirectErrorStream(true);
    Process p = b.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (waitFor(p) != 0) {
      throw new IOException(String.join(" ", list) + " failed: " + out);
    }
  }

  private static void quietly(List<String> cmd) {
    try {
      run(cmd);
    } catch (IOException e) {
      // Best effort: cleanup goes on with the next item.
    }
  }

  static int run(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return waitFor(p);
  }

  static String output(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    waitFor(p);
    return out;
  }

  private static int waitFor(Process p) throws IOException {
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + p.info().commandLine().orElse("?"));
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted");
    }
  }
}
