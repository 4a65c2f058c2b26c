package io.detraft.core;

import io.detraft.core.Message.AppendRequest;
import io.detraft.core.Message.AppendResponse;
import io.detraft.core.Message.Heartbeat;
import io.detraft.core.Message.HeartbeatResponse;
import io.detraft.core.Message.InstallSnapshot;
import io.detraft.core.Message.Propose;
import io.detraft.core.Message.ReadIndexRequest;
import io.detraft.core.Message.ReadIndexResponse;
import io.detraft.core.Message.SnapshotResponse;
import io.detraft.core.Message.TimeoutNow;
import io.detraft.core.Message.VoteRequest;
import io.detraft.core.Message.VoteResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A scripted cluster for golden-file scenarios, after etcd-io/raft's {@code rafttest}
 * InteractionEnv. Each node is a {@link RawNode} over a {@link MemoryLogStorage}; nothing
 * happens until a command says so. A node's Ready is handled only by {@code process-ready} or
 * {@code stabilize}, honouring the contract: persist hard state and entries, then queue the
 * messages, then apply committed entries, then advance. Queued messages wait, per recipient,
 * until {@code deliver-msgs} or {@code stabilize} hands them over.
 *
 * <p>Commands (one per line; {@code [..]} optional):
 *
 * <pre>
 * add-nodes N [pre-vote=false] [check-quorum=false] [forward=true] [election=10]
 *             [heartbeat=1] [max-append-bytes=1048576] [max-inflight=256]
 *             [snapshot-chunk-bytes=1048576] [voters=1,2,...] [lease-reads=false]
 *                              nodes 1..N; the initial voters (default: all) are the
 *                              membership every node starts with
 *                              nodes 1..N, all voters; seed of node i is i
 * campaign ID                  start an election now (PreVote first if configured)
 * tick ID [N]                  N ticks (default 1)
 * tick-election ID             a leader: electionTimeout ticks (one CheckQuorum round);
 *                              others: tick until the election timer fires (role or term
 *                              changes, or the tick produced a Ready), at most
 *                              2*electionTimeout-1 ticks (covers any randomized timeout)
 * tick-heartbeat ID            heartbeatInterval ticks
 * propose ID DATA              prints the ProposeResult
 * transfer-leadership ID TARGET
 * read-index ID CTX            request a linearizable read; its ReadState shows in a Ready
 * propose-membership ID CHANGE NODE
 *                              CHANGE is add-voter, add-learner, promote, demote or remove
 * process-ready [ID...]        handle one Ready per node (default: all)
 * deliver-msgs [ID...] [drop=ID,...] [type=Name]
 *                              deliver queued messages to these recipients (default: all);
 *                              messages to the drop= recipients are discarded; with type=,
 *                              only messages of that type move, others stay queued
 * drop-msgs [ID...]            discard queued messages to these recipients (default: all)
 * stabilize [ID...]            process-ready and deliver among these nodes until quiet
 * partition 1 2 | 3 [| ...]    cut links between groups (unnamed nodes are alone); a message
 *                              crossing a cut is dropped when sent and when delivered
 * heal                         remove the partition
 * restart ID                   crash and restart from what the storage holds
 * compact ID INDEX             snapshot the state machine at INDEX (applied) and discard
 *                              the log up to it
 * status ID / raft-state       role, term, leader, commit of one / every node
 * log [ID...]                  the entries each node's storage holds
 * applied [ID...]              the entries each node's state machine was given
 * membership [ID...]           the membership each node's log puts in force
 * </pre>
 *
 * <p>Whenever stepping, ticking or campaigning changes a node's role, term or leader, the
 * change is printed as {@code ID: OLD -> NEW}.
 */
final class InteractionEnv {
  private static final long GROUP = 1;

  private static final class Node {
    final long id;
    final Config config;
    final MemoryLogStorage storage;
    RawNode raw;
    /** Entries handed to the state machine, in order, after the restored snapshot if any. */
    final List<Entry> applied = new ArrayList<>();
    /** The snapshot the state machine was last restored from (index 0: none). */
    Snapshot restored = Snapshot.empty(Membership.of(1));

