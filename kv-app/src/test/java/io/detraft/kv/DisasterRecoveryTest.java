package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Membership;
import io.detraft.core.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code detraft snapshot export} and {@code import} (kv-app README, "Disaster recovery"): a
 * cluster that lost a majority for good is rebuilt from an export on its survivor, and the
 * refusals (a damaged file, another cluster's file, a running node, an unfinished import).
 */
@Timeout(240)
class DisasterRecoveryTest {
  private static final byte[] TOKEN = "dr-s3cret".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  private record Run(int status, String out) {}

  /** {@code detraft ARGS} in a child JVM, in {@link #dir}, as the launcher runs it. */
  private Run detraft(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Xmx256m", "io.detraft.kv.Main"));
    command.addAll(List.of(args));
    Path output = Files.createTempFile(dir, "output", ".txt");
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "detraft " + String.join(" ", args)
          + " did not finish");
    } finally {
      process.destroyForcibly();
    }
    return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }

  /** {@code detraft ARGS} in this JVM (quicker, for the refusals). */
  private static Run inProcess(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status = Main.run(args, print, print);
    return new Run(status, bytes.toString(StandardCharsets.UTF_8));
  }

  private static HttpPool.Response admin(String endpoint, String method, String target,
      String body) throws IOException {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(20), 1)) {
      return pool.send(Peers.address(endpoint), method, target,
          new AdminToken(TOKEN).headers(),
          body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Every file under {@code root} with its size and modification time. */
  private static Map<String, String> listing(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        if (!p.getFileName().toString().equals("LOCK")) {
          out.put(root.relativize(p).toString(), Files.size(p) + "@"
              + Files.getLastModifiedTime(p).toMillis());
        }
      }
    }
    return out;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * Three nodes, 60 keys, an export of every group through the admin API (with the token),
   * 20 more keys; then nodes 2 and 3 are lost with their disks. The survivor imports the
   * export, restarts alone and serves the 60 keys (the 20 written after the export are gone:
   * lossy, as documented), takes new writes, drops the lost nodes and takes in a new one,
   * which catches up.
   */
  @Test
  void aClusterThatLostTwoOfThreeNodesForGoodServesItsExportAgain() throws Exception {
    Files.write(dir.resolve("token"), TOKEN);
    TestCluster cluster = new TestCluster(dir.resolve("c"), 3, TOKEN);
    try {
      cluster.awaitLeaders();
      String e1 = cluster.endpoint(1);
      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        for (int i = 0; i < 60; i++) {
          client.put("k" + i, "v" + i);
        }
      }
      Run refused = inProcess("snapshot", "export", "--to", dir.resolve("nope").toString(),
          "--endpoints", e1);
      assertEquals(Main.FAILED, refused.status(), refused.out());
      assertTrue(refused.out().contains("401"), refused.out());

      // The README's commands, as written (paths and ports of this test).
      Run all = detraft("snapshot", "export", "--to", "backup", "--endpoints", e1,
          "--auth-token-file", "token");
      assertEquals(Main.OK, all.status(), all.out());
      for (long g = 1; g <= TestCluster.GROUPS; g++) {
        assertTrue(Files.size(dir.resolve("backup").resolve("group-" + g + ".snapshot")) > 0);
        assertTrue(all.out().contains("group " + g + ": index "), all.out());
      }
      Run one = inProcess("snapshot", "export", "--group", "2", "--to",
          dir.resolve("g2.snapshot").toString(), "--endpoints", e1, "--auth-token-file",
          dir.resolve("token").toString());
      assertEquals(Main.OK, one.status(), one.out());
      SnapshotFile g2 = SnapshotFile.verify(dir.resolve("g2.snapshot"));
      assertEquals(2, g2.group());
      assertEquals(cluster.servers.get(1L).clusterId(), g2.clusterId());
      assertEquals(Membership.of(1, 2, 3), g2.snapshot().membership());

      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        for (int i = 0; i < 20; i++) {
          client.put("lost" + i, "after the export");
        }
      }
      cluster.close();
      deleteTree(dir.resolve("c/n2"));
      deleteTree(dir.resolve("c/n3"));

      Run imported = detraft("snapshot", "import", "--from", "backup", "--data-dir", "c/n1");
      assertEquals(Main.OK, imported.status(), imported.out());
      assertTrue(imported.out().contains("imported 3 group(s) into node 1"), imported.out());

      KvServer survivor = cluster.restart(1);
      TestCluster.await("node 1 leading every group alone", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          if (survivor.status(g).role() != Role.LEADER) {
            return false;
          }
        }
        return true;
      });
      try (KvClient client = KvClient.connect(List.of(cluster.endpoint(1)))) {
        for (int i = 0; i < 60; i++) {
          assertEquals(Optional.of("v" + i), client.get("k" + i));
        }
        for (int i = 0; i < 20; i++) {
          assertEquals(Optional.empty(), client.get("lost" + i), "written after the export");
        }
        for (int i = 0; i < 10; i++) {
          client.put("new" + i, "n" + i);
        }
        assertEquals(Optional.of("n3"), client.get("new3"));
      }

      // The lost nodes leave; a new node joins and catches up.
      for (long lost = 2; lost <= 3; lost++) {
        HttpPool.Response r = admin(cluster.endpoint(1), "DELETE", "/v1/members/" + lost, null);
        assertTrue(r.status() == 200 || r.status() == 202, r.text());
      }
      TestCluster.await("nodes 2 and 3 gone from every group", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          Membership m = survivor.membership(g);
          if (m.isMember(2) || m.isMember(3)) {
            return false;
          }
        }
        return true;
      });
      String raft4 = "127.0.0.1:" + Ports.free();
      HttpPool.Response added = admin(cluster.endpoint(1), "POST", "/v1/members",
          "{\"id\":4,\"raft\":\"" + raft4 + "\",\"role\":\"voter\"}");
      assertTrue(added.status() == 200 || added.status() == 202, added.text());
      KvServer four = KvServer.start(new KvServer.Options(4, dir.resolve("c/n4"), raft4,
          "127.0.0.1:0", null, cluster.endpoint(1), 0,
          TestCluster.tuning().withAuthToken(TOKEN)));
      cluster.servers.put(4L, four);
      TestCluster.await("node 4 a voter of every group, caught up", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          if (!survivor.membership(g).isVoter(4)
              || four.status(g).applied() < survivor.status(g).commit()) {
            return false;
          }
        }
        return true;
      });
      try (KvClient client = KvClient.connect(List.of(Peers.format(four.httpAddress())))) {
        assertEquals(Optional.of("v7".getBytes(StandardCharsets.UTF_8)).map(String::new),
            client.get("k7".getBytes(StandardCharsets.UTF_8), true).map(String::new));
        client.put("after-join", "yes");
        assertEquals(Optional.of("yes"), client.get("after-join"));
      }
    } finally {
      cluster.close();
    }
  }

  /**
   * Import refuses, changing nothing: into a running node (exit 1), a file whose checksum
   * fails (1), a truncated file (1), another cluster's file (1), a node with another group
   * count (1), bad flags (2). A node whose import was cut short
   * refuses to start until the import is run again.
   */
  @Test
  void importRefusesWhatItMustAndAnUnfinishedImportBlocksTheStart() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("one"), 1)) {
      cluster.awaitLeaders();
      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        for (int i = 0; i < 20; i++) {
          client.put("k" + i, "v" + i);
        }
      }
      Path export = dir.resolve("backup");
      Run exported = inProcess("snapshot", "export", "--to", export.toString(), "--endpoints",
          cluster.endpoint(1));
      assertEquals(Main.OK, exported.status(), exported.out());
      Path node = dir.resolve("one/n1");

      Run running = inProcess("snapshot", "import", "--data-dir", node.toString(), "--from",
          export.toString());
      assertEquals(Main.FAILED, running.status(), running.out());
      assertTrue(running.out().contains("stop it first"), running.out());
      cluster.stop(1);

      Map<String, String> before = listing(node);
      // A damaged copy: one byte flipped in the middle.
      Path damaged = dir.resolve("damaged.snapshot");
      byte[] bytes = Files.readAllBytes(export.resolve("group-1.snapshot"));
      bytes[bytes.length / 2] ^= 0x10;
      Files.write(damaged, bytes);
      Run bad = inProcess("snapshot", "import", "--data-dir", node.toString(), "--from",
          damaged.toString());
      assertEquals(Main.FAILED, bad.status(), bad.out());
      assertTrue(bad.out().contains("checksum mismatch"), bad.out());
      assertTrue(bad.out().contains(damaged.toString()), bad.out());
      assertEquals(before, listing(node), "nothing changed");

      // A truncated copy (a copy cut short): refused, naming where it ends.
      Path truncated = dir.resolve("truncated.snapshot");
      int cutAt = bytes.length * 2 / 3;
      Files.write(truncated, java.util.Arrays.copyOf(bytes, cutAt));
      Run cut = inProcess("snapshot", "import", "--data-dir", node.toString(), "--from",
          truncated.toString());
      assertEquals(Main.FAILED, cut.status(), cut.out());
      assertTrue(cut.out().contains(truncated + ": truncated at offset " + cutAt), cut.out());
      assertEquals(before, listing(node), "nothing changed");

      // Another cluster's node (same shape, another id).
      Path stranger = dir.resolve("stranger");
      new NodeMetadata("another-cluster", 1, TestCluster.GROUPS, "127.0.0.1:1",
          "127.0.0.1:2", new TreeMap<>(Map.of(1L, "127.0.0.1:1")), false).write(stranger);
      Run foreign = inProcess("snapshot", "import", "--data-dir", stranger.toString(), "--from",
          export.toString());
      assertEquals(Main.FAILED, foreign.status(), foreign.out());
      assertTrue(foreign.out().contains("belongs to cluster"), foreign.out());
      assertFalse(Files.exists(stranger.resolve("raft")), "nothing written");

      // A node of the same cluster with another group count (keys hash elsewhere).
      Path reshaped = dir.resolve("reshaped");
      String clusterId = NodeMetadata.read(node).orElseThrow().clusterId();
      new NodeMetadata(clusterId, 1, TestCluster.GROUPS + 1, "127.0.0.1:1", "127.0.0.1:2",
          new TreeMap<>(Map.of(1L, "127.0.0.1:1")), false).write(reshaped);
      Run groups = inProcess("snapshot", "import", "--data-dir", reshaped.toString(), "--from",
          export.toString());
      assertEquals(Main.FAILED, groups.status(), groups.out());
      assertTrue(groups.out().contains("comes from a cluster of " + TestCluster.GROUPS
          + " groups"), groups.out());
      assertFalse(Files.exists(reshaped.resolve("raft")), "nothing written");
      assertEquals(before, listing(node), "nothing changed");

      assertEquals(Main.USAGE, inProcess("snapshot", "import", "--data-dir",
          node.toString()).status());
      assertEquals(Main.USAGE, inProcess("snapshot", "import", "--data-dir", node.toString(),
          "--from", export.toString(), "--voters", "2,3").status());
      assertEquals(Main.USAGE, inProcess("snapshot", "export", "--group", "1").status());

      // An import cut short (its marker left behind): the node refuses to start.
      Files.writeString(node.resolve(SnapshotCommands.IMPORT_MARKER), "");
      IllegalStateException blocked = assertThrows(IllegalStateException.class,
          () -> cluster.restart(1));
      assertTrue(blocked.getMessage().contains("run the same detraft snapshot import again"),
          blocked.getMessage());
      Run again = inProcess("snapshot", "import", "--data-dir", node.toString(), "--from",
          export.toString());
      assertEquals(Main.OK, again.status(), again.out());
      assertFalse(Files.exists(node.resolve(SnapshotCommands.IMPORT_MARKER)));
      cluster.restart(1);
      cluster.awaitLeaders();
      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        assertEquals(Optional.of("v19"), client.get("k19"));
        client.put("k20", "v20");
        assertEquals(Optional.of("v20"), client.get("k20"));
      }
    }
  }

  /**
   * Every node lost, the export files left: import makes a new node of the exported cluster in
   * an empty directory (all groups' files needed), which starts alone and serves the data.
   */
  @Test
  void aNewNodeIsMadeFromTheExportOfAClusterThatLostEveryNode() throws Exception {
    Path export = dir.resolve("backup");
    String clusterId;
    TestCluster cluster = new TestCluster(dir.resolve("gone"), 1);
    try {
      cluster.awaitLeaders();
      clusterId = cluster.servers.get(1L).clusterId();
      try (KvClient client = KvClient.connect(cluster.endpoints())) {
        for (int i = 0; i < 20; i++) {
          client.put("k" + i, "v" + i);
        }
      }
      Run exported = inProcess("snapshot", "export", "--to", export.toString(), "--endpoints",
          cluster.endpoint(1));
      assertEquals(Main.OK, exported.status(), exported.out());
      assertEquals(Main.USAGE, inProcess("snapshot", "import", "--data-dir",
          dir.resolve("gone/n1").toString(), "--from", export.toString(), "--id", "1", "--raft",
          "127.0.0.1:1", "--http", "127.0.0.1:2").status(), "--id is for a new node only");
    } finally {
      cluster.close();
    }
    deleteTree(dir.resolve("gone"));

    Path fresh = dir.resolve("fresh");
    String raft = "127.0.0.1:" + Ports.free();
    Path partial = dir.resolve("partial");
    Files.createDirectories(partial);
    Files.copy(export.resolve("group-1.snapshot"), partial.resolve("group-1.snapshot"));
    Run missing = inProcess("snapshot", "import", "--data-dir", fresh.toString(), "--from",
        partial.toString(), "--id", "7", "--raft", raft, "--http", "127.0.0.1:0");
    assertEquals(Main.FAILED, missing.status(), missing.out());
    assertTrue(missing.out().contains("needs every group's file"), missing.out());
    assertFalse(Files.exists(fresh.resolve(NodeMetadata.FILE)), "nothing written");

    Run imported = inProcess("snapshot", "import", "--data-dir", fresh.toString(), "--from",
        export.toString(), "--id", "7", "--raft", raft, "--http", "127.0.0.1:0");
    assertEquals(Main.OK, imported.status(), imported.out());
    KvServer node = KvServer.start(KvServer.Options.restart(fresh)
        .withTuning(TestCluster.tuning()));
    try {
      assertEquals(clusterId, node.clusterId());
      assertEquals(7, node.nodeId());
      TestCluster.await("node 7 leading every group", () -> {
        for (long g = 1; g <= TestCluster.GROUPS; g++) {
          if (node.status(g).role() != Role.LEADER) {
            return false;
          }
        }
        return true;
      });
      try (KvClient client = KvClient.connect(List.of(Peers.format(node.httpAddress())))) {
        for (int i = 0; i < 20; i++) {
          assertEquals(Optional.of("v" + i), client.get("k" + i));
        }
        client.put("k20", "v20");
        assertEquals(Optional.of("v20"), client.get("k20"));
      }
    } finally {
      node.close();
    }
  }
}
