package io.detraft.kv;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The cluster's directory of nodes, replicated as system records of group 1 so that every
 * node (and a restarted one, from its own store) knows every other node's addresses, and so
 * that the desired membership is written down once for every group to follow:
 *
 * <pre>
 * node/ID/raft  HOST:PORT   written by the admin API when the node is added (or at bootstrap)
 * node/ID/http  HOST:PORT   written by the node itself once it serves HTTP
 * node/ID/role  voter|learner|witness   what the admin asked for; each group's leader
 *                           converges to it
 * removed/ID    (any)       the node was removed; its id is never used again
 * group/G       ID,ID,...   group G was added to the running cluster with these voters (a
 *                           witness's id negated); every node starts a replica of it
 * </pre>
 *
 * <p>Separate keys, so that the admin and the node never overwrite each other's fields. A
 * witness's copy of group 1 holds no payloads, so a witness node learns the book from a data
 * replica instead ({@link BookMirror}).
 */
final class AddressBook {
  /** One node's entry; fields are null until written. */
  record Node(long id, String raft, String http, String role) {}

  private final Map<Long, Node> nodes = new ConcurrentHashMap<>();
  private final Set<Long> removed = ConcurrentHashMap.newKeySet();
  /** Groups added at runtime, with the voters they were bootstrapped with. */
  private final Map<Long, long[]> addedGroups = new ConcurrentHashMap<>();
  /** Told about every new or moved Raft address (to update the transport). */
  private final BiConsumer<Long, InetSocketAddress> raftAddressListener;

  AddressBook(BiConsumer<Long, InetSocketAddress> raftAddressListener) {
    this.raftAddressListener = raftAddressListener;
  }

  static String raftKey(long id) {
    return "node/" + id + "/raft";
  }

  static String httpKey(long id) {
    return "node/" + id + "/http";
  }

  static String roleKey(long id) {
    return "node/" + id + "/role";
  }

  static String removedKey(long id) {
    return "removed/" + id;
  }

  static String groupKey(long group) {
    return "group/" + group;
  }

  /** Takes in one system record (from apply, restore or the store at start). */
  void accept(String key, byte[] value) {
    String text = new String(value, StandardCharsets.UTF_8);
    String[] parts = key.split("/");
    try {
      if (parts.length == 2 && parts[0].equals("removed")) {
        removed.add(Long.parseLong(parts[1]));
        return;
      }
      if (parts.length == 2 && parts[0].equals("group")) {
        long[] voters = java.util.Arrays.stream(text.split(",")).mapToLong(Long::parseLong)
            .toArray();
        // Written once per group (the admin API refuses a second add); the store keeps the
        // last write, so the book does too, whether it learns it from the log or a snapshot.
        addedGroups.put(Long.parseLong(parts[1]), voters);
        return;
      }
      if (parts.length != 3 || !parts[0].equals("node")) {
        return; // a record of a newer version: not ours to interpret
      }
      long id = Long.parseLong(parts[1]);
      Node old = nodes.getOrDefault(id, new Node(id, null, null, null));
      Node updated = switch (parts[2]) {
        case "raft" -> new Node(id, text, old.http(), old.role());
        case "http" -> new Node(id, old.raft(), text, old.role());
        case "role" -> new Node(id, old.raft(), old.http(), text);
        default -> old;
      };
      nodes.put(id, updated);
      if (parts[2].equals("raft") && !text.equals(old.raft())) {
        raftAddressListener.accept(id, Peers.address(text));
      }
    } catch (IllegalArgumentException e) {
      // A damaged record must not stop the Raft thread; the admin can write it again.
      System.getLogger(AddressBook.class.getName()).log(System.Logger.Level.WARNING,
          "ignoring system record " + key + ": " + e.getMessage());
    }
  }

  Node node(long id) {
    return nodes.get(id);
  }

  /** The HTTP address of {@code id}, or null if it has not said. */
  InetSocketAddress http(long id) {
    Node n = nodes.get(id);
    return n == null || n.http() == null ? null : Peers.address(n.http());
  }

  SortedMap<Long, Node> nodes() {
    return new TreeMap<>(nodes);
  }

  /** The groups added at runtime and their bootstrap voters, by group id. */
  SortedMap<Long, long[]> addedGroups() {
    return new TreeMap<>(addedGroups);
  }

  /**
   * The book as system records again (key to value, in key order): what a node that holds no
   * payloads of group 1 (a witness) copies from a data replica ({@link BookMirror}).
   */
  SortedMap<String, String> records() {
    TreeMap<String, String> out = new TreeMap<>();
    nodes.forEach((id, n) -> {
      if (n.raft() != null) {
        out.put(raftKey(id), n.raft());
      }
      if (n.http() != null) {
        out.put(httpKey(id), n.http());
      }
      if (n.role() != null) {
        out.put(roleKey(id), n.role());
      }
    });
    removed.forEach(id -> out.put(removedKey(id), "removed"));
    addedGroups.forEach((g, voters) -> {
      StringBuilder csv = new StringBuilder();
      for (long v : voters) {
        csv.append(csv.length() == 0 ? "" : ",").append(v);
      }
      out.put(groupKey(g), csv.toString());
    });
    return out;
  }

  boolean isRemoved(long id) {
    return removed.contains(id);
  }

  SortedMap<Long, Boolean> removed() {
    TreeMap<Long, Boolean> out = new TreeMap<>();
    removed.forEach(id -> out.put(id, true));
    return out;
  }
}