    Node(long id, Config config, MemoryLogStorage storage) {
      this.id = id;
      this.config = config;
      this.storage = storage;
      this.raw = new RawNode(config, storage, id);
    }

    long appliedIndex() {
      return applied.isEmpty() ? restored.index() : applied.get(applied.size() - 1).index();
    }

    /** The state machine's image up to {@code index}: the data applied, comma-separated. */
    byte[] image(long index) {
      StringBuilder sb = new StringBuilder(new String(restored.data(), StandardCharsets.UTF_8));
      for (Entry e : applied) {
        if (e.index() <= index && e.data().length > 0) {
          sb.append(sb.length() == 0 ? "" : ",").append(new String(e.data(),
              StandardCharsets.UTF_8));
        }
      }
      return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
  }

  private final TreeMap<Long, Node> nodes = new TreeMap<>();
  /** Messages sent and not yet delivered, by recipient, in sending order. */
  private final TreeMap<Long, List<Message>> queues = new TreeMap<>();
  /** Node to partition side; empty when healed. */
  private final TreeMap<Long, Integer> sides = new TreeMap<>();
  private final List<String> out = new ArrayList<>();

  /** Runs one command line and returns its output lines (never empty, never blank). */
  List<String> run(String commandLine) {
    out.clear();
    Args args = Args.parse(commandLine);
    switch (args.command) {
      case "add-nodes" -> addNodes(args);
      case "campaign" -> campaign(args);
      case "tick" -> tick(args);
      case "tick-election" -> tickElection(args);
      case "tick-heartbeat" -> tickHeartbeat(args);
      case "propose" -> propose(args);
      case "propose-membership" -> proposeMembership(args);
      case "transfer-leadership" -> transferLeadership(args);
      case "read-index" -> readIndex(args);
      case "process-ready" -> processReady(args);
      case "deliver-msgs" -> deliverMsgs(args);
      case "drop-msgs" -> dropMsgs(args);
      case "stabilize" -> stabilize(args);
      case "partition" -> partition(args);
      case "heal" -> heal(args);
      case "restart" -> restart(args);
      case "compact" -> compact(args);
      case "status" -> status(args);
      case "raft-state" -> raftState(args);
      case "log" -> log(args);
      case "applied" -> applied(args);
      case "membership" -> membership(args);
      default -> throw new IllegalArgumentException("unknown command '" + args.command + "'");
    }
    args.requireNoOtherOptions(); // Handlers read their options first, so a typo fails here.
    if (out.isEmpty()) {
      out.add("ok");
    }
    for (String line : out) {
      if (line.isBlank()) {
        throw new IllegalStateException("blank output line from '" + commandLine + "'");
      }
    }
    return List.copyOf(out);
  }

  // ---------------------------------------------------------------- commands

  private void addNodes(Args args) {
    if (!nodes.isEmpty()) {
      throw new IllegalArgumentException("add-nodes may be used once per scenario");
    }
    int count = args.positionalInt(0);
    args.requirePositional(1);
    long[] ids = new long[count];
    for (int i = 0; i < count; i++) {
      ids[i] = i + 1;
    }
    boolean preVote = args.flag("pre-vote", false);
    boolean checkQuorum = args.flag("check-quorum", false);
    boolean forward = args.flag("forward", true);
    int election = (int) args.number("election", 10);
    int heartbeat = (int) args.number("heartbeat", 1);
    long maxAppendBytes = args.number("max-append-bytes", 1 << 20);
    int maxInflight = (int) args.number("max-inflight", 256);
    int chunkBytes = (int) args.number("snapshot-chunk-bytes", 1 << 20);
    boolean leaseReads = args.flag("lease-reads", false);
    List<Long> listed = args.list("voters");
    Membership bootstrap = listed.isEmpty() ? Membership.of(ids)
        : Membership.of(listed.stream().mapToLong(Long::longValue).toArray());
    for (long id : ids) {
      Config config = Config.defaults(id).withGroup(GROUP).withTimeouts(election, heartbeat)
          .withPreVote(preVote).withCheckQuorum(checkQuorum).withForwardProposals(forward)
          .withFlowControl(maxAppendBytes, maxInflight).withSnapshotChunkBytes(chunkBytes)
          .withLeaseReads(leaseReads, 2);
      nodes.put(id, new Node(id, config, new MemoryLogStorage(bootstrap)));
      queues.put(id, new ArrayList<>());
      out.add(id + ": " + state(nodes.get(id)));
    }
    out.add(String.format("voters=%s pre-vote=%s check-quorum=%s forward=%s election=%d "
            + "heartbeat=%d max-append-bytes=%d max-inflight=%d",
        bootstrap.toString().substring("voters=".length()), preVote, checkQuorum,
        forward, election, heartbeat, maxAppendBytes, maxInflight));
  }

