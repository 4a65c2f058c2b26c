package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Role;
import io.detraft.io.NodeRunner;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streamed snapshots, end to end (and exports and imports, below): a follower whose JVM has a 128
 * MB heap installs a snapshot of 300 MB of data (a {@code detraft server} child process, killed
 * with SIGKILL in the middle of the install and started again), and then holds every byte of it.
 * Before snapshots streamed, the follower assembled the image in a byte array: it could not even
 * hold it.
 *
 * <p>The two other nodes run in this JVM (512 MB of heap, so they snapshot every 1,500
 * entries to keep their in-memory logs short). {@code -Ddetraft.largeSnapshotMb=N} changes
 * the size (300 by default).
 */
@Timeout(900)
class LargeSnapshotTest {
  private static final int VALUE_BYTES = 60_000;
  private static final long MB = 1_000_000;

  @TempDir Path dir;

  @Test
  void aFollowerWith128MbOfHeapInstallsA300MbSnapshotThroughACrash() throws Exception {
    int keys = (int) (Long.getLong("detraft.largeSnapshotMb", 300) * MB / VALUE_BYTES);
    SortedMap<Long, String> peers = new TreeMap<>();
    for (long id = 1; id <= 3; id++) {
      peers.put(id, "127.0.0.1:" + Ports.free());
    }
    KvServer.Tuning tuning = KvServer.Tuning.defaults()
        .withSnapshots(new NodeRunner.SnapshotPolicy(1_500, 10, 2));
    List<KvServer> leaders = new ArrayList<>();
    Process follower = null;
    try {
      for (long id = 1; id <= 2; id++) {
        leaders.add(KvServer.start(new KvServer.Options(id, dir.resolve("n" + id), null,
            "127.0.0.1:0", peers, null, 1, tuning)));
      }
      await("a leader of nodes 1 and 2", Duration.ofSeconds(60),
          () -> leaders.stream().anyMatch(s -> s.status(1).role() == Role.LEADER));
      List<String> endpoints = leaders.stream().map(s -> Peers.format(s.httpAddress())).toList();
      long loadStart = System.nanoTime();
      load(endpoints, keys);
      System.out.printf("loaded %d MB in %.1f s%n", keys * (long) VALUE_BYTES / MB,
          (System.nanoTime() - loadStart) / 1e9);
      HttpClient http = HttpClient.newHttpClient();
      for (String endpoint : endpoints) { // a snapshot of everything, the log compacted behind
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://" + endpoint + "/v1/snapshot")).POST(
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
      }

      String followerHttp = "127.0.0.1:" + Ports.free();
      Path followerDir = dir.resolve("n3");
      List<String> command = followerCommand(followerDir, peers, followerHttp);
      Path log = dir.resolve("n3.log");
      follower = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      // Kill it once it holds a third of the image in its receive file.
      Path snapshots = followerDir.resolve("raft").resolve("snapshots");
      long killAt = keys * (long) VALUE_BYTES / 3;
      Process first = follower;
      await("node 3 receiving a third of the snapshot", Duration.ofSeconds(300),
          () -> receiving(snapshots) >= killAt || !first.isAlive());
      assertTrue(follower.isAlive(), () -> "node 3 died: " + read(log));
      follower.destroyForcibly().waitFor();
      System.out.println("killed node 3 with " + receiving(snapshots) / MB
          + " MB of the snapshot received");
      assertTrue(receiving(snapshots) >= killAt, "the receive file is gone before the kill");

      follower = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      String lastKey = key(keys - 1);
      Process second = follower;
      await("node 3 holding the last key", Duration.ofSeconds(400),
          () -> !second.isAlive() || value(http, followerHttp, lastKey).isPresent());
      assertTrue(follower.isAlive(), () -> "node 3 died: " + read(log));
      for (int i = 0; i < keys; i++) {
        Optional<byte[]> v = value(http, followerHttp, key(i));
        assertTrue(v.isPresent(), "node 3 lacks " + key(i));
        assertArrayEquals(value(i), v.get(), key(i));
      }
      assertEquals(0, receiving(snapshots), "a receive file was left behind");
      try (Stream<Path> files = Files.list(snapshots)) {
        assertTrue(files.anyMatch(f -> f.toString().endsWith(".snap")
            && f.toFile().length() > keys * (long) VALUE_BYTES), "no installed snapshot file");
      }
      String output = read(log);
      assertFalse(output.contains("OutOfMemoryError"), output);
      System.out.println("node 3 holds all " + keys + " keys");
    } finally {
      if (follower != null) {
        follower.destroyForcibly().waitFor();
      }
      leaders.forEach(KvServer::close);
    }
  }

