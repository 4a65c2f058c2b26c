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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongFunction;
import java.util.stream.Collectors;

/**
 * A scripted cluster for golden-file scenarios, after etcd-io/raft's {@code rafttest}
 * InteractionEnv. Each node is a {@link RaftHost} running one replica (a {@link RawNode} over
 * a {@link MemoryLogStorage}) per group, group 1 unless {@code groups=} says more; nothing
 * happens until a command says so. A node's Ready (one batch for all its groups) is handled
 * only by {@code process-ready} or {@code stabilize}, honouring the contract: persist hard
 * state and entries, then queue the messages, then apply committed entries, then advance.
 * Queued messages wait, per recipient node, until {@code deliver-msgs} or {@code stabilize}
 * hands them over; the host routes each to its group.
 *
 * <p>Commands (one per line; {@code [..]} optional). Those naming one replica take
 * {@code [group=1]}; with several groups, output about a group starts with {@code gG}.
 *
 * <pre>
 * add-nodes N [pre-vote=false] [check-quorum=false] [forward=true] [election=10]
 *             [heartbeat=1] [max-append-bytes=1048576] [max-inflight=256]
 *             [snapshot-chunk-bytes=1048576] [voters=1,2,...] [lease-reads=false]
 *             [groups=1] [sessions=0] [quiesce=0]
 *                              nodes 1..N, each running groups 1..G; the initial voters
 *                              (default: all) are the membership every group starts with;
 *                              seed of node i is i (plus 100 per group after the first);
 *                              sessions=T: committed entries go through a
 *                              SessionStateMachine with a timeout of T entries;
 *                              quiesce=Q: idle groups go quiet after Q ticks
 * campaign ID                  start an election now (PreVote first if configured)
 * tick ID [N]                  N ticks (default 1)
 * tick-election ID             a leader: electionTimeout ticks (one CheckQuorum round);
 *                              others: tick until the election timer fires (role or term
 *                              changes, or the tick produced a Ready), at most
 *                              2*electionTimeout-1 ticks (covers any randomized timeout)
 * tick-heartbeat ID            heartbeatInterval ticks
 * propose ID DATA [client=C seq=S]
 *                              prints the ProposeResult; with client=, DATA is sent as
 *                              that session's command number S
 * register ID                  propose a session registration
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
 * restart ID [from-snapshot=false]
 *                              crash and restart every group of the node from what the
 *                              storage holds; from-snapshot=true: the state machine was
 *                              lost too, and restarts from the stored snapshot
 * compact ID INDEX             snapshot the state machine at INDEX (applied) and discard
 *                              the log up to it
 * unsafe-recover ID voters=A,B,...
 *                              UnsafeRecovery: export ID's stored snapshot, stop every old
 *                              replica of the group for good (and drop its queued
 *                              messages), and start the new voters from the rebuilt storage
 * status ID / raft-state       role, term, leader, commit of one / every replica
 * log [ID...]                  the entries each replica's storage holds
 * applied [ID...]              the entries each replica's state machine was given
 * membership [ID...]           the membership each replica's log puts in force
 * sessions [ID...]             live and expired sessions, and the state under them
 * coverage [ID...]             the coverage marks each replica hit since it (re)started
 * </pre>
 *
 * <p>Whenever stepping, ticking or campaigning changes a replica's role, term or leader, the
 * change is printed as {@code ID: OLD -> NEW}.
 */
final class InteractionEnv {
  /** A node: one host running a replica of each group. */
  private static final class Host {
    final long id;
    /** Replaced on restart: what it held in memory is gone. */
    RaftHost raft;
    final TreeMap<Long, Replica> replicas = new TreeMap<>();

    Host(long id) {
      this.id = id;
      this.raft = new RaftHost(id);
    }
  }

  /** One group's replica on a node, with the state machine its host keeps for it. */
  private static final class Replica {
    final Host host;
    final long group;
    final Config config;
    final MemoryLogStorage storage;
    /** Entries handed to the state machine, in order, after the restored snapshot if any. */
    final List<Entry> applied = new ArrayList<>();
    /** The snapshot the state machine was last restored from (index 0: none). */
    Snapshot restored;
    /** With sessions=: the state machine entries with data go through, and what it wraps. */
    SessionStateMachine sessions;
    SessionStateMachineTest.Appender inner;

