package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code detraft} command line: one entry point for operators (server, local cluster,
 * data and admin commands, benchmark), simulation users ({@code sim}) and CI ({@code check}).
 * Exit status: 0 success, 1 failure (a refused start, an error answer), 2 usage error.
 */
public final class Main {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  static final String USAGE_TEXT = String.join("\n",
      "usage: detraft COMMAND [flags]",
      "",
      "  server  --id N --data-dir D --raft HOST:PORT --http HOST:PORT --peers 1=HOST:PORT,...",
      "          [--groups G]          bootstrap a node of a new cluster (same --peers on all)",
      "          [--resp HOST:PORT]    also serve the Redis protocol (RESP2/RESP3) there",
      "          [--auth-token-file F] F's first line: RESP AUTH, and admin API changes",
      "                                need Authorization: Bearer TOKEN (else 401)",
      "          [--tls-cert C --tls-key K [--tls-client-ca CA]]",
      "                                RESP over TLS (PEM files); with a CA, mutual TLS",
      "          [--peer-tls-ca CA]    mutual TLS between nodes with --tls-cert/--tls-key",
      "          [--http-tls]          HTTPS on --http with --tls-cert/--tls-key (with",
      "                                --tls-client-ca: mutual TLS); needs a CA flag",
      "          [--auth-data]         the data endpoints need the token too (else 401)",
      "          [--quiesce N]         idle groups stop heartbeats after N (>= 2) election",
      "                                timeouts, until the next request (many groups)",
      "  server  --id N --data-dir D --raft HOST:PORT --http HOST:PORT --join HOST:HTTP_PORT",
      "                                join a cluster after POST /v1/members added the node",
      "  server  --data-dir D          restart a node: everything else comes from D",
      "  cluster --nodes 3 [--data-dir D] [--groups G] [--base-port 8081] [--quiesce N]",
      "                                a local cluster on 127.0.0.1; prints its endpoints",
      "                                (HTTP on base-port + i - 1, RESP on base-port - 2000 + i - 1)",
      "          [--tls-dir D]         mutual TLS everywhere (Raft, HTTPS, RESP) with the",
      "                                files of detraft certs --dir D",
      "  certs   --dir D [--nodes 3] [--cluster NAME] [--hosts H,...]",
      "                                a development CA, node and client certificates (PEM)",
      "  put KEY VALUE | get KEY [--stale] | del KEY | status | members",
      "                                [--endpoints HOST:PORT,...] (default 127.0.0.1:8081, or",
      "                                $DETRAFT_ENDPOINTS)",
      "          [--tls-ca CA [--tls-cert C --tls-key K]] [--auth-token-file F]",
      "                                HTTPS (trusting CA; with C and K, mutual TLS), token",
      "  snapshot export --group G --to FILE | --to DIR   [--endpoints ...] [TLS, token as above]",
      "                                a fresh snapshot of group G (or every group, into",
      "                                DIR/group-G.snapshot) from a running node, for imports",
      "  snapshot import --data-dir D --from FILE|DIR [--voters 1,2]",
      "                                disaster recovery, LOSSY: on a stopped node, rebuild",
      "                                the groups in the files from them (entries after the",
      "                                export are lost); voters: this node unless given",
      "          [--id N --raft HOST:PORT --http HOST:PORT]   into an empty D: a new node of",
      "                                the exported cluster (every group's file needed)",
      "  bench   [--clients 64] [--key-size 16] [--value-size 16] [--keys 10000]",
      "          [--read-ratio 0.0] [--duration 10] [--warmup 3] [--stale] [--endpoints ...]",
      "          [--report DIR]        DIR gets throughput.png, latency.png (p50, p99 per",
      "                                second), bench.txt and index.html",
      "          [--etcd]              the endpoints are etcd members (its JSON gateway)",
      "  bench --against etcd [--clients 1,64,256] [--rounds 3] [--duration 5] [--warmup 2]",
      "          [--groups 8[,1...]] [--dir D] [--etcd-binary etcd]   starts a 3-member",
      "                                etcd and a 3-node detraft (one per group count) on",
      "                                this machine and prints one table of them all",
      "  test    [--nodes 3] [--time-limit 60] [--workload both] [--nemesis kill,pause,...]",
      "          [--seed N] [--dir D]      real server processes under kill -9, pauses and",
      "                                network partitions, judged like Jepsen (test --help)",
      "  sim ...                       the deterministic simulator (sim --help)",
      "  check ...                     the history checker (check --help)");

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** {@code --quiesce N}: 0 (off) or at least 2 election timeouts. */
  static int quiesce(Flags f) {
    int n = (int) f.number("quiesce", 0, 0, 1000);
    if (n == 1) {
      throw new Flags.UsageException("--quiesce must be 0 or at least 2 election timeouts");
    }
    return n;
  }

