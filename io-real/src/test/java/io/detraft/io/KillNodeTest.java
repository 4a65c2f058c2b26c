package io.detraft.io;

import static io.detraft.io.ClusterTest.awaitSameHistory;
import static io.detraft.io.ClusterTest.proposeAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.detraft.core.Role;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hard kill in a real cluster: node 3 of three runs in a child JVM ({@link KillNodeChild}),
 * is made the leader, and is SIGKILLed (no close, no fsync, no shutdown hook) while proposals
 * sent through it are in flight. The two nodes in this JVM must keep committing under a new
 * leader; node 3, restarted here from the data directory the killed process left, must catch up
 * and apply every entry acknowledged to the test, before or after the kill, once and in the same
 * order as the others.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class KillNodeTest {
  private static final Duration TICK = Duration.ofMillis(10);
  private static final Duration WAIT = Duration.ofSeconds(8);
  private static final long GROUP = LocalCluster.GROUP;
  private static final long CHILD = 3;
  /** Acknowledged through the child before the stream that the kill interrupts. */
  private static final int BEFORE = 50;
  /** Acknowledged in the stream before the kill; then a burst goes out and the kill follows. */
  private static final int STREAMED = 30;
  private static final int BURST = 20;
  /** Commands proposed after the kill are cmd-AFTER.. (ClusterTest's naming). */
  private static final int AFTER = 1_000_000;

  @TempDir Path dir;

  @Test
  void aSigkilledLeaderRestartsFromItsDataDirAndAppliesEveryAcknowledgedEntry() throws Exception {
    Path root = dir.resolve("cluster");
    try (LocalCluster cluster = new LocalCluster(root, 3, TICK, Set.of(1L, 2L))) {
      ChildNode child = new ChildNode(root, cluster, dir.resolve("child.out"));
      Report report;
      List<String> sent = new ArrayList<>();
      long killedInTerm;
      try {
        cluster.setAddress(CHILD, new InetSocketAddress("127.0.0.1", child.awaitPort()));
        makeTheChildLead(cluster);

        for (int i = 0; i < BEFORE; i++) {
          sent.add(child.propose("cmd-" + i));
        }
        child.awaitAcks(BEFORE);
        // A steady stream, until some of it is acknowledged; then a burst and at once the kill.
        int next = BEFORE;
        for (long deadline = System.nanoTime() + WAIT.toNanos();
            child.report().acked.size() < BEFORE + STREAMED; ) {
          assertTrue(System.nanoTime() < deadline, "the child stopped acknowledging: "
              + child.report().failed);
          for (int i = 0; i < 5; i++) {
            sent.add(child.propose("cmd-" + next++));
          }
          Thread.sleep(2);
        }
        for (int i = 0; i < BURST; i++) {
          sent.add(child.propose("cmd-" + next++));
        }
        killedInTerm = cluster.runner(1).status(GROUP).term();
        child.kill(); // SIGKILL
        report = child.report(); // complete: the child is dead
      } finally {
        child.destroy();
      }
      assertTrue(report.failed.isEmpty(), "proposals failed before the kill: " + report.failed);
      for (int i = 0; i < BEFORE + STREAMED; i++) {
        assertTrue(report.acked.containsKey("cmd-" + i), "cmd-" + i + " was not acknowledged");
      }
      int inFlight = sent.size() - report.acked.size();
      assertTrue(inFlight > 0, "nothing was in flight at the kill");
      // What the child acknowledged, in log order.
      List<String> acknowledged = new ArrayList<>(report.acked.keySet());
      acknowledged.sort(Comparator.comparing(report.acked::get));

      // The survivors elect a new leader and keep committing without node 3.
      long leader = cluster.awaitLeader(WAIT);
      assertNotEquals(CHILD, leader);
      assertTrue(cluster.runner(leader).status(GROUP).term() > killedInTerm);
      proposeAll(cluster, AFTER, AFTER + 50);
      awaitSameHistory(cluster, cluster.machine(cluster.awaitLeader(WAIT)).count());
      assertTrue(cluster.machine(1).applied().containsAll(acknowledged),
          "an entry acknowledged by the killed leader is lost");

      // Node 3 comes back from what the killed process left on disk, and catches up.
      cluster.restart(CHILD);
      proposeAll(cluster, AFTER + 50, AFTER + 60);
      List<String> proposed = new ArrayList<>(sent);
      for (int i = AFTER; i < AFTER + 60; i++) {
        acknowledged.add("cmd-" + i); // proposeAll checked every answer
        proposed.add("cmd-" + i);
      }
      long last = cluster.machine(cluster.awaitLeader(WAIT)).count();
      awaitSameHistory(cluster, (int) last); // nodes 1, 2 and 3 applied the same sequence

      List<String> applied = cluster.machine(CHILD).applied();
      assertEquals(applied.size(), new HashSet<>(applied).size(), "an entry applied twice");
      assertTrue(new HashSet<>(proposed).containsAll(applied),
          "an entry nobody proposed applied");
      assertInOrder(acknowledged, applied);
      assertEquals(0, cluster.machine(CHILD).restores(), "caught up by snapshot, not by log");
      int committedInFlight = 0;
      for (String command : sent) {
        if (!report.acked.containsKey(command) && applied.contains(command)) {
          committedInFlight++;
        }
      }
      System.out.println("KillNodeTest: " + report.acked.size() + " acknowledged by the child, "
          + inFlight + " in flight at the kill (" + committedInFlight + " of them committed), "
          + applied.size() + " applied on every node");
    }
  }

  /** {@code expected} is a subsequence of {@code applied}. */
  private static void assertInOrder(List<String> expected, List<String> applied) {
    int at = 0;
    for (String command : expected) {
      int found = applied.subList(at, applied.size()).indexOf(command);
      if (found < 0) {
        fail(command + " is missing or out of order in the restarted node's history");
      }
      at += found + 1;
    }
  }

  /** Transfers the leadership to the child until both nodes here follow it. */
  private static void makeTheChildLead(LocalCluster cluster) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      boolean followed = true;
      for (long id = 1; id <= 2; id++) {
        var status = cluster.runner(id).status(GROUP);
        followed &= status.role() == Role.FOLLOWER && status.leader() == CHILD;
        if (status.role() == Role.LEADER) {
          try {
            cluster.runner(id).transferLeadership(GROUP, CHILD).get(2, TimeUnit.SECONDS);
          } catch (ExecutionException | TimeoutException e) {
            // not caught up yet, or the transfer raced an election: try again
          }
        }
      }
      if (followed) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "node 3 did not become the leader");
      Thread.sleep(10);
    }
  }

  /** What the child reported, complete lines only. */
  private static final class Report {
    int port = -1;
    /** Command to the index it was applied at. */
    final Map<String, Long> acked = new LinkedHashMap<>();
    final Map<String, String> failed = new LinkedHashMap<>();
  }

  /** Node 3 in its own JVM: commands on its stdin, reports in a file (see WalCrashTest). */
  private static final class ChildNode {
    private final Process process;
    private final Path output;
    private final BufferedWriter stdin;

    ChildNode(Path root, LocalCluster cluster, Path output) throws IOException {
      this.output = output;
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
          "-cp", System.getProperty("java.class.path"), KillNodeChild.class.getName(),
          root.toString(), "3", Long.toString(CHILD), Long.toString(TICK.toMillis())));
      for (long id = 1; id <= 2; id++) {
        InetSocketAddress a = cluster.address(id);
        command.add(id + "=" + a.getHostString() + ":" + a.getPort());
      }
      Files.createFile(output);
      process = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(output.toFile())
          .start();
      stdin = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(),
          StandardCharsets.UTF_8));
    }

    int awaitPort() throws Exception {
      LocalCluster.await(() -> report().port > 0 || !process.isAlive(), WAIT, "the child");
      assertTrue(process.isAlive(), "the child died at start");
      return report().port;
    }

    String propose(String command) throws IOException {
      stdin.write(command);
      stdin.newLine();
      stdin.flush();
      return command;
    }

    void awaitAcks(int count) throws InterruptedException {
      LocalCluster.await(() -> report().acked.size() + report().failed.size() >= count, WAIT,
          count + " answers from the child");
      assertTrue(report().failed.isEmpty(), "proposals failed: " + report().failed);
    }

    void kill() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL: no shutdown hooks, no close(), no fsync
      assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the child did not die");
    }

    void destroy() {
      process.destroyForcibly();
    }

    Report report() {
      Report report = new Report();
      List<String> lines;
      try {
        lines = Files.readAllLines(output, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      for (String line : lines) {
        if (!line.endsWith(".")) {
          break; // being written, or cut short by the kill
        }
        String[] words = line.substring(0, line.length() - 1).split(" ");
        switch (words[0]) {
          case "port" -> report.port = Integer.parseInt(words[1]);
          case "ok" -> report.acked.put(words[1], Long.parseLong(words[2]));
          case "fail" -> report.failed.put(words[1], words[2] + " unknown=" + words[3]);
          default -> throw new AssertionError("unexpected child output: " + line);
        }
      }
      return report;
    }
  }
}
