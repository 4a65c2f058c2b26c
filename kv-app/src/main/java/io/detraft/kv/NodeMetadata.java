package io.detraft.kv;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.SortedMap;

/**
 * Who a data directory belongs to ({@code node.properties}): this node's id and addresses,
 * the cluster id, the group count and the peers it was bootstrapped with. Written once when
 * the node is created (atomically: temp file, fsync, rename), read at every restart so that a
 * restart needs only {@code --data-dir} and a mismatched flag is caught instead of obeyed.
 *
 * @param initialPeers the bootstrap voters and their Raft addresses (for a joined node: the
 *     members it found when it joined)
 */
record NodeMetadata(String clusterId, long nodeId, int groups, String raftAddress,
    String httpAddress, SortedMap<Long, String> initialPeers, boolean joined) {
  static final String FILE = "node.properties";
  private static final int FORMAT = 1;

  static Optional<NodeMetadata> read(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      Properties p = new Properties();
      p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
      if (!String.valueOf(FORMAT).equals(p.getProperty("format"))) {
        throw new IllegalStateException(file + ": unknown format " + p.getProperty("format"));
      }
      return Optional.of(new NodeMetadata(p.getProperty("cluster.id"),
          Long.parseLong(p.getProperty("node.id")), Integer.parseInt(p.getProperty("groups")),
          p.getProperty("raft.address"), p.getProperty("http.address"),
          Peers.parse(p.getProperty("initial.peers")),
          Boolean.parseBoolean(p.getProperty("joined"))));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    } catch (RuntimeException e) {
      throw new IllegalStateException(file + " is damaged: " + e.getMessage(), e);
    }
  }

  void write(Path dataDir) {
    Properties p = new Properties();
    p.setProperty("format", String.valueOf(FORMAT));
    p.setProperty("cluster.id", clusterId);
    p.setProperty("node.id", String.valueOf(nodeId));
    p.setProperty("groups", String.valueOf(groups));
    p.setProperty("raft.address", raftAddress);
    p.setProperty("http.address", httpAddress);
    p.setProperty("initial.peers", Peers.format(initialPeers));
    p.setProperty("joined", String.valueOf(joined));
    try {
      StringWriter text = new StringWriter();
      p.store(text, "detraft node identity: do not edit, do not copy to another node");
      DurableFiles.replace(dataDir.resolve(FILE), text.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + dataDir.resolve(FILE), e);
    }
  }

  NodeMetadata withAddresses(String raftAddress, String httpAddress) {
    return new NodeMetadata(clusterId, nodeId, groups, raftAddress, httpAddress, initialPeers,
        joined);
  }
}