    Replica(Host host, long group, Config config, MemoryLogStorage storage) {
      this.host = host;
      this.group = group;
      this.config = config;
      this.storage = storage;
    }

    RawNode raw() {
      return host.raft.group(group);
    }

    long appliedIndex() {
      return applied.isEmpty() ? restored.index() : applied.get(applied.size() - 1).index();
    }

    /** The state machine's image up to {@code index}: the data applied, comma-separated. */
    byte[] image(long index) {
      if (sessions != null) {
        // A real state machine snapshots only its current state.
        Invariants.check(index == appliedIndex(), "with sessions, compact at applied %s",
            appliedIndex());
        return sessions.snapshot();
      }
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

  private final TreeMap<Long, Host> hosts = new TreeMap<>();
  /** Messages sent and not yet delivered, by recipient, in sending order. */
  private final TreeMap<Long, List<Message>> queues = new TreeMap<>();
  /** Node to partition side; empty when healed. */
  private final TreeMap<Long, Integer> sides = new TreeMap<>();
  private final List<String> out = new ArrayList<>();
  /** Groups per node; output names the group only when there are several. */
  private int groups = 1;
  /** The session timeout in entries, or 0: no sessions. */
  private long sessionTimeout;
  /** A node's config (for group 1) as add-nodes set it up; unsafe-recover adds nodes. */
  private LongFunction<Config> configs;

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
      case "register" -> register(args);
      case "propose-membership" -> proposeMembership(args);
      case "transfer-leadership" -> transferLeadership(args);
      case "read-index" -> readIndex(args);
      case "process-ready" -> processReady(args);
      case "deliver-msgs" -> deliverMsgs(args);
      case "drop-msgs" -> dropMsgs(args);
      case "duplicate-msgs" -> duplicateMsgs(args);
      case "stabilize" -> stabilize(args);
      case "partition" -> partition(args);
      case "heal" -> heal(args);
      case "restart" -> restart(args);
      case "compact" -> compact(args);
      case "unsafe-recover" -> unsafeRecover(args);
      case "status" -> status(args);
      case "raft-state" -> raftState(args);
      case "log" -> log(args);
      case "applied" -> applied(args);
      case "membership" -> membership(args);
      case "sessions" -> sessions(args);
      case "coverage" -> coverage(args);
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
    if (!hosts.isEmpty()) {
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
    int quiesce = (int) args.number("quiesce", 0);
    groups = (int) args.number("groups", 1);
    sessionTimeout = args.number("sessions", 0);
    List<Long> listed = args.list("voters");
    Membership bootstrap = listed.isEmpty() ? Membership.of(ids)
        : Membership.of(listed.stream().mapToLong(Long::longValue).toArray());
    configs = id -> Config.defaults(id).withTimeouts(election, heartbeat)
        .withPreVote(preVote).withCheckQuorum(checkQuorum).withForwardProposals(forward)
        .withFlowControl(maxAppendBytes, maxInflight).withSnapshotChunkBytes(chunkBytes)
        .withLeaseReads(leaseReads, 2).withQuiesce(quiesce);
    for (long group = 1; group <= groups; group++) {
      for (long id : ids) {
        Replica r = addReplica(host(id, true), group, new MemoryLogStorage(bootstrap),
            seed(id, group));
        out.add(label(r) + ": " + state(r));
      }
    }
    out.add(String.format("voters=%s pre-vote=%s check-quorum=%s forward=%s election=%d "
            + "heartbeat=%d max-append-bytes=%d max-inflight=%d",
        bootstrap.toString().substring("voters=".length()), preVote, checkQuorum,
        forward, election, heartbeat, maxAppendBytes, maxInflight)
        + (groups > 1 ? " groups=" + groups : "")
        + (sessionTimeout > 0 ? " sessions=" + sessionTimeout : "")
        + (quiesce > 0 ? " quiesce=" + quiesce : ""));
  }

  private void campaign(Args args) {
    Replica r = replica(args);
    args.requirePositional(1);
    String before = state(r);
    r.raw().campaign();
    printTransition(r, before, "");
  }

  private void tick(Args args) {
    Replica r = replica(args);
    int count = args.positional.size() > 1 ? args.positionalInt(1) : 1;
    args.requirePositional(2);
    for (int i = 1; i <= count; i++) {
      tickOnce(r, i);
    }
  }

  private void tickElection(Args args) {
    Replica r = replica(args);
    args.requirePositional(1);
    int timeout = r.config.electionTimeoutTicks();
    if (r.raw().status().role() == Role.LEADER) {
      for (int i = 1; i <= timeout; i++) {
        tickOnce(r, i);
      }
      return;
    }
    // Stop at the tick whose timeout fired: the role or term changed, or (a pre-candidate
    // starting another PreVote round) the tick produced messages.
    String start = state(r);
    int ticks = 0;
    boolean fired = false;
    while (ticks < 2 * timeout - 1 && !fired) {
      boolean hadReady = r.raw().hasReady();
      tickOnce(r, ++ticks);
      fired = !state(r).equals(start) || (!hadReady && r.raw().hasReady());
    }
    out.add("ticked " + ticks + " times" + (fired ? "" : ", no timeout"));
  }

  private void tickHeartbeat(Args args) {
    Replica r = replica(args);
    args.requirePositional(1);
    for (int i = 1; i <= r.config.heartbeatIntervalTicks(); i++) {
      tickOnce(r, i);
    }
  }

  private void tickOnce(Replica r, int tickNumber) {
    String before = state(r);
    r.raw().tick();
    printTransition(r, before, " (tick " + tickNumber + ")");
  }

  private void propose(Args args) {
    Replica r = replica(args);
    if (args.positional.size() != 2) {
      throw new IllegalArgumentException("usage: propose ID DATA [client=C seq=S]");
    }
    byte[] data = args.positional.get(1).getBytes(StandardCharsets.UTF_8);
    long client = args.number("client", 0);
    long sequence = args.number("seq", 0);
    if ((client == 0) != (sequence == 0)) {
      throw new IllegalArgumentException("client= and seq= go together");
    }
    proposeBytes(r, client == 0 ? data : SessionStateMachine.command(client, sequence, data));
  }

  private void register(Args args) {
    Replica r = replica(args);
    args.requirePositional(1);
    proposeBytes(r, SessionStateMachine.register());
  }

  private void proposeBytes(Replica r, byte[] data) {
    String before = state(r);
    out.add(r.raw().propose(data).toString());
    printTransition(r, before, "");
  }

  private void transferLeadership(Args args) {
    Replica r = replica(args);
    long target = args.positionalLong(1);
    args.requirePositional(2);
    String before = state(r);
    out.add(r.raw().transferLeadership(target).toString());
    printTransition(r, before, "");
  }

  private void readIndex(Args args) {
    Replica r = replica(args);
    if (args.positional.size() != 2) {
      throw new IllegalArgumentException("usage: read-index ID CTX");
    }
    String before = state(r);
    out.add(r.raw().readIndex(args.positional.get(1).getBytes(StandardCharsets.UTF_8))
        .toString());
    printTransition(r, before, "");
  }

  private void proposeMembership(Args args) {
    Replica r = replica(args);
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
    String before = state(r);
    ProposeResult result = r.raw().proposeMembership(
        new MembershipChange(type, args.positionalLong(2)));
    out.add(result.toString());
    printTransition(r, before, "");
  }

  private void processReady(Args args) {
    for (Host host : hostsNamedOrAll(args)) {
      if (!host.raft.hasReady()) {
        out.add("> " + host.id + ": no Ready");
        continue;
      }
      handleReady(host);
    }
  }

  /** One turn of the host loop over all its groups: persist, send, apply, advance. */
  private void handleReady(Host host) {
    RaftHost.Batch batch = host.raft.ready();
    out.add("> " + host.id + " handling Ready" + (batch.mustSync() ? " (must sync)" : ""));
    // 1. Persist every group's writes: one fsync covers the whole batch.
    for (RaftHost.GroupReady g : batch.groups()) {
      persist(host.replicas.get(g.group()), g.ready());
    }
    // 2. Send.
    List<Message> messages = batch.messages();
    if (!messages.isEmpty()) {
      out.add("  Messages:");
    }
    for (Message m : messages) {
      Invariants.check(m.from() == host.id && host.replicas.containsKey(m.group()),
          "bad sender: %s", m);
      Invariants.check(hosts.containsKey(m.to())
          && hosts.get(m.to()).replicas.containsKey(m.group()), "message to unknown node: %s", m);
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
    // 3. Apply.
    for (RaftHost.GroupReady g : batch.groups()) {
      apply(host.replicas.get(g.group()), g.ready());
    }
    // 4. Advance.
    host.raft.advance(batch);
  }

  private void persist(Replica r, Ready rd) {
    String at = "  " + prefix(r.group);
    if (rd.softState() != null) {
      out.add(at + "State: " + rd.softState().role() + " leader=" + rd.softState().leader());
    }
    HardState hard = rd.hardState();
    if (hard != null) {
      out.add(at + "HardState: term=" + hard.term() + " vote=" + hard.vote() + " commit="
          + hard.commit());
    }
    if (rd.snapshot() != null) {
      out.add(at + "Snapshot: " + snapshot(rd.snapshot()));
    }
    if (!rd.entries().isEmpty()) {
      out.add(at + "Entries: " + entries(rd.entries()));
    }
    if (!rd.committedEntries().isEmpty()) {
      out.add(at + "Committed: " + entries(rd.committedEntries()));
    }
    for (ReadState read : rd.readStates()) {
      out.add(at + "ReadState: index=" + read.index() + " ctx=" + data(read.context()));
    }
    if (hard != null) {
      r.storage.setHardState(hard);
    }
    if (rd.snapshot() != null) {
      r.storage.installSnapshot(rd.snapshot());
    }
    r.storage.append(rd.entries());
  }

  /** Restores the snapshot first, then applies the entries after it. */
  private void apply(Replica r, Ready rd) {
    if (rd.snapshot() != null) {
      restoreStateMachine(r, rd.snapshot());
    }
    for (Entry e : rd.committedEntries()) {
      Invariants.check(e.index() == r.appliedIndex() + 1, "applied out of order: %s", e);
      r.applied.add(e);
      if (r.sessions != null && e.type() == EntryType.NORMAL && e.data().length > 0) {
        out.add("  " + prefix(r.group) + "Result: " + e.index() + " "
            + result(e.data(), r.sessions.apply(e.index(), e.data())));
      }
    }
  }

  /** The state machine starts over from {@code snapshot} (empty: from nothing). */
  private void restoreStateMachine(Replica r, Snapshot snapshot) {
    r.restored = snapshot;
    r.applied.clear();
    if (sessionTimeout > 0) {
      r.inner = new SessionStateMachineTest.Appender();
      r.sessions = new SessionStateMachine(r.inner, sessionTimeout);
      if (!snapshot.isEmpty()) {
        r.sessions.restore(snapshot.data());
      }
    }
  }

  private void deliverMsgs(Args args) {
    TreeSet<Long> drop = new TreeSet<>(args.list("drop"));
    String type = args.string("type", null);
    List<Long> recipients = new ArrayList<>();
    if (args.positional.isEmpty()) {
      recipients.addAll(hosts.keySet());
    } else {
      for (int i = 0; i < args.positional.size(); i++) {
        recipients.add(host(args.positionalLong(i), false).id);
      }
    }
    for (long id : drop) {
      host(id, false);
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
    Host host = hosts.get(m.to());
    Replica r = host.replicas.get(m.group());
    out.add(describe(m));
    String before = state(r);
    host.raft.step(m); // The host routes it by group id.
    printTransition(r, before, "");
  }

  private void dropMsgs(Args args) {
    for (Host host : hostsNamedOrAll(args)) {
      for (Message m : queues.get(host.id)) {
        out.add("dropped: " + describe(m));
      }
      queues.get(host.id).clear();
    }
  }

  /** Every message queued for the named hosts is delivered twice, the copy right after it. */
  private void duplicateMsgs(Args args) {
    for (Host host : hostsNamedOrAll(args)) {
      List<Message> twice = new ArrayList<>();
      for (Message m : queues.get(host.id)) {
        out.add("duplicated: " + describe(m));
        twice.add(m);
        twice.add(m);
      }
      queues.get(host.id).clear();
      queues.get(host.id).addAll(twice);
    }
  }

  private void stabilize(Args args) {
    List<Host> set = hostsNamedOrAll(args);
    for (int round = 0; ; round++) {
      if (round > 1000) {
        throw new IllegalStateException("stabilize did not settle in 1000 rounds");
      }
      boolean busy = false;
      for (Host host : set) {
        if (host.raft.hasReady()) {
          handleReady(host);
          busy = true;
        }
      }
      for (Host host : set) {
        List<Message> queue = queues.get(host.id);
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
        long id = host(Long.parseLong(token), false).id;
        if (sides.put(id, side) != null) {
          throw new IllegalArgumentException("node " + id + " named twice");
        }
      }
    }
    for (long id : hosts.keySet()) {
      if (!sides.containsKey(id)) {
        sides.put(id, ++side); // Unnamed nodes are cut off from everyone.
      }
    }
    Map<Integer, List<Long>> cells = new TreeMap<>();
    sides.forEach((id, s) -> cells.computeIfAbsent(s, k -> new ArrayList<>()).add(id));
    out.add("partitioned: " + cells.values().stream().map(Object::toString)
        .collect(Collectors.joining(" | ")));
  }

  private void heal(Args args) {
    args.requirePositional(0);
    sides.clear();
    out.add("healed");
  }

  private void restart(Args args) {
    Host host = host(args.positionalLong(0), false);
    args.requirePositional(1);
    boolean fromSnapshot = args.flag("from-snapshot", false);
    Map<Long, String> before = new TreeMap<>();
    host.replicas.values().forEach(r -> before.put(r.group, state(r)));
    // Whatever the host had not persisted is gone; queued messages to it are in the network.
    host.raft = new RaftHost(host.id);
    for (Replica r : host.replicas.values()) {
      if (fromSnapshot) {
        restoreStateMachine(r, r.storage.snapshot());
      }
      host.raft.addGroup(r.config, r.storage, seed(host.id * 1000 + 1, r.group),
          r.appliedIndex());
      HardState hard = r.storage.hardState();
      out.add(label(r) + " restarted from term=" + hard.term() + " vote=" + hard.vote()
          + " commit=" + hard.commit() + " applied=" + r.appliedIndex() + " last="
          + r.storage.lastIndex());
      printTransition(r, before.get(r.group), "");
    }
  }

  private void compact(Args args) {
    Replica r = replica(args);
    long index = args.positionalLong(1);
    args.requirePositional(2);
    Invariants.check(index <= r.appliedIndex(), "compact %s beyond applied %s", index,
        r.appliedIndex());
    Snapshot snapshot = r.storage.createSnapshot(index, r.raw().membershipAt(index),
        r.image(index));
    r.storage.compact(index);
    out.add(label(r) + ": " + snapshot(snapshot) + " first=" + r.storage.firstIndex());
  }

  /** The procedure in {@link UnsafeRecovery}'s documentation, step by step. */
  private void unsafeRecover(Args args) {
    Replica survivor = replica(args);
    args.requirePositional(1);
    Membership fresh = Membership.of(args.list("voters").stream().mapToLong(Long::longValue)
        .toArray());
    if (!sides.isEmpty()) {
      throw new IllegalArgumentException("unsafe-recover: heal the partition first");
    }
    long group = survivor.group;
    Snapshot exported = survivor.storage.snapshot();
    out.add("exported from " + label(survivor) + ": " + snapshot(exported));
    // A term above any the survivors (the exporter and the kept members) saw.
    long term = 1;
    for (Host host : hosts.values()) {
      Replica old = host.replicas.get(group);
      if (old != null && (old == survivor || fresh.isVoter(host.id))) {
        term = Math.max(term, old.storage.hardState().term() + 1);
      }
    }
    for (List<Message> queue : queues.values()) {
      for (Iterator<Message> it = queue.iterator(); it.hasNext(); ) {
        Message m = it.next();
        if (m.group() == group) {
          out.add("dropped: " + describe(m));
          it.remove();
        }
      }
    }
    for (Host host : List.copyOf(hosts.values())) {
      Replica old = host.replicas.remove(group);
      if (old == null) {
        continue;
      }
      host.raft.removeGroup(group);
      if (!fresh.isVoter(host.id)) {
        out.add(label(old) + ": stopped for good");
      }
      if (host.replicas.isEmpty()) {
        hosts.remove(host.id);
        queues.remove(host.id);
      }
    }
    for (long id : fresh.voters()) {
      Replica r = addReplica(host(id, true), group,
          UnsafeRecovery.rebuild(exported, fresh, term), seed(id, group));
      out.add(label(r) + ": " + state(r) + " from " + snapshot(r.storage.snapshot()));
    }
  }

  static String snapshot(Snapshot s) {
    return s.index() + "@" + s.term() + " " + s.membership() + " data=" + data(s.data());
  }

  private void status(Args args) {
    Replica r = replica(args);
    args.requirePositional(1);
    out.add(statusLine(r));
  }

  private void raftState(Args args) {
    args.requirePositional(0);
    for (Replica r : replicasOf(List.copyOf(hosts.values()))) {
      out.add(statusLine(r));
    }
  }

  private void log(Args args) {
    for (Replica r : replicasOf(hostsNamedOrAll(args))) {
      MemoryLogStorage s = r.storage;
      out.add(label(r) + ": " + entries(s.entries(s.firstIndex(), s.lastIndex() + 1,
          Long.MAX_VALUE)));
    }
  }

  private void membership(Args args) {
    for (Replica r : replicasOf(hostsNamedOrAll(args))) {
      out.add(label(r) + ": " + r.raw().membership());
    }
  }

  private void applied(Args args) {
    for (Replica r : replicasOf(hostsNamedOrAll(args))) {
      String base = r.restored.isEmpty() ? "" : "snapshot " + snapshot(r.restored) + " + ";
      out.add(label(r) + ": " + base + entries(r.applied));
    }
  }

  private void sessions(Args args) {
    for (Replica r : replicasOf(hostsNamedOrAll(args))) {
      Invariants.check(r.sessions != null, "no sessions: add-nodes sessions=T");
      out.add(label(r) + ": live=" + r.sessions.sessionCount() + " expired="
          + r.sessions.expiredCount() + " state=" + data(r.inner.snapshot()));
    }
  }

  private void coverage(Args args) {
    for (Replica r : replicasOf(hostsNamedOrAll(args))) {
      String hits = r.raw().coverage().asMap().entrySet().stream().filter(e -> e.getValue() > 0)
          .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
      out.add(label(r) + ": " + (hits.isEmpty() ? "none" : hits));
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The node {@code id}; with {@code create}, a new one if there is none yet. */
  private Host host(long id, boolean create) {
    if (create && !hosts.containsKey(id)) {
      hosts.put(id, new Host(id));
      queues.put(id, new ArrayList<>());
    }
    Host host = hosts.get(id);
    if (host == null) {
      throw new IllegalArgumentException("no node " + id);
    }
    return host;
  }

  /** The replica the first argument and the group= option name. */
  private Replica replica(Args args) {
    Host host = host(args.positionalLong(0), false);
    long group = args.number("group", 1);
    Replica r = host.replicas.get(group);
    if (r == null) {
      throw new IllegalArgumentException("node " + host.id + " runs no group " + group);
    }
    return r;
  }

  /** Starts a replica of {@code group} on {@code host}, its state machine from the storage. */
  private Replica addReplica(Host host, long group, MemoryLogStorage storage, long seed) {
    Replica r = new Replica(host, group, configs.apply(host.id).withGroup(group), storage);
    restoreStateMachine(r, storage.snapshot());
    host.replicas.put(group, r);
    host.raft.addGroup(r.config, storage, seed, r.appliedIndex());
    return r;
  }

  /** Group 1 keeps the seed the node would have alone. */
  private static long seed(long base, long group) {
    return base + 100 * (group - 1);
  }

  private List<Host> hostsNamedOrAll(Args args) {
    if (args.positional.isEmpty()) {
      return new ArrayList<>(hosts.values());
    }
    List<Host> named = new ArrayList<>();
    for (int i = 0; i < args.positional.size(); i++) {
      named.add(host(args.positionalLong(i), false));
    }
    return named;
  }

  /** Their replicas, group by group, each group's in the order the nodes are named. */
  private static List<Replica> replicasOf(List<Host> named) {
    List<Replica> replicas = new ArrayList<>();
    for (Host host : named) {
      replicas.addAll(host.replicas.values());
    }
    replicas.sort(Comparator.comparingLong(r -> r.group)); // Stable: keeps the node order.
    return replicas;
  }

  private boolean cut(long from, long to) {
    return !sides.isEmpty() && !sides.get(from).equals(sides.get(to));
  }

  /** "gG " when there are several groups, else nothing. */
  private String prefix(long group) {
    return groups > 1 ? "g" + group + " " : "";
  }

  private String label(Replica r) {
    return prefix(r.group) + r.host.id;
  }

  private static String state(Replica r) {
    Status s = r.raw().status();
    return s.role() + " term=" + s.term() + (s.leader() != 0 ? " leader=" + s.leader() : "");
  }

  private void printTransition(Replica r, String before, String suffix) {
    String after = state(r);
    if (!after.equals(before)) {
      out.add("  " + label(r) + ": " + before + " -> " + after + suffix);
    }
  }

  private String statusLine(Replica r) {
    Status s = r.raw().status();
    return label(r) + ": " + s.role() + " term=" + s.term() + " vote=" + s.vote() + " leader="
        + s.leader() + " commit=" + s.commit() + " applied=" + s.applied() + " last="
        + s.lastIndex() + "@" + s.lastTerm();
  }

  private String describe(Message m) {
    String head = prefix(m.group()) + m.from() + "->" + m.to() + " "
        + m.getClass().getSimpleName();
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
      return head + " " + r.data().stream().map(this::command)
          .collect(Collectors.joining(", ", "[", "]"));
    }
    throw new IllegalArgumentException("unknown message " + m);
  }

  private String entries(List<Entry> entries) {
    return entries.stream().map(this::entry)
        .collect(Collectors.joining(", ", "[", "]"));
  }

  private String entry(Entry e) {
    if (e.type() == EntryType.CONFIG_CHANGE) {
      return e.index() + "@" + e.term() + " {" + Codec.decodeMembership(e.data()) + "}";
    }
    return e.index() + "@" + e.term() + (e.data().length == 0 ? "" : " " + command(e.data()));
  }

  /** A command's bytes; with sessions, the session command they encode. */
  private String command(byte[] d) {
    if (sessionTimeout > 0 && Arrays.equals(d, SessionStateMachine.register())) {
      return "register";
    }
    if (sessionTimeout > 0 && d.length >= 17 && d[0] == SessionStateMachine.KIND_COMMAND) {
      ByteBuffer b = ByteBuffer.wrap(d, 1, 16);
      return "client=" + b.getLong() + " seq=" + b.getLong() + " "
          + data(Arrays.copyOfRange(d, 17, d.length));
    }
    return data(d);
  }

  /** A session result; a registration's payload is the new client id. */
  private static String result(byte[] command, byte[] result) {
    SessionStateMachine.Result r = SessionStateMachine.decodeResult(result);
    if (r.status() == SessionStateMachine.Status.OK
        && Arrays.equals(command, SessionStateMachine.register())) {
      return "OK client=" + SessionStateMachine.clientIdOf(r);
    }
    return r.status() + (r.payload().length == 0 ? "" : " " + data(r.payload()));
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
