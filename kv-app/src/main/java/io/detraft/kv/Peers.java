package io.detraft.kv;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Parsing and printing of {@code 1=host:port,2=host:port} and of single addresses. */
final class Peers {
  private Peers() {}

  static SortedMap<Long, String> parse(String spec) {
    SortedMap<Long, String> peers = new TreeMap<>();
    if (spec == null || spec.isBlank()) {
      return peers;
    }
    for (String part : spec.split(",")) {
      String[] idAddress = part.trim().split("=", 2);
      if (idAddress.length != 2) {
        throw new IllegalArgumentException("expected ID=HOST:PORT, got '" + part + "'");
      }
      long id;
      try {
        id = Long.parseLong(idAddress[0].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a node id: '" + idAddress[0] + "'");
      }
      if (id <= 0) {
        throw new IllegalArgumentException("node ids are positive: " + id);
      }
      address(idAddress[1].trim()); // validates
      if (peers.put(id, idAddress[1].trim()) != null) {
        throw new IllegalArgumentException("node " + id + " listed twice");
      }
    }
    return peers;
  }

  static String format(Map<Long, String> peers) {
    StringBuilder out = new StringBuilder();
    new TreeMap<>(peers).forEach((id, address) ->
        out.append(out.length() == 0 ? "" : ",").append(id).append('=').append(address));
    return out.toString();
  }

  /** {@code HOST:PORT} (port 0 allowed: any free port). */
  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + hostPort + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bad port in '" + hostPort + "'");
    }
    return new InetSocketAddress(hostPort.substring(0, colon), port);
  }

  static String format(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  /**
   * The cluster id of a bootstrapped cluster: derived from the bootstrap peers and the group
   * count, so every node bootstrapped with the same flags agrees without talking, and nodes
   * bootstrapped with different peer lists refuse each other at the transport handshake.
   */
  static String clusterIdOf(SortedMap<Long, String> peers, int groups) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((format(peers) + "/" + groups).getBytes(StandardCharsets.UTF_8));
      return "kv-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