  private void campaign(Args args) {
    Node node = node(args.positionalLong(0));
    args.requirePositional(1);
    String before = state(node);
    node.raw.campaign();
    printTransition(node, before, "");
  }

  private void tick(Args args) {
    Node node = node(args.positionalLong(0));
    int count = args.positional.size() > 1 ? args.positionalInt(1) : 1;
    args.requirePositional(2);
    for (int i = 1; i <= count; i++) {
      tickOnce(node, i);
    }
  }

  private void tickElection(Args args) {
    Node node = node(args.positionalLong(0));
    args.requirePositional(1);
    int timeout = node.config.electionTimeoutTicks();
    if (node.raw.status().role() == Role.LEADER) {
      for (int i = 1; i <= timeout; i++) {
        tickOnce(node, i);
      }
      return;
    }
    // Stop at the tick whose timeout fired: the role or term changed, or (a pre-candidate
    // starting another PreVote round) the tick produced messages.
    String start = state(node);
    int ticks = 0;
    boolean fired = false;
    while (ticks < 2 * timeout - 1 && !fired) {
      boolean hadReady = node.raw.hasReady();
      tickOnce(node, ++ticks);
      fired = !state(node).equals(start) || (!hadReady && node.raw.hasReady());
    }
    out.add("ticked " + ticks + " times" + (fired ? "" : ", no timeout"));
  }

  private void tickHeartbeat(Args args) {
    Node node = node(args.positionalLong(0));
    args.requirePositional(1);
    for (int i = 1; i <= node.config.heartbeatIntervalTicks(); i++) {
      tickOnce(node, i);
    }
  }

  private void tickOnce(Node node, int tickNumber) {
    String before = state(node);
    node.raw.tick();
    printTransition(node, before, " (tick " + tickNumber + ")");
  }

  private void propose(Args args) {
    Node node = node(args.positionalLong(0));
    if (args.positional.size() != 2) {
      throw new IllegalArgumentException("usage: propose ID DATA");
    }
    String before = state(node);
    ProposeResult result = node.raw.propose(args.positional.get(1).getBytes(
        StandardCharsets.UTF_8));
    out.add(result.toString());
    printTransition(node, before, "");
  }

  private void transferLeadership(Args args) {
    Node node = node(args.positionalLong(0));
    long target = args.positionalLong(1);
    args.requirePositional(2);
    String before = state(node);
    out.add(node.raw.transferLeadership(target).toString());
    printTransition(node, before, "");
  }

  private void readIndex(Args args) {
    Node node = node(args.positionalLong(0));
    if (args.positional.size() != 2) {
      throw new IllegalArgumentException("usage: read-index ID CTX");
    }
    String before = state(node);
    out.add(node.raw.readIndex(args.positional.get(1).getBytes(StandardCharsets.UTF_8))
        .toString());
    printTransition(node, before, "");
  }