  static Flags serverFlags(String[] args, int from) {
    return new Flags(args, from, union(Set.of("id", "data-dir", "raft", "http", "peers", "join",
        "groups", "resp", "quiesce"), Resp.FLAGS), Set.of("http-tls", "auth-data"));
  }

  static Flags clusterFlags(String[] args, int from) {
    return new Flags(args, from, Set.of("nodes", "data-dir", "groups", "base-port", "quiesce",
        "tls-dir"), Set.of());
  }

  /** Runs one command; {@code server} and {@code cluster} return only once stopped. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")
        || args[0].equals("help")) {
      (args.length == 0 ? err : out).println(USAGE_TEXT);
      return args.length == 0 ? USAGE : OK;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    // `detraft COMMAND --help` prints the usage; sim and check print their own.
    boolean sub = args[0].equals("sim") || args[0].equals("check") || args[0].equals("test");
    if (!sub && Arrays.asList(rest).contains("--help")) {
      out.println(USAGE_TEXT);
      return OK;
    }
    try {
      return switch (args[0]) {
        case "server" -> server(serverFlags(args, 1), out, err, null);
        case "certs" -> Certs.run(new Flags(args, 1, Set.of("dir", "nodes", "cluster", "hosts"),
            Set.of()), out, err);
        case "cluster" -> cluster(clusterFlags(args, 1), out, null);
        case "put", "get", "del", "status", "members" -> Commands.run(args[0],
            new Flags(args, 1, union(Set.of("endpoints"), Commands.TLS_FLAGS), Set.of("stale")),
            out, err);
        case "bench" -> Bench.run(new Flags(args, 1, Set.of("endpoints", "clients", "key-size",
            "value-size", "keys", "read-ratio", "duration", "warmup", "report", "against",
            "rounds", "groups", "dir", "etcd-binary"), Set.of("stale", "etcd")), out);
        case "snapshot" -> SnapshotCommands.run(rest, out, err);
        case "sim" -> io.detraft.sim.Main.run(rest, out, err, java.util.Map.of(
            io.detraft.sim.Main.OWN_STATE_MACHINE, options -> io.detraft.sim.SimHooks.defaults(),
            "kv", options -> SimKvAdapter.hooks(options, adapter -> { })));
        // Exit statuses of its own (0 valid, 1 invalid, 2 unknown, 64 bad flags).
        case "test" -> JepsenRun.run(rest, out, err);
        // The checker's own command line starts with the word `check` (its jar's usage), so
        // it gets the whole argument vector, not `rest`.
        case "check" -> io.detraft.checker.Main.run(args, out, err);
        default -> throw new Flags.UsageException("unknown command " + args[0]);
      };
    } catch (Flags.UsageException e) {
      err.println("detraft: " + e.getMessage());
      err.println(USAGE_TEXT);
      return USAGE;
    }
  }

  /**
   * Starts a node and serves until the JVM is told to stop (or {@code stop} counts down, for
   * tests). A refused start prints why and returns 1.
   */
  static int server(Flags f, PrintStream out, PrintStream err, CountDownLatch stop) {
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("unexpected argument " + f.positional().get(0));
    }
    if (!f.has("data-dir")) {
      throw new Flags.UsageException("--data-dir is required");
    }
    if (f.has("peers") && f.has("join")) {
      throw new Flags.UsageException("give --peers (bootstrap) or --join, not both");
    }
    KvServer.Options options;
    try {
      if (f.has("raft")) {
        Peers.address(f.get("raft"));
      }
      if (f.has("http")) {
        Peers.address(f.get("http"));
      }
      if (f.has("resp")) {
        Peers.address(f.get("resp"));
      } else if (f.has("tls-client-ca") && !f.has("http-tls")) {
        throw new Flags.UsageException("--tls-client-ca is for --resp or --http-tls; give one");
      }
      if (f.has("http-tls") && !f.has("tls-cert")) {
        throw new Flags.UsageException("--http-tls needs --tls-cert and --tls-key");
      }
      if (f.has("http-tls") && !f.has("peer-tls-ca") && !f.has("tls-client-ca")) {
        throw new Flags.UsageException("--http-tls needs --peer-tls-ca or --tls-client-ca:"
            + " the CA of the other nodes' certificates, for writes forwarded to a leader");
      }
      if (f.has("auth-data") && !f.has("auth-token-file")) {
        throw new Flags.UsageException("--auth-data needs --auth-token-file");
      }
      options = new KvServer.Options(f.number("id", 0, 1, Long.MAX_VALUE),
          Path.of(f.get("data-dir")), f.get("raft"), f.get("http"), Peers.parse(f.get("peers")),
          f.get("join"), (int) f.number("groups", 0, 1, 1024), null);
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException(e.getMessage());
    }
    io.detraft.kv.resp.RespServer.Options respOptions;
    try {
      respOptions = Resp.options(f);
      if (respOptions.authToken() != null) {
        options = options.withTuning(options.tuning().withAuthToken(respOptions.authToken()));
      }
      options = options.withTuning(options.tuning().withPeerTls(Resp.peerTls(f))
          .withQuiesce(quiesce(f)).withAuthData(f.has("auth-data")));
      if (f.has("http-tls")) {
        options = options.withTuning(options.tuning().withHttpTls(Resp.httpTls(f),
            Resp.forwardingTls(f)));
      }
    } catch (IllegalStateException e) {
      err.println("detraft: cannot start: " + e.getMessage());
      return FAILED;
    }
    KvServer server;
    try {
      server = KvServer.start(options);
    } catch (IllegalStateException | IOException | java.io.UncheckedIOException e) {
      err.println("detraft: cannot start: " + e.getMessage());
      return FAILED;
    }
    String resp = "";
    if (f.has("resp")) {
      try {
        resp = ", resp " + Peers.format(Resp.serve(server, f.get("resp"), respOptions));
      } catch (IllegalStateException e) {
        server.close();
        err.println("detraft: cannot start: " + e.getMessage());
        return FAILED;
      }
    }
    out.println("node " + server.nodeId() + " of cluster " + server.clusterId() + ": http "
        + Peers.format(server.httpAddress()) + ", raft " + server.raftAddress() + resp);
    return serveUntilStopped(List.of(server), stop);
  }

  /** A local cluster of {@code --nodes} in this JVM; prints the endpoints, serves until stopped. */
  static int cluster(Flags f, PrintStream out, CountDownLatch stop) {
    int nodes = (int) f.number("nodes", 3, 1, 9);
    int basePort = (int) f.number("base-port", 8081, 0, 65000);
    int groups = (int) f.number("groups", Partitioner.DEFAULT_GROUPS, 1, 1024);
    int quiesce = quiesce(f);
    Path dir;
    try {
      dir = f.has("data-dir") ? Path.of(f.get("data-dir"))
          : Files.createTempDirectory("detraft-cluster-");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Path tls = f.has("tls-dir") ? Path.of(f.get("tls-dir")) : null;
    java.util.SortedMap<Long, String> peers = new java.util.TreeMap<>();
    for (long id = 1; id <= nodes; id++) {
      peers.put(id, "127.0.0.1:" + (basePort == 0 ? Ports.free() : basePort - 1000 + id - 1));
    }
    List<KvServer> servers = new java.util.ArrayList<>();
    List<java.net.InetSocketAddress> respAddresses = new java.util.ArrayList<>();
    try {
      for (long id = 1; id <= nodes; id++) {
        Path nodeDir = dir.resolve("node-" + id);
        KvServer.Options options = NodeMetadata.read(nodeDir).isPresent()
            ? KvServer.Options.restart(nodeDir)
            : new KvServer.Options(id, nodeDir, null, "127.0.0.1:"
                + (basePort == 0 ? 0 : basePort + id - 1), peers, null, groups, null);
        KvServer.Tuning tuning = options.tuning().withQuiesce(quiesce);
        io.detraft.kv.resp.RespServer.Options resp =
            io.detraft.kv.resp.RespServer.Options.defaults();
        if (tls != null) {
          // Everything on mutual TLS with detraft certs' files: Raft, HTTPS, RESP.
          Path ca = tls.resolve("ca.pem");
          Path cert = tls.resolve("node-" + id + ".pem");
          Path key = tls.resolve("node-" + id + ".key");
          javax.net.ssl.SSLContext nodeTls = TlsFiles.context(ca, cert, key);
          tuning = tuning.withPeerTls(nodeTls).withHttpTls(Resp.tls(cert, key, ca), nodeTls);
          resp = resp.withTls(Resp.tls(cert, key, ca));
        }
        servers.add(KvServer.start(options.withTuning(tuning)));
        respAddresses.add(Resp.serve(servers.get(servers.size() - 1), "127.0.0.1:"
            + (basePort == 0 ? 0 : basePort - 2000 + id - 1), resp));
      }
    } catch (IOException | RuntimeException e) {
      servers.forEach(KvServer::close);
      out.println("detraft: cannot start the cluster: " + e.getMessage());
      return FAILED;
    }
    StringBuilder endpoints = new StringBuilder();
    for (KvServer s : servers) {
      out.println("node " + s.nodeId() + (tls == null ? ": http " : ": https ")
          + Peers.format(s.httpAddress()) + "  raft "
          + s.raftAddress() + "  resp " + Peers.format(respAddresses.get(servers.indexOf(s)))
          + "  data " + dir.resolve("node-" + s.nodeId()));
      endpoints.append(endpoints.length() == 0 ? "" : ",").append(
          Peers.format(s.httpAddress()));
    }
    out.println("cluster " + servers.get(0).clusterId() + " with " + groups + " groups; try:");
    out.println("  export DETRAFT_ENDPOINTS=" + endpoints);
    if (tls == null) {
      out.println("  curl -X PUT --data-binary world http://" + Peers.format(
          servers.get(0).httpAddress()) + "/v1/kv/hello");
      out.println("  redis-cli -p " + respAddresses.get(0).getPort() + " set hello world");
    } else {
      String client = "--cacert " + tls.resolve("ca.pem") + " --cert " + tls.resolve(
          "client.pem") + " --key " + tls.resolve("client.key");
      out.println("  curl " + client + " -X PUT --data-binary world https://" + Peers.format(
          servers.get(0).httpAddress()) + "/v1/kv/hello");
      out.println("  redis-cli --tls " + client + " -p " + respAddresses.get(0).getPort()
          + " set hello world");
      out.println("  ./detraft get hello --tls-ca " + tls.resolve("ca.pem") + " --tls-cert "
          + tls.resolve("client.pem") + " --tls-key " + tls.resolve("client.key"));
    }
    out.flush();
    return serveUntilStopped(servers, stop);
  }

  /**
   * Serves until the JVM is told to stop, {@code stop} counts down (tests), or a node stops
   * by itself (a failed disk or state machine: fail-stop), which exits 1.
   */
  private static int serveUntilStopped(List<KvServer> servers, CountDownLatch stop) {
    CountDownLatch done = stop != null ? stop : new CountDownLatch(1);
    // Set before the hook closes the nodes, so that nodes stopped by it are not taken for
    // nodes that stopped by themselves (and the hook is not removed during shutdown).
    java.util.concurrent.atomic.AtomicBoolean shuttingDown =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread hook = new Thread(() -> {
      shuttingDown.set(true);
      servers.forEach(KvServer::close); // closes every map cleanly, fsyncs the log
      done.countDown();
    }, "detraft-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int status = OK;
    try {
      while (!done.await(1, java.util.concurrent.TimeUnit.SECONDS) && !shuttingDown.get()) {
        KvServer failed = servers.stream().filter(s -> !s.isRunning()).findFirst()
            .orElse(null);
        if (failed != null && !shuttingDown.get()) {
          System.err.println("detraft: node " + failed.nodeId() + " stopped: "
              + failed.failure().map(String::valueOf).orElse("unknown cause"));
          status = FAILED;
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!shuttingDown.get() && (stop != null || status != OK)) {
      Runtime.getRuntime().removeShutdownHook(hook);
      servers.forEach(KvServer::close);
    }
    return status;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new java.util.HashSet<>(a);
    out.addAll(b);
    return out;
  }
}
