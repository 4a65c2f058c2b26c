package io.detraft.kv;

import io.detraft.core.Role;
import io.detraft.io.NodeRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/** In-process KvServers on 127.0.0.1 with ephemeral ports, small maps and few groups. */
final class TestCluster implements AutoCloseable {
  static final int GROUPS = 3;
  final Path dir;
  final SortedMap<Long, String> peers = new TreeMap<>();
  final SortedMap<Long, KvServer> servers = new TreeMap<>();

  /** The admin token every node is started with (null: none). */
  private final byte[] authToken;

  TestCluster(Path dir, int size) throws IOException {
    this(dir, size, null);
  }

  /** Each node's mutual TLS between nodes, by node id (null: plain TCP). */
  private final java.util.function.LongFunction<javax.net.ssl.SSLContext> peerTls;

  TestCluster(Path dir, int size, byte[] authToken) throws IOException {
    this(dir, size, authToken, null);
  }

  TestCluster(Path dir, int size, byte[] authToken,
      java.util.function.LongFunction<javax.net.ssl.SSLContext> peerTls) throws IOException {
    this.dir = dir;
    this.authToken = authToken;
    this.peerTls = peerTls;
    for (long id = 1; id <= size; id++) {
      peers.put(id, "127.0.0.1:" + Ports.free());
    }
    for (long id = 1; id <= size; id++) {
      servers.put(id, KvServer.start(bootstrapOptions(id)));
    }
  }

  static KvServer.Tuning tuning() {
    return KvServer.Tuning.defaults().withSizing(ChronicleKvStore.Sizing.small())
        .withSnapshots(new NodeRunner.SnapshotPolicy(0, 50, 2));
  }

  private KvServer.Tuning tuning(long id) {
    return tuning().withAuthToken(authToken)
        .withPeerTls(peerTls == null ? null : peerTls.apply(id));
  }

  KvServer.Options bootstrapOptions(long id) {
    return new KvServer.Options(id, dir.resolve("n" + id), null, "127.0.0.1:0", peers, null,
        GROUPS, tuning(id));
  }

  List<String> endpoints() {
    List<String> out = new ArrayList<>();
    servers.values().forEach(s -> out.add(Peers.format(s.httpAddress())));
    return out;
  }

  String endpoint(long id) {
    return Peers.format(servers.get(id).httpAddress());
  }

  /**
   * Waits until every group has a leader that every running node agrees on, and no node leads
   * more than its share: otherwise the nodes would soon move leaderships (Reconciler), and a
   * test's first writes could meet a transfer.
   */
  void awaitLeaders() {
    await("a leader in every group, leaderships balanced", () -> {
      java.util.Map<Long, Integer> led = new java.util.HashMap<>();
      for (long g = 1; g <= GROUPS; g++) {
        long leader = -1;
        for (KvServer s : servers.values()) {
          long l = s.status(g).leader();
          if (l == 0 || (leader != -1 && l != leader)) {
            return false;
          }
          leader = l;
        }
        if (!servers.containsKey(leader)
            || servers.get(leader).status(g).role() != Role.LEADER) {
          return false;
        }
        led.merge(leader, 1, Integer::sum);
      }
      int share = (GROUPS + servers.size() - 1) / servers.size();
      return led.values().stream().allMatch(n -> n <= share);
    });
  }

  /** Keys that hash to {@code group} of the test cluster's groups. */
  static List<String> keysOf(long group, int count) {
    Partitioner p = new Partitioner(GROUPS);
    List<String> keys = new ArrayList<>();
    for (int i = 0; keys.size() < count; i++) {
      if (p.groupOf(("k" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8)) == group) {
        keys.add("k" + i);
      }
    }
    return keys;
  }

  /** The node leading {@code group}, or 0. */
  long leaderOf(long group) {
    for (KvServer s : servers.values()) {
      if (s.status(group).role() == Role.LEADER) {
        return s.nodeId();
      }
    }
    return 0;
  }

  void stop(long id) {
    servers.remove(id).close();
  }

  KvServer restart(long id) throws IOException {
    KvServer s = KvServer.start(KvServer.Options.restart(dir.resolve("n" + id))
        .withTuning(tuning(id)));
    servers.put(id, s);
    return s;
  }

  /** Restarts node {@code id} from its data directory at other addresses (it moved). */
  KvServer restartAt(long id, String raft, String http) throws IOException {
    KvServer s = KvServer.start(new KvServer.Options(0, dir.resolve("n" + id), raft, http, null,
        null, 0, tuning(id)));
    servers.put(id, s);
    return s;
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    servers.values().forEach(KvServer::close);
    servers.clear();
  }
}
