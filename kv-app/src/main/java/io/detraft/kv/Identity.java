package io.detraft.kv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Decides who a starting node is, from its data directory and its flags, and refuses the
 * combinations that dragonboat and hashicorp/raft users learn about the hard way: restarting
 * with other peers than the node was bootstrapped with, reusing a data directory of another
 * cluster, joining with an id that is already in use, joining without being added first.
 */
final class Identity {
  private Identity() {}

  /** A refusal to start; the message tells the operator what to do instead. */
  static final class StartupException extends RuntimeException {
    StartupException(String message) {
      super(message);
    }
  }

  /** @param voters the voters the runner starts a group with (bootstrap or current) */
  record Resolved(NodeMetadata metadata, long[] voters, boolean bootstrapVoter, boolean fresh) {}

  static Resolved resolve(KvServer.Options o) {
    Optional<NodeMetadata> existing = NodeMetadata.read(o.dataDir());
    if (existing.isPresent()) {
      return restart(o, existing.get());
    }
    if (o.join() != null) {
      return join(o);
    }
    if (o.peers().isEmpty()) {
      throw new StartupException(o.dataDir() + " holds no node: bootstrap a cluster with "
          + "--id, --peers and --http, or join one with --id, --join and --raft/--http");
    }
    return bootstrap(o);
  }

  private static Resolved restart(KvServer.Options o, NodeMetadata m) {
    String dir = o.dataDir().toString();
    if (o.join() != null) {
      String seedCluster = seedCluster(o.join());
      if (seedCluster != null && !seedCluster.equals(m.clusterId())) {
        throw new StartupException(dir + " belongs to cluster " + m.clusterId() + " (node "
            + m.nodeId() + "), but " + o.join() + " serves cluster " + seedCluster
            + ": use an empty data directory to join it");
      }
      throw new StartupException(dir + " already holds node " + m.nodeId() + " of cluster "
          + m.clusterId() + ": restart it with only --data-dir");
    }
    if (o.nodeId() != 0 && o.nodeId() != m.nodeId()) {
      throw new StartupException(dir + " belongs to node " + m.nodeId() + ", not node "
          + o.nodeId());
    }
    if (!o.peers().isEmpty() && !o.peers().equals(m.initialPeers())) {
      String other = Peers.clusterIdOf(o.peers(), m.groups());
      throw new StartupException("node " + m.nodeId() + " in " + dir + " was bootstrapped with "
          + "--peers " + Peers.format(m.initialPeers()) + " (cluster " + m.clusterId()
          + "), not " + Peers.format(o.peers()) + " (that would be cluster " + other + "). "
          + "Membership now comes from the log: restart with only --data-dir, and change "
          + "members through the admin API");
    }
    if (o.groups() != 0 && o.groups() != m.groups()) {
      throw new StartupException("the cluster in " + dir + " has " + m.groups()
          + " groups; the group count is fixed when a cluster is created");
    }
    // A node may move: new --raft/--http addresses replace the recorded ones (KvServer writes
    // them down) and reach the others through the address book (Reconciler publishes them).
    NodeMetadata moved = m.withAddresses(
        o.raftAddress() != null ? o.raftAddress() : m.raftAddress(),
        o.httpAddress() != null ? o.httpAddress() : m.httpAddress());
    long[] voters = m.initialPeers().keySet().stream().mapToLong(Long::longValue).toArray();
    return new Resolved(moved, voters, !m.joined(), false);
  }

  private static Resolved bootstrap(KvServer.Options o) {
    if (o.nodeId() <= 0) {
      throw new StartupException("--id is required to bootstrap");
    }
    String own = o.peers().get(o.nodeId());
    if (own == null) {
      throw new StartupException("--peers " + Peers.format(o.peers()) + " does not list this "
          + "node (" + o.nodeId() + ")");
    }
    if (o.raftAddress() != null && !o.raftAddress().equals(own)) {
      throw new StartupException("--raft " + o.raftAddress() + " differs from this node's "
          + "entry in --peers (" + own + ")");
    }
    if (o.httpAddress() == null) {
      throw new StartupException("--http is required to bootstrap");
    }
    checkEmpty(o.dataDir());
    int groups = o.groups() == 0 ? Partitioner.DEFAULT_GROUPS : o.groups();
    NodeMetadata m = new NodeMetadata(Peers.clusterIdOf(o.peers(), groups), o.nodeId(), groups,
        own, o.httpAddress(), new TreeMap<>(o.peers()), false);
    long[] voters = o.peers().keySet().stream().mapToLong(Long::longValue).toArray();
    return new Resolved(m, voters, true, true);
  }

