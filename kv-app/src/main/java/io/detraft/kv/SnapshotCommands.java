package io.detraft.kv;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.io.NodeStorage;
import io.detraft.io.RealDisk;
import io.detraft.io.SnapshotReader;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code detraft snapshot export} and {@code import}: disaster recovery for groups that lost
 * their quorum for good (most of their nodes' disks are gone).
 *
 * <p>Export asks a running node ({@code GET /v1/snapshot/G}, behind the admin token) for a
 * fresh snapshot of a group and writes it to a {@link SnapshotFile} (index, term, membership,
 * cluster id, checksummed blocks, a checksum over everything) as it arrives. Neither side
 * holds an image whole: the node streams its snapshot file, export writes the body to disk as
 * it comes, import copies the image block by block into the node's snapshot store.
 *
 * <p>Import, on a stopped node's data directory, replaces each group's log with the exported
 * snapshot, relabelled with the new voters (this node unless {@code
 * --voters} names more; each of them must import the same files), at a term above any its log
 * saw ({@link NodeStorage#importSnapshot}, core's {@code UnsafeRecovery}), and discards the
 * group's map so that the node restores it from the snapshot when it starts. Into an empty
 * data directory, with {@code --id}, {@code --raft} and {@code --http}, it makes a new node
 * of the exported cluster from every group's file (all nodes lost: a restore from backups).
 * <b>Lossy by
 * design:</b> whatever the group committed after the export is gone, and the old members must
 * never run again next to the rebuilt ones.
 */
final class SnapshotCommands {
  /** Present in a data directory while an import changes it; the node refuses to start then. */
  static final String IMPORT_MARKER = "IMPORT-IN-PROGRESS";

  private SnapshotCommands() {}

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || !(args[0].equals("export") || args[0].equals("import"))) {
      throw new Flags.UsageException("snapshot export ... or snapshot import ...");
    }
    if (args[0].equals("export")) {
      Flags f = new Flags(args, 1, union(Set.of("endpoints", "group", "to"),
          Commands.TLS_FLAGS), Set.of());
      return export(f, out, err);
    }
    return importInto(new Flags(args, 1, Set.of("data-dir", "from", "voters", "id", "raft",
        "http"), Set.of()), out, err);
  }

  // ------------------------------------------------------------------ export

  private static int export(Flags f, PrintStream out, PrintStream err) {
    f.expectPositional(0, "snapshot export takes no arguments");
    if (!f.has("to")) {
      throw new Flags.UsageException("--to FILE (with --group) or --to DIR (all groups) is"
          + " required");
    }
    List<String> endpoints = Commands.endpoints(f);
    KvClient.Options options;
    try {
      options = Commands.options(f);
    } catch (IllegalStateException e) {
      err.println("detraft: " + e.getMessage());
      return Main.FAILED;
    }
    Path to = Path.of(f.get("to"));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .sslContext(options.tls() != null ? options.tls() : defaultTls()).build();
    String scheme = options.tls() != null ? "https://" : "http://";
    Map<String, String> headers = new AdminToken(options.authToken()).headers();
    try {
      String endpoint = null;
      List<Long> groups = new ArrayList<>();
      String failures = "";
      for (String e : endpoints) {
        try {
          HttpResponse<byte[]> status = get(client, scheme + e + "/v1/status", headers);
          if (status.statusCode() != 200) {
            failures += " " + e + ": " + status.statusCode();
            continue;
          }
          Object count = Json.parseObject(new String(status.body(), StandardCharsets.UTF_8))
              .get("group_count");
          if (!(count instanceof Long n)) {
            failures += " " + e + ": no group_count in /v1/status";
            continue;
          }
          if (f.has("group")) {
            groups.add(f.number("group", 0, 1, n));
          } else {
            for (long g = 1; g <= n; g++) {
              groups.add(g);
            }
          }
          endpoint = e;
          break;
        } catch (IOException | Json.ParseException ex) {
          failures += " " + e + ": " + ex.getMessage();
        }
      }
      if (endpoint == null) {
        err.println("detraft: no endpoint answered:" + failures);
        return Main.FAILED;
      }
      if (!f.has("group")) {
        Files.createDirectories(to);
      }
      for (long g : groups) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(scheme + endpoint
            + "/v1/snapshot/" + g)).timeout(Duration.ofMinutes(5)).GET();
        headers.forEach(request::header);
        HttpResponse<InputStream> r = client.send(request.build(),
            HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
          String why;
          try (InputStream body = r.body()) {
            why = new String(body.readNBytes(64 << 10), StandardCharsets.UTF_8);
          }
          err.println("detraft: " + endpoint + " refused the export of group " + g + ": "
              + r.statusCode() + " " + why);
          return Main.FAILED;
        }
        Path file = f.has("group") ? to : to.resolve(SnapshotFile.fileName(g));
        SnapshotFile exported = download(r.body(), file);
        out.println("group " + g + ": " + describe(exported.snapshot()) + ", "
            + Files.size(file) + " bytes from node " + exported.node() + " of cluster "
            + exported.clusterId() + " -> " + file);
      }
      return Main.OK;
    } catch (IOException e) {
      err.println("detraft: export failed: " + e);
      return Main.FAILED;
    } catch (SnapshotFile.InvalidException e) {
      err.println("detraft: the node sent a damaged export: " + e.getMessage());
      return Main.FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Main.FAILED;
    }
  }

  /**
   * Writes {@code body} to {@code file} as it arrives, never whole in memory: into a temporary
   * file beside it, fsynced and verified (every checksum) before it is renamed into place and
   * the directory fsynced, so {@code file} is a complete, good export or what it was before.
   */
  private static SnapshotFile download(InputStream body, Path file)
      throws IOException, SnapshotFile.InvalidException {
    Path temp = file.resolveSibling(file.getFileName() + ".part");
    boolean done = false;
    try {
      try (InputStream in = body; FileChannel channel = FileChannel.open(temp,
          StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        byte[] piece = new byte[64 << 10];
        for (int n; (n = in.read(piece)) >= 0; ) {
          ByteBuffer buf = ByteBuffer.wrap(piece, 0, n);
          while (buf.hasRemaining()) {
            channel.write(buf);
          }
        }
        channel.force(true);
      }
      SnapshotFile exported = SnapshotFile.verify(temp);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      DurableFiles.syncDirectory(file.toAbsolutePath().getParent());
      done = true;
      return exported;
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  private static HttpResponse<byte[]> get(HttpClient client, String url,
      Map<String, String> headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofMinutes(5)).GET();
    headers.forEach(request::header);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static javax.net.ssl.SSLContext defaultTls() {
    try {
      return javax.net.ssl.SSLContext.getDefault();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String describe(Snapshot s) {
    return "index " + s.index() + ", term " + s.term() + ", voters "
        + Arrays.toString(s.membership().voters()) + (s.membership().learners().length == 0 ? ""
            : ", learners " + Arrays.toString(s.membership().learners()));
  }

  // ------------------------------------------------------------------ import

  private static int importInto(Flags f, PrintStream out, PrintStream err) {
    f.expectPositional(0, "snapshot import takes no arguments");
    if (!f.has("data-dir") || !f.has("from")) {
      throw new Flags.UsageException("snapshot import needs --data-dir D and --from FILE|DIR");
    }
    Path dataDir = Path.of(f.get("data-dir"));
    Path from = Path.of(f.get("from"));
    NodeMetadata node;
    try {
      node = NodeMetadata.read(dataDir).orElse(null);
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      err.println("detraft: " + e.getMessage());
      return Main.FAILED;
    }
    if (node != null && (f.has("id") || f.has("raft") || f.has("http"))) {
      throw new Flags.UsageException(dataDir + " holds node " + node.nodeId() + ": --id, --raft"
          + " and --http are for a new node (an empty data directory)");
    }
    if (node == null && !(f.has("id") && f.has("raft") && f.has("http"))) {
      err.println("detraft: " + dataDir + " holds no node (no " + NodeMetadata.FILE + "): import"
          + " into a surviving node's data directory, or make a new node of the exported"
          + " cluster with --id N --raft HOST:PORT --http HOST:PORT (every group's file needed)");
      return Main.FAILED;
    }
    long self = node != null ? node.nodeId() : f.number("id", 0, 1, Long.MAX_VALUE);
    if (node == null) {
      try {
        Peers.address(f.get("raft"));
        Peers.address(f.get("http"));
      } catch (IllegalArgumentException e) {
        throw new Flags.UsageException(e.getMessage());
      }
      if (!isEmpty(dataDir)) {
        err.println("detraft: " + dataDir + " is not empty and holds no " + NodeMetadata.FILE
            + ": a new node needs an empty data directory");
        return Main.FAILED;
      }
    }
    long[] voters = voters(f, self);
    // Everything is read and checked before anything changes.
    TreeMap<Long, SnapshotFile> files = new TreeMap<>();
    String cluster = node == null ? null : node.clusterId();
    int groups = node == null ? 0 : node.groups();
    String owner = node == null ? null : dataDir + " holds node " + node.nodeId();
    try {
      for (Path file : files(from)) {
        SnapshotFile s = SnapshotFile.verify(file); // every checksum, nothing kept
        if (cluster == null) { // a new node: the first file says which cluster it joins
          cluster = s.clusterId();
          groups = s.groups();
          owner = "the first file belongs to";
        }
        if (!s.clusterId().equals(cluster)) {
          err.println("detraft: " + file + " belongs to cluster " + s.clusterId() + ", but "
              + owner + " of cluster " + cluster + ": refusing to import");
          return Main.FAILED;
        }
        if (s.groups() != groups) {
          err.println("detraft: " + file + " comes from a cluster of " + s.groups() + " groups,"
              + " " + dataDir + " has " + groups + ": refusing to import");
          return Main.FAILED;
        }
        if (files.put(s.group(), s) != null) {
          err.println("detraft: two files hold group " + s.group() + " (" + file + ")");
          return Main.FAILED;
        }
      }
    } catch (SnapshotFile.InvalidException e) {
      err.println("detraft: " + e.getMessage());
      return Main.FAILED;
    } catch (IOException e) {
      err.println("detraft: cannot read " + from + ": " + e);
      return Main.FAILED;
    }
    if (files.isEmpty()) {
      err.println("detraft: no *" + SnapshotFile.SUFFIX + " file in " + from);
      return Main.FAILED;
    }
    if (node == null && files.size() != groups) {
      err.println("detraft: a new node needs every group's file: " + from + " holds groups "
          + files.keySet() + " of " + groups);
      return Main.FAILED;
    }
    Path marker = dataDir.resolve(IMPORT_MARKER);
    try (RealDisk disk = new RealDisk()) {
      NodeStorage storage;
      try {
        storage = NodeStorage.open(disk, dataDir.resolve("raft"),
            WriteAheadLog.Options.defaults(), 2);
      } catch (IOException e) {
        err.println("detraft: cannot open the node's log (is the node still running? stop it"
            + " first): " + e.getMessage());
        return Main.FAILED;
      }
      try (storage) {
        DurableFiles.replace(marker, "an import of exported snapshots started here; run it again\n"
            .getBytes(StandardCharsets.UTF_8));
        if (node == null) {
          // A new node of the exported cluster: bootstrapped alone, members from the log.
          new NodeMetadata(cluster, self, groups, f.get("raft"), f.get("http"),
              new TreeMap<>(Map.of(self, f.get("raft"))), false).write(dataDir);
        }
        for (SnapshotFile s : files.values()) {
          Snapshot imported;
          // Block by block from the file into the store, each block verified again as read.
          try (SnapshotReader image = s.openImage()) {
            imported = storage.importSnapshot(s.group(), s.snapshot(), image,
                Membership.of(voters));
          }
          // The map restarts empty and is restored from the snapshot when the node starts.
          Path kv = dataDir.resolve("kv");
          Files.deleteIfExists(kv.resolve("group-" + s.group() + ".cm"));
          Files.deleteIfExists(kv.resolve("group-" + s.group() + ".cm.state"));
          out.println("group " + s.group() + ": " + describe(imported)
              + " (exported by node " + s.node() + "; this node's entries after index "
              + imported.index() + " are discarded)");
        }
      }
      Files.delete(marker);
    } catch (SnapshotFile.InvalidException e) { // the file changed since it was verified
      err.println("detraft: import failed: " + e.getMessage());
      return Main.FAILED;
    } catch (IOException | RuntimeException e) {
      err.println("detraft: import failed (run the same command again): " + e);
      return Main.FAILED;
    }
    out.println("imported " + files.size() + " group(s) into node " + self + "; start"
        + " it (detraft server --data-dir " + dataDir + ")"
        + (voters.length > 1 ? " after every voter imported the same files" : "")
        + ", then remove the lost nodes (DELETE /v1/members/N)");
    return Main.OK;
  }

  /** {@code --voters 1,2}, which must name this node; by default this node alone. */
  private static long[] voters(Flags f, long self) {
    if (!f.has("voters")) {
      return new long[] {self};
    }
    long[] voters;
    try {
      voters = Arrays.stream(f.get("voters").split(",")).map(String::trim)
          .mapToLong(Long::parseLong).sorted().distinct().toArray();
    } catch (NumberFormatException e) {
      throw new Flags.UsageException("--voters takes node ids: 1,2,3");
    }
    if (voters.length == 0 || voters[0] <= 0) {
      throw new Flags.UsageException("--voters takes positive node ids: 1,2,3");
    }
    if (Arrays.stream(voters).noneMatch(v -> v == self)) {
      throw new Flags.UsageException("--voters must include this node (" + self + ")");
    }
    return voters;
  }

  /** A file, or every export file in a directory (in name order). */
  private static List<Path> files(Path from) throws IOException {
    if (!Files.isDirectory(from)) {
      return List.of(from);
    }
    try (Stream<Path> list = Files.list(from)) {
      return list.filter(p -> p.getFileName().toString().endsWith(SnapshotFile.SUFFIX))
          .sorted().toList();
    }
  }

  private static boolean isEmpty(Path dir) {
    if (!Files.isDirectory(dir)) {
      return !Files.exists(dir);
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  /** Refuses to start a node whose data directory an unfinished import left behind. */
  static void checkNoInterruptedImport(Path dataDir) {
    if (Files.exists(dataDir.resolve(IMPORT_MARKER))) {
      throw new IllegalStateException("an import of snapshots into " + dataDir + " did not "
          + "finish: run the same detraft snapshot import again before starting the node");
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new java.util.HashSet<>(a);
    out.addAll(b);
    return out;
  }
}