  private void proposeMembership(Args args) {
    Node node = node(args.positionalLong(0));
    if (args.positional.size() != 3) {
      throw new IllegalArgumentException("usage: propose-membership ID CHANGE NODE");
    }
    MembershipChange.Type type = switch (args.positional.get(1)) {
      case "add-voter" -> MembershipChange.Type.ADD_VOTER;
      case "add-learner" -> MembershipChange.Type.ADD_LEARNER;
      case "promote" -> MembershipChange.Type.PROMOTE_LEARNER;
      case "demote" -> MembershipChange.Type.DEMOTE_VOTER;
      case "remove" -> MembershipChange.Type.REMOVE;
      default -> throw new IllegalArgumentException("unknown change " + args.positional.get(1));
    };
    String before = state(node);
    ProposeResult result = node.raw.proposeMembership(
        new MembershipChange(type, args.positionalLong(2)));
    out.add(result.toString());
    printTransition(node, before, "");
  }

  private void processReady(Args args) {
    for (Node node : nodesNamedOrAll(args)) {
      if (!node.raw.hasReady()) {
        out.add("> " + node.id + ": no Ready");
        continue;
      }
      handleReady(node);
    }
  }

  /** One turn of the host loop: persist, send, apply, advance. */
  private void handleReady(Node node) {
    Ready rd = node.raw.ready();
    out.add("> " + node.id + " handling Ready" + (rd.mustSync() ? " (must sync)" : ""));
    if (rd.softState() != null) {
      out.add("  State: " + rd.softState().role() + " leader=" + rd.softState().leader());
    }
    HardState hard = rd.hardState();
    if (hard != null) {
      out.add("  HardState: term=" + hard.term() + " vote=" + hard.vote() + " commit="
          + hard.commit());
    }
    if (rd.snapshot() != null) {
      out.add("  Snapshot: " + snapshot(rd.snapshot()));
    }
    if (!rd.entries().isEmpty()) {
      out.add("  Entries: " + entries(rd.entries()));
    }
    if (!rd.committedEntries().isEmpty()) {
      out.add("  Committed: " + entries(rd.committedEntries()));
    }
    for (ReadState read : rd.readStates()) {
      out.add("  ReadState: index=" + read.index() + " ctx=" + data(read.context()));
    }
    // 1. Persist.
    if (hard != null) {
      node.storage.setHardState(hard);
    }
    if (rd.snapshot() != null) {
      node.storage.installSnapshot(rd.snapshot());
    }
    node.storage.append(rd.entries());
    // 2. Send.
    if (!rd.messages().isEmpty()) {
      out.add("  Messages:");
    }
    for (Message m : rd.messages()) {
      Invariants.check(m.group() == GROUP && m.from() == node.id, "bad sender: %s", m);
      Invariants.check(nodes.containsKey(m.to()), "message to unknown node: %s", m);
      // Every message crosses the wire format, as it would between real nodes.
      Message wire = Codec.decode(Codec.encode(m));
      Invariants.check(CodecTest.sameMessage(m, wire), "codec changed %s into %s", m, wire);
      if (cut(m.from(), m.to())) {
        out.add("    " + describe(m) + "  DROPPED (partition)");
      } else {
        out.add("    " + describe(m));
        queues.get(m.to()).add(wire);
      }
    }
    // 3. Apply: restore the snapshot first, then the entries after it.
    if (rd.snapshot() != null) {
      node.restored = rd.snapshot();
      node.applied.clear();
    }
    for (Entry e : rd.committedEntries()) {
      Invariants.check(e.index() == node.appliedIndex() + 1, "applied out of order: %s", e);
      node.applied.add(e);
    }
    // 4. Advance.
    node.raw.advance(rd);
  }

  private void deliverMsgs(Args args) {
    TreeSet<Long> drop = new TreeSet<>(args.list("drop"));
    String type = args.string("type", null);
    List<Long> recipients = new ArrayList<>();
    if (args.positional.isEmpty()) {
      recipients.addAll(nodes.keySet());
    } else {
      for (int i = 0; i < args.positional.size(); i++) {
        recipients.add(node(args.positionalLong(i)).id);
      }
    }
    for (long id : drop) {
      node(id);
      if (!recipients.contains(id)) {
        recipients.add(id);
      }
    }
    recipients.sort(null);
    for (long to : recipients) {
      List<Message> queue = queues.get(to);
      List<Message> batch = new ArrayList<>();
      for (Iterator<Message> it = queue.iterator(); it.hasNext(); ) {
        Message m = it.next();
        if (type == null || m.getClass().getSimpleName().equals(type)) {
          batch.add(m);
          it.remove();
        }
      }
      for (Message m : batch) {
        if (drop.contains(to)) {
          out.add("dropped: " + describe(m));
        } else {
          deliver(m);
        }
      }
    }
  }