  /** Asks a member for the cluster, and checks this node was added and its id is unused. */
  private static Resolved join(KvServer.Options o) {
    if (o.nodeId() <= 0 || o.raftAddress() == null || o.httpAddress() == null) {
      throw new StartupException("--join needs --id, --raft and --http");
    }
    checkEmpty(o.dataDir());
    Map<String, Object> members = fetchMembers(o.join());
    String cluster = String.valueOf(members.get("cluster"));
    int groups = ((Number) members.get("groups")).intValue();
    SortedMap<Long, String> peers = new TreeMap<>();
    List<Long> voters = new java.util.ArrayList<>();
    Map<String, Object> me = null;
    for (Object item : (List<?>) members.get("members")) {
      @SuppressWarnings("unchecked")
      Map<String, Object> member = (Map<String, Object>) item;
      long id = ((Number) member.get("id")).longValue();
      if (member.get("raft") != null) {
        peers.put(id, String.valueOf(member.get("raft")));
      }
      if ("voter".equals(member.get("role"))) {
        voters.add(id);
      }
      if (id == o.nodeId()) {
        me = member;
      }
    }
    if (((List<?>) members.get("removed")).stream()
        .anyMatch(id -> ((Number) id).longValue() == o.nodeId())) {
      throw new StartupException("node id " + o.nodeId() + " was removed from cluster "
          + cluster + "; ids are never reused: add this node under a new id");
    }
    if (me == null) {
      throw new StartupException("node " + o.nodeId() + " is not a member of cluster "
          + cluster + ": add it first (POST /v1/members {\"id\":" + o.nodeId() + ",\"raft\":\""
          + o.raftAddress() + "\"}), then start it with --join");
    }
    if (me.get("http") != null) {
      throw new StartupException("node id " + o.nodeId() + " is already in use in cluster "
          + cluster + " (it serves " + me.get("http") + "): choose a new id, or restart that "
          + "node from its own data directory");
    }
    if (!o.raftAddress().equals(me.get("raft"))) {
      throw new StartupException("node " + o.nodeId() + " was added with Raft address "
          + me.get("raft") + ", not " + o.raftAddress());
    }
    NodeMetadata m = new NodeMetadata(cluster, o.nodeId(), groups, o.raftAddress(),
        o.httpAddress(), peers, true);
    return new Resolved(m, voters.stream().mapToLong(Long::longValue).toArray(), false, true);
  }

  private static Map<String, Object> fetchMembers(String seed) {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(5), 1)) {
      HttpPool.Response r = pool.send(Peers.address(seed), "GET", "/v1/members", Map.of(),
          null);
      if (r.status() != 200) {
        throw new StartupException(seed + " answered " + r.status() + ": " + r.text());
      }
      return Json.parseObject(r.text());
    } catch (IOException | Json.ParseException e) {
      throw new StartupException("cannot ask " + seed + " for the cluster's members: " + e);
    }
  }

  private static String seedCluster(String seed) {
    try {
      return String.valueOf(fetchMembers(seed).get("cluster"));
    } catch (StartupException e) {
      return null;
    }
  }

  private static void checkEmpty(Path dataDir) {
    if (!Files.isDirectory(dataDir)) {
      return;
    }
    try (var files = Files.list(dataDir)) {
      Optional<Path> any = files.findAny();
      if (any.isPresent()) {
        throw new StartupException(dataDir + " is not empty (" + any.get().getFileName()
            + ") and holds no " + NodeMetadata.FILE + ": it belongs to something else; "
            + "use an empty directory");
      }
    } catch (IOException e) {
      throw new StartupException("cannot read " + dataDir + ": " + e);
    }
  }
}
