package io.detraft.sim.report;

import io.detraft.checker.History;
import io.detraft.checker.Op;
import io.detraft.checker.Operation;
import io.detraft.checker.report.Html;
import io.detraft.checker.report.ReportDirectory;
import io.detraft.core.HardState;
import io.detraft.core.Message;
import io.detraft.core.Ready;
import io.detraft.sim.SimResult;
import io.detraft.sim.Trace;
import io.detraft.sim.TraceSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Records a run's trace events and writes them as one self-contained HTML page (the data as
 * JSON in the page, drawn by the page's own script on a canvas: no network, opens from the
 * file system). It sees the run only through {@link TraceSink} and the {@link SimResult}, so
 * it does not depend on how the simulator hosts its nodes.
 *
 * <p>Times are kept in microseconds of virtual time. Messages are the bulk of a page; past
 * {@link #MAX_MESSAGES} the rest are counted, not drawn, and the page says so.
 */
public final class SimReport implements TraceSink {
  static final int MAX_MESSAGES = 400_000;

  private final StringBuilder messages = new StringBuilder();
  private final StringBuilder drops = new StringBuilder();
  private final StringBuilder roles = new StringBuilder();
  private final StringBuilder commits = new StringBuilder();
  private final StringBuilder applied = new StringBuilder();
  private final StringBuilder spans = new StringBuilder();
  private final StringBuilder marks = new StringBuilder();
  private final StringBuilder clients = new StringBuilder();
  private final List<String> messageTypes = new ArrayList<>();
  private final Map<String, Integer> messageTypeIndex = new HashMap<>();
  /** Last (term, commit) written per "node/group", so only changes are kept. */
  private final Map<Long, Long> lastHard = new HashMap<>();
  /** Open spans by key: crash per node, pause per node, the partition, fsync per node. */
  private final Map<String, long[]> open = new HashMap<>();
  private final Map<String, String> openText = new HashMap<>();
  /** The span kind of an open span whose kind is not its key's prefix. */
  private final Map<String, String> kinds = new HashMap<>();
  private int nodes;
  private int groups = 1;
  private long messageCount;
  private long lastTime;

  @Override
  public void event(long time, Trace.Kind kind, int node, int peer, long first, long second,
      Object detail) {
    long t = time / 1000;
    lastTime = Math.max(lastTime, t);
    nodes = Math.max(nodes, node);
    switch (kind) {
      case SEND -> {
        nodes = Math.max(nodes, peer);
        messageCount++;
        if (messageCount <= MAX_MESSAGES && detail instanceof Message m) {
          item(messages, t, node, peer, second / 1000, typeOf(m), m.group(), m.term());
        }
      }
      case DROP -> item(drops, t, node, peer, 0, 0, 0, 0);
      case ROLE -> {
        long group = second / 8;
        groups = (int) Math.max(groups, group);
        String role = String.valueOf(detail);
        role = role.substring(role.lastIndexOf(' ') + 1);
        roles.append(roles.length() == 0 ? "" : ",").append('[').append(t).append(',')
            .append(node).append(',').append(group).append(',').append(Html.jsonString(role))
            .append(',').append(first).append(',').append(peer).append(']');
      }
      case READY -> {
        if (detail instanceof Ready ready && ready.hardState() != null) {
          HardState h = ready.hardState();
          groups = Math.max(groups, peer);
          long key = (long) node << 32 | peer;
          long packed = h.term() * 1_000_000_007L + h.commit();
          Long before = lastHard.put(key, packed);
          if (before == null || before != packed) {
            item(commits, t, node, peer, h.term(), h.commit(), 0, 0);
          }
        }
      }
      case APPLY -> item(applied, t, node, peer, second, 0, 0, 0);
      case CRASH -> {
        closeSpan("down/" + node, t);
        String why = String.valueOf(detail);
        // A node that stopped itself (a failed fsync or write, EIO, ENOSPC; a state machine
        // failure) is drawn apart from one the nemesis crashed.
        boolean stopped = why.startsWith("fail-stop") || why.startsWith("start failed");
        openSpan("down/" + node, t, node, (stopped ? "stopped: " : "crash (") + why
            + (stopped ? "" : ")"));
        if (stopped) {
          kinds.put("down/" + node, "stopped");
        }
      }
      case RESTART -> closeSpan("down/" + node, t);
      case PAUSE -> {
        openSpan("pause/" + node, t, node, "paused");
        mark(t, node, "pause", "paused until " + seconds(second / 1000));
      }
      case RESUME -> closeSpan("pause/" + node, t);
      case PARTITION -> {
        closeSpan("partition", t);
        openSpan("partition", t, 0, "partition " + detail);
      }
      case HEAL -> closeSpan("partition", t);
      case CLOG -> span(t, second / 1000, node, "clog", "link n" + node + " -> n" + peer
          + " clogged");
      case SYNC_START -> span(t, second / 1000, node, "fsync", "fsync");
      case CLIENT_TIMEOUT -> mark(t, node, "timeout", "client p" + first + " attempt "
          + second + " timed out at n" + node);
      case PHASE -> mark(t, 0, "phase", String.valueOf(detail));
      case SNAPSHOT -> mark(t, node, "snapshot", "g" + peer + " took " + detail);
      case RESTORE -> mark(t, node, "restore", "g" + peer + " restored " + detail);
      case ADMIN -> mark(t, node, "admin", "g" + peer + " " + detail);
      case REPLAY -> mark(t, node, "replay", "replayed an old packet to n" + peer);
      default -> {
        // DELIVER (the arrow's end is the SEND's arrival time), SYNC_DONE, TICK, READ:
        // too many to draw one by one, and the page does not need them. Client operations
        // come from the histories (clientHistories), which know ok from fail from info.
      }
    }
  }

  private int typeOf(Message m) {
    String name = m.getClass().getSimpleName();
    if (m instanceof Message.VoteRequest v && v.preVote()) {
      name = "PreVoteRequest";
    } else if (m instanceof Message.VoteResponse v && v.preVote()) {
      name = "PreVoteResponse";
    }
    return messageTypeIndex.computeIfAbsent(name, n -> {
      messageTypes.add(n);
      return messageTypes.size() - 1;
    });
  }

  private static void item(StringBuilder out, long... values) {
    out.append(out.length() == 0 ? "[" : ",[");
    for (int i = 0; i < values.length; i++) {
      out.append(i == 0 ? "" : ",").append(values[i]);
    }
    out.append(']');
  }

  private void openSpan(String key, long t, int node, String text) {
    open.put(key, new long[] {t, node});
    openText.put(key, text);
  }

  private void closeSpan(String key, long t) {
    long[] start = open.remove(key);
    if (start != null) {
      String text = openText.remove(key);
      String kind = kinds.remove(key);
      span(start[0], t, (int) start[1], kind != null ? kind : key.substring(0,
          key.indexOf('/') < 0 ? key.length() : key.indexOf('/')), text);
    }
  }

  private void span(long from, long to, int node, String kind, String text) {
    spans.append(spans.length() == 0 ? "" : ",").append('[').append(from).append(',')
        .append(to).append(',').append(node).append(',').append(Html.jsonString(kind))
        .append(',').append(Html.jsonString(text)).append(']');
  }

  private void mark(long t, int node, String kind, String text) {
    marks.append(marks.length() == 0 ? "" : ",").append('[').append(t).append(',')
        .append(node).append(',').append(Html.jsonString(kind)).append(',')
        .append(Html.jsonString(text)).append(']');
  }

  /**
   * Adds the clients' operations of a finished run, one lane per process of each history
   * ({@code label} names the history: "kv", "txn"). Times become microseconds.
   */
  public void clientHistory(String label, History history) {
    for (Operation op : history.operations()) {
      Op done = op.completion();
      String outcome = done == null ? "info" : done.type().name().toLowerCase(Locale.ROOT);
      clients.append(clients.length() == 0 ? "" : ",").append('[')
          .append(Html.jsonString(label)).append(',').append(op.process()).append(',')
          .append(op.invoke().time() / 1000).append(',')
          .append(done == null ? -1 : done.time() / 1000).append(',')
          .append(Html.jsonString(outcome)).append(',').append(Html.jsonString(op.toString()))
          .append(']');
    }
  }

  private static String seconds(long micros) {
    return String.format(Locale.ROOT, "%.6fs", micros / 1e6);
  }

  /** The page for {@code result}, the run this report recorded. */
  public String html(SimResult result) {
    long end = Math.max(lastTime, result.simulatedNanos() / 1000);
    // Spans still open at the end (a node down, a partition) last until the end of the run.
    for (String key : new ArrayList<>(open.keySet())) {
      closeSpan(key, end);
    }
    StringBuilder data = new StringBuilder("{");
    field(data, "seed", Long.toString(result.seed()));
    field(data, "verdict", Html.jsonString(result.verdict().name()));
    field(data, "oracle", result.oracle() == null ? "null" : Html.jsonString(result.oracle()));
    field(data, "failure", result.failure() == null ? "null"
        : Html.jsonString(result.failure()));
    field(data, "failedAt", Long.toString(result.simulatedNanos() / 1000));
    field(data, "end", Long.toString(end));
    field(data, "fingerprint", Html.jsonString(result.fingerprintHex()));
    field(data, "options", Html.jsonString(result.options().describe()));
    field(data, "summary", Html.jsonString(result.line()));
    field(data, "traceTail", Html.jsonString(result.traceTail()));
    field(data, "nodes", Integer.toString(Math.max(nodes, result.options().cluster().size())));
    field(data, "groups", Integer.toString(Math.max(groups,
        result.options().cluster().groups())));
    field(data, "messageCount", Long.toString(messageCount));
    field(data, "messageLimit", Integer.toString(MAX_MESSAGES));
    StringBuilder types = new StringBuilder("[");
    for (int i = 0; i < messageTypes.size(); i++) {
      types.append(i == 0 ? "" : ",").append(Html.jsonString(messageTypes.get(i)));
    }
    field(data, "messageTypes", types.append(']').toString());
    field(data, "messages", "[" + messages + "]");
    field(data, "drops", "[" + drops + "]");
    field(data, "roles", "[" + roles + "]");
    field(data, "commits", "[" + commits + "]");
    field(data, "applied", "[" + applied + "]");
    field(data, "spans", "[" + spans + "]");
    field(data, "marks", "[" + marks + "]");
    field(data, "clients", "[" + clients + "]");
    data.setLength(data.length() - 1);
    data.append('}');
    String title = "detraft sim: seed " + result.seed() + " " + result.verdict();
    return Html.resource(SimReport.class, "sim-report.html")
        .replace("{{TITLE}}", Html.escape(title))
        .replace("/*{{DATA}}*/", data.toString());
  }

  private static void field(StringBuilder out, String name, String json) {
    out.append('"').append(name).append("\":").append(json).append(',');
  }

  /** Writes the page as {@code seed-N.html} in {@code dir}; returns its path. */
  public Path write(ReportDirectory dir, SimResult result) throws ReportDirectory.ReportException {
    return dir.write("seed-" + result.seed() + ".html", html(result));
  }
}