  private void deliver(Message m) {
    if (cut(m.from(), m.to())) {
      out.add("dropped (partition): " + describe(m));
      return;
    }
    Node node = nodes.get(m.to());
    out.add(describe(m));
    String before = state(node);
    node.raw.step(m);
    printTransition(node, before, "");
  }

  private void dropMsgs(Args args) {
    for (Node node : nodesNamedOrAll(args)) {
      for (Message m : queues.get(node.id)) {
        out.add("dropped: " + describe(m));
      }
      queues.get(node.id).clear();
    }
  }

  private void stabilize(Args args) {
    List<Node> set = nodesNamedOrAll(args);
    for (int round = 0; ; round++) {
      if (round > 1000) {
        throw new IllegalStateException("stabilize did not settle in 1000 rounds");
      }
      boolean busy = false;
      for (Node node : set) {
        if (node.raw.hasReady()) {
          handleReady(node);
          busy = true;
        }
      }
      for (Node node : set) {
        List<Message> queue = queues.get(node.id);
        if (!queue.isEmpty()) {
          List<Message> batch = new ArrayList<>(queue);
          queue.clear();
          batch.forEach(this::deliver);
          busy = true;
        }
      }
      if (!busy) {
        return;
      }
    }
  }

  private void partition(Args args) {
    sides.clear();
    int side = 0;
    for (String token : args.positional) {
      if (token.equals("|")) {
        side++;
      } else {
        long id = node(Long.parseLong(token)).id;
        if (sides.put(id, side) != null) {
          throw new IllegalArgumentException("node " + id + " named twice");
        }
      }
    }
    for (long id : nodes.keySet()) {
      if (!sides.containsKey(id)) {
        sides.put(id, ++side); // Unnamed nodes are cut off from everyone.
      }
    }
    Map<Integer, List<Long>> groups = new TreeMap<>();
    sides.forEach((id, s) -> groups.computeIfAbsent(s, k -> new ArrayList<>()).add(id));
    out.add("partitioned: " + groups.values().stream().map(Object::toString)
        .collect(Collectors.joining(" | ")));
  }

  private void heal(Args args) {
    args.requirePositional(0);
    sides.clear();
    out.add("healed");
  }

  private void restart(Args args) {
    Node node = node(args.positionalLong(0));
    args.requirePositional(1);
    String before = state(node);
    // Whatever the host had not persisted is gone; queued messages to it are in the network.
    node.raw = new RawNode(node.config, node.storage, node.id * 1000 + 1, node.appliedIndex());
    HardState hard = node.storage.hardState();
    out.add(node.id + " restarted from term=" + hard.term() + " vote=" + hard.vote()
        + " commit=" + hard.commit() + " applied=" + node.appliedIndex() + " last="
        + node.storage.lastIndex());
    printTransition(node, before, "");
  }

  private void compact(Args args) {
    Node node = node(args.positionalLong(0));
    long index = args.positionalLong(1);
    args.requirePositional(2);
    Invariants.check(index <= node.appliedIndex(), "compact %s beyond applied %s", index,
        node.appliedIndex());
    Snapshot snapshot = node.storage.createSnapshot(index, node.storage.membership(),
        node.image(index));
    node.storage.compact(index);
    out.add(node.id + ": " + snapshot(snapshot) + " first=" + node.storage.firstIndex());
  }

  static String snapshot(Snapshot s) {
    return s.index() + "@" + s.term() + " " + s.membership() + " data=" + data(s.data());
  }

