package io.detraft.kv.resp;

import io.detraft.core.Role;
import io.detraft.core.Status;
import io.detraft.kv.KvAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The server-describing replies: COMMAND, INFO, HELLO's map, and the command table behind them. */
final class ServerInfo {
  /** The Redis version whose replies this front end follows (clients check it). */
  static final String REDIS_VERSION = "7.0.15";

  /** Every command served, with Redis's arity (n: exactly, -n: at least) and flags. */
  static final Map<String, Integer> ARITY = arity();

  private static final long STARTED_NANOS = System.nanoTime();

  private ServerInfo() {}

  private static Map<String, Integer> arity() {
    TreeMap<String, Integer> all = new TreeMap<>(DataCommands.ARITY);
    all.putAll(Map.ofEntries(Map.entry("ping", -1), Map.entry("echo", 2),
        Map.entry("hello", -1), Map.entry("auth", -2), Map.entry("select", 2),
        Map.entry("quit", -1), Map.entry("command", -1), Map.entry("client", -2),
        Map.entry("info", -1), Map.entry("multi", 1), Map.entry("exec", 1),
        Map.entry("discard", 1), Map.entry("watch", -2), Map.entry("unwatch", 1),
        Map.entry("readonly", 1), Map.entry("readwrite", 1)));
    return java.util.Collections.unmodifiableMap(all);
  }

  static boolean arityHolds(String name, int argumentCount) {
    int arity = ARITY.get(name);
    return arity > 0 ? argumentCount == arity : argumentCount >= -arity;
  }

  /** COMMAND, COMMAND COUNT, COMMAND INFO name..., COMMAND DOCS [name...]. */
  static Reply command(List<byte[]> args) {
    if (args.size() == 1) {
      List<Reply> all = new ArrayList<>();
      ARITY.keySet().forEach(name -> all.add(describe(name)));
      return new Reply.Array(all);
    }
    String sub = DataCommands.lower(args.get(1));
    switch (sub) {
      case "count":
        return new Reply.Int(ARITY.size());
      case "info": {
        List<Reply> out = new ArrayList<>();
        for (byte[] name : args.subList(2, args.size())) {
          String n = DataCommands.lower(name);
          out.add(ARITY.containsKey(n) ? describe(n) : Reply.NIL);
        }
        return new Reply.Array(out);
      }
      case "docs":
        return new Reply.Map(List.of()); // redis-cli asks at start; no docs is a valid answer
      default:
        return Reply.error("ERR unknown subcommand '" + sub + "'. Try COMMAND HELP.");
    }
  }

  /** Redis's six-field command description: name, arity, flags, first key, last key, step. */
  private static Reply describe(String name) {
    boolean data = DataCommands.ARITY.containsKey(name);
    boolean write = data && !List.of("get", "strlen", "llen", "exists", "mget", "lrange")
        .contains(name);
    List<Reply> flags = new ArrayList<>();
    flags.add(new Reply.Simple(write ? "write" : data ? "readonly" : "fast"));
    long last = !data ? 0 : List.of("del", "exists", "mget", "mset", "msetnx").contains(name)
        ? -1 : 1;
    long step = !data ? 0 : name.startsWith("mset") ? 2 : 1;
    return new Reply.Array(List.of(Reply.bulk(name), new Reply.Int(ARITY.get(name)),
        new Reply.Array(flags), new Reply.Int(data ? 1 : 0), new Reply.Int(last),
        new Reply.Int(step)));
  }

  /** HELLO's answer, a map. */
  static Reply hello(long connectionId, int protocol) {
    return new Reply.Map(List.of(Reply.bulk("server"), Reply.bulk("redis"),
        Reply.bulk("version"), Reply.bulk(REDIS_VERSION), Reply.bulk("proto"),
        new Reply.Int(protocol), Reply.bulk("id"), new Reply.Int(connectionId),
        Reply.bulk("mode"), Reply.bulk("standalone"), Reply.bulk("role"),
        Reply.bulk("master"), Reply.bulk("modules"), new Reply.Array(List.of())));
  }

  /**
   * INFO [section ...]: "server" and "replication" (default: both). Replication lists every
   * group: this node's role in it, the leader, the term, the commit and applied index.
   */
  static Reply info(KvAccess access, int port, List<byte[]> args) {
    List<String> sections = new ArrayList<>();
    args.subList(1, args.size()).forEach(a -> sections.add(DataCommands.lower(a)));
    boolean all = sections.isEmpty() || sections.contains("all") || sections.contains("default")
        || sections.contains("everything");
    StringBuilder out = new StringBuilder();
    if (all || sections.contains("server")) {
      out.append("# Server\r\n")
          .append("redis_version:").append(REDIS_VERSION).append("\r\n")
          .append("redis_mode:standalone\r\n")
          .append("detraft_node:").append(access.nodeId()).append("\r\n")
          .append("detraft_cluster:").append(access.clusterId()).append("\r\n")
          .append("process_id:").append(ProcessHandle.current().pid()).append("\r\n")
          .append("tcp_port:").append(port).append("\r\n")
          .append("uptime_in_seconds:")
          .append((System.nanoTime() - STARTED_NANOS) / 1_000_000_000L).append("\r\n");
    }
    if (all || sections.contains("replication")) {
      List<Status> statuses = access.statuses();
      boolean leadsAny = statuses.stream().anyMatch(s -> s.role() == Role.LEADER);
      if (out.length() > 0) {
        out.append("\r\n");
      }
      out.append("# Replication\r\n")
          .append("role:").append(leadsAny ? "master" : "slave").append("\r\n")
          .append("groups:").append(statuses.size()).append("\r\n");
      for (Status s : statuses) {
        out.append("group").append(s.group()).append(":role=")
            .append(s.role().name().toLowerCase(Locale.ROOT)).append(",leader=")
            .append(s.leader()).append(",term=").append(s.term()).append(",commit=")
            .append(s.commit()).append(",applied=").append(s.applied()).append("\r\n");
      }
    }
    return Reply.bulk(out.toString());
  }
}