  /**
   * Disaster recovery exports and imports stream too: a group holding 200 MB of data is
   * exported from a running node by {@code detraft snapshot export} in a child JVM with 64 MB
   * of heap and imported into the stopped node by {@code detraft snapshot import} in one with
   * 128 MB (see {@link #IMPORT_HEAP}): an image held whole would not fit in either. The node
   * started from the import serves every byte.
   * {@code -Ddetraft.largeExportMb=N} changes the size.
   */
  @Test
  void exportAndImportOfA200MbGroupFitInLessHeapThanTheImage() throws Exception {
    int keys = (int) (Long.getLong("detraft.largeExportMb", 200) * MB / VALUE_BYTES);
    SortedMap<Long, String> peers = new TreeMap<>();
    peers.put(1L, "127.0.0.1:" + Ports.free());
    KvServer.Tuning tuning = KvServer.Tuning.defaults()
        .withSnapshots(new NodeRunner.SnapshotPolicy(1_500, 10, 2));
    Path dataDir = dir.resolve("n1");
    KvServer node = KvServer.start(new KvServer.Options(1, dataDir, null, "127.0.0.1:0", peers,
        null, 1, tuning));
    try {
      await("node 1 leading", Duration.ofSeconds(60),
          () -> node.status(1).role() == Role.LEADER);
      String endpoint = Peers.format(node.httpAddress());
      load(List.of(endpoint), keys);
      Path export = dir.resolve("group-1.snapshot");
      long exportStart = System.nanoTime();
      String exported = detraft("64m", "snapshot", "export", "--group", "1", "--to",
          export.toString(), "--endpoints", endpoint);
      System.out.printf("exported %d MB in %.1f s%n", Files.size(export) / MB,
          (System.nanoTime() - exportStart) / 1e9);
      assertTrue(Files.size(export) > keys * (long) VALUE_BYTES, exported);
    } finally {
      node.close();
    }
    long importStart = System.nanoTime();
    detraft(IMPORT_HEAP, "snapshot", "import", "--data-dir", dataDir.toString(), "--from",
        dir.resolve("group-1.snapshot").toString());
    System.out.printf("imported in %.1f s%n", (System.nanoTime() - importStart) / 1e9);
    KvServer restarted = KvServer.start(KvServer.Options.restart(dataDir).withTuning(tuning));
    try {
      await("node 1 leading again", Duration.ofSeconds(120),
          () -> restarted.status(1).role() == Role.LEADER);
      HttpClient http = HttpClient.newHttpClient();
      String endpoint = Peers.format(restarted.httpAddress());
      for (int i = 0; i < keys; i++) {
        Optional<byte[]> v = value(http, endpoint, key(i));
        assertTrue(v.isPresent(), "the import lacks " + key(i));
        assertArrayEquals(value(i), v.get(), key(i));
      }
    } finally {
      restarted.close();
    }
  }

  /**
   * The import's heap. More than the export's because the import opens the node's WAL, and
   * WAL recovery reads each segment (64 MB) whole and decodes its entries before a later
   * compaction record drops them: that, not the snapshot, is what the import's heap must hold.
   */
  private static final String IMPORT_HEAP = "128m";

  /** {@code detraft ARGS} in a child JVM with {@code heap} of heap; returns its output. */
  private String detraft(String heap, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
        "io.detraft.kv.Main"));
    command.addAll(List.of(args));
    Path log = Files.createTempFile(dir, "detraft", ".log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS),
          () -> "detraft " + String.join(" ", args) + " did not finish: " + read(log));
    } finally {
      p.destroyForcibly();
    }
    String output = read(log);
    assertEquals(0, p.exitValue(), () -> "detraft " + String.join(" ", args) + ": " + output);
    assertFalse(output.contains("OutOfMemoryError"), output);
    return output;
  }

  /** {@code detraft server} for node 3 in a child JVM with 128 MB of heap. */
  private static List<String> followerCommand(Path dataDir, SortedMap<Long, String> peers,
      String http) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
        "-XX:+ExitOnOutOfMemoryError"));
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-") || arg.startsWith("-Dchronicle")) {
        command.add(arg); // what Chronicle Map needs on Java 17
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.detraft.kv.Main",
        "server", "--id", "3", "--data-dir", dataDir.toString(), "--raft", peers.get(3L),
        "--http", http, "--peers", Peers.format(peers), "--groups", "1"));
    return command;
  }

  /** Puts every key, from a few clients at once. */
  private static void load(List<String> endpoints, int keys) throws Exception {
    int clients = 4;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int first = c;
        done.add(pool.submit(() -> {
          try (KvClient client = KvClient.connect(endpoints, KvClient.Options.defaults()
              .withOperationTimeout(Duration.ofSeconds(60)))) {
            for (int i = first; i < keys; i += clients) {
              client.put(key(i).getBytes(StandardCharsets.UTF_8), value(i));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static String key(int i) {
    return String.format("big-%06d", i);
  }

  /** Incompressible, and different for every key. */
  private static byte[] value(int i) {
    byte[] v = new byte[VALUE_BYTES];
    SplittableRandom random = new SplittableRandom(i);
    for (int at = 0; at < v.length; at += 8) {
      long r = random.nextLong();
      for (int b = 0; b < 8 && at + b < v.length; b++) {
        v[at + b] = (byte) (r >>> (8 * b));
      }
    }
    return v;
  }

  private static Optional<byte[]> value(HttpClient http, String endpoint, String key) {
    try {
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint
          + "/v1/kv/" + key + "?consistency=stale")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty(); // not serving yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Bytes in the follower's receive files (temporary snapshot files). */
  private static long receiving(Path snapshots) {
    if (!Files.isDirectory(snapshots)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(snapshots)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".snap.tmp"))
          .mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException e) {
      return 0; // a file renamed while listed
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(50);
    }
  }
}