  private void status(Args args) {
    Node node = node(args.positionalLong(0));
    args.requirePositional(1);
    out.add(statusLine(node));
  }

  private void raftState(Args args) {
    args.requirePositional(0);
    for (Node node : nodes.values()) {
      out.add(statusLine(node));
    }
  }

  private void log(Args args) {
    for (Node node : nodesNamedOrAll(args)) {
      MemoryLogStorage s = node.storage;
      out.add(node.id + ": " + entries(s.entries(s.firstIndex(), s.lastIndex() + 1,
          Long.MAX_VALUE)));
    }
  }

  private void membership(Args args) {
    for (Node node : nodesNamedOrAll(args)) {
      out.add(node.id + ": " + node.raw.membership());
    }
  }

  private void applied(Args args) {
    for (Node node : nodesNamedOrAll(args)) {
      String base = node.restored.isEmpty() ? "" : "snapshot " + snapshot(node.restored) + " + ";
      out.add(node.id + ": " + base + entries(node.applied));
    }
  }

  // ---------------------------------------------------------------- helpers

  private Node node(long id) {
    Node node = nodes.get(id);
    if (node == null) {
      throw new IllegalArgumentException("no node " + id);
    }
    return node;
  }

  private List<Node> nodesNamedOrAll(Args args) {
    if (args.positional.isEmpty()) {
      return new ArrayList<>(nodes.values());
    }
    List<Node> named = new ArrayList<>();
    for (int i = 0; i < args.positional.size(); i++) {
      named.add(node(args.positionalLong(i)));
    }
    return named;
  }

  private boolean cut(long from, long to) {
    return !sides.isEmpty() && !sides.get(from).equals(sides.get(to));
  }

  private static String state(Node node) {
    Status s = node.raw.status();
    return s.role() + " term=" + s.term() + (s.leader() != 0 ? " leader=" + s.leader() : "");
  }

  private void printTransition(Node node, String before, String suffix) {
    String after = state(node);
    if (!after.equals(before)) {
      out.add("  " + node.id + ": " + before + " -> " + after + suffix);
    }
  }

  private static String statusLine(Node node) {
    Status s = node.raw.status();
    return s.id() + ": " + s.role() + " term=" + s.term() + " vote=" + s.vote() + " leader="
        + s.leader() + " commit=" + s.commit() + " applied=" + s.applied() + " last="
        + s.lastIndex() + "@" + s.lastTerm();
  }

  static String describe(Message m) {
    String head = m.from() + "->" + m.to() + " " + m.getClass().getSimpleName();
    if (m instanceof VoteRequest r) {
      return head + " term=" + r.term() + " last=" + r.lastLogIndex() + "@" + r.lastLogTerm()
          + (r.preVote() ? " pre" : "") + (r.transfer() ? " transfer" : "");
    } else if (m instanceof VoteResponse r) {
      return head + " term=" + r.term() + (r.granted() ? " granted" : " rejected")
          + (r.preVote() ? " pre" : "");
    } else if (m instanceof AppendRequest r) {
      return head + " term=" + r.term() + " prev=" + r.prevLogIndex() + "@" + r.prevLogTerm()
          + " commit=" + r.leaderCommit() + " entries=" + entries(r.entries());
    } else if (m instanceof AppendResponse r) {
      return head + " term=" + r.term() + (r.rejected()
          ? " rejected index=" + r.index() + " hint=" + r.hintIndex() + "@" + r.hintTerm()
          : " index=" + r.index());
    } else if (m instanceof Heartbeat r) {
      return head + " term=" + r.term() + " commit=" + r.commit();
    } else if (m instanceof HeartbeatResponse r) {
      return head + " term=" + r.term();
    } else if (m instanceof InstallSnapshot r) {
      return head + " term=" + r.term() + " snapshot=" + r.snapshotIndex() + "@"
          + r.snapshotTerm() + " bytes=[" + r.offset() + "," + (r.offset() + r.chunk().length)
          + ")/" + r.totalBytes() + (r.done() ? " done" : "");
    } else if (m instanceof SnapshotResponse r) {
      return head + " term=" + r.term() + " snapshot=" + r.snapshotIndex() + " next="
          + r.nextOffset();
    } else if (m instanceof TimeoutNow r) {
      return head + " term=" + r.term();
    } else if (m instanceof ReadIndexRequest r) {
      return head + " term=" + r.term() + " ctx=" + data(r.context());
    } else if (m instanceof ReadIndexResponse r) {
      return head + " term=" + r.term() + " index=" + r.index() + " ctx=" + data(r.context());
    } else if (m instanceof Propose r) {
      return head + " " + r.data().stream().map(InteractionEnv::data)
          .collect(Collectors.joining(", ", "[", "]"));
    }
    throw new IllegalArgumentException("unknown message " + m);
  }

  static String entries(List<Entry> entries) {
    return entries.stream().map(InteractionEnv::entry)
        .collect(Collectors.joining(", ", "[", "]"));
  }

  static String entry(Entry e) {
    if (e.type() == EntryType.CONFIG_CHANGE) {
      return e.index() + "@" + e.term() + " {" + Codec.decodeMembership(e.data()) + "}";
    }
    return e.index() + "@" + e.term() + (e.data().length == 0 ? "" : " " + data(e.data()));
  }

  /** Printable ASCII in quotes, anything else in hex. */
  static String data(byte[] data) {
    boolean printable = true;
    for (byte b : data) {
      printable &= b >= 0x20 && b < 0x7F && b != '"';
    }
    if (printable) {
      return "\"" + new String(data, StandardCharsets.US_ASCII) + "\"";
    }
    StringBuilder hex = new StringBuilder("0x");
    for (byte b : data) {
      hex.append(String.format("%02x", b));
    }
    return hex.toString();
  }

  /** A command line: the command, positional tokens, and key=value options. */
  private static final class Args {
    final String command;
    final List<String> positional = new ArrayList<>();
    final TreeMap<String, String> options = new TreeMap<>();
    private final TreeSet<String> used = new TreeSet<>();

    private Args(String command) {
      this.command = command;
    }

    static Args parse(String line) {
      String[] tokens = line.strip().split("\\s+");
      Args args = new Args(tokens[0]);
      for (int i = 1; i < tokens.length; i++) {
        int eq = tokens[i].indexOf('=');
        if (eq > 0) {
          args.options.put(tokens[i].substring(0, eq), tokens[i].substring(eq + 1));
        } else {
          args.positional.add(tokens[i]);
        }
      }
      return args;
    }

    long positionalLong(int i) {
      if (i >= positional.size()) {
        throw new IllegalArgumentException(command + ": missing argument " + (i + 1));
      }
      return Long.parseLong(positional.get(i));
    }

    int positionalInt(int i) {
      return Math.toIntExact(positionalLong(i));
    }

    void requirePositional(int max) {
      if (positional.size() > max) {
        throw new IllegalArgumentException(command + ": unexpected " + positional);
      }
    }

    boolean flag(String key, boolean defaultValue) {
      String v = string(key, null);
      if (v == null) {
        return defaultValue;
      }
      if (!v.equals("true") && !v.equals("false")) {
        throw new IllegalArgumentException(key + " must be true or false: " + v);
      }
      return v.equals("true");
    }

    long number(String key, long defaultValue) {
      String v = string(key, null);
      return v == null ? defaultValue : Long.parseLong(v);
    }

    String string(String key, String defaultValue) {
      used.add(key);
      return options.getOrDefault(key, defaultValue);
    }

    List<Long> list(String key) {
      String v = string(key, null);
      List<Long> ids = new ArrayList<>();
      if (v != null) {
        for (String id : v.split(",")) {
          ids.add(Long.parseLong(id));
        }
      }
      return ids;
    }

    void requireNoOtherOptions() {
      for (String key : options.keySet()) {
        if (!used.contains(key)) {
          throw new IllegalArgumentException(command + ": unknown option " + key);
        }
      }
    }
  }
}
