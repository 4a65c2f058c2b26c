package io.detraft.kv;

import io.detraft.core.Status;
import io.detraft.io.NodeRunner;
import io.detraft.io.RealDisk;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters for {@code GET /metrics}, in the Prometheus text format. LongAdders: many HTTP
 * threads bump them and a scrape is rare.
 */
final class Metrics {
  /** Requests and their total latency, per operation. */
  private static final class Timer {
    final LongAdder count = new LongAdder();
    final LongAdder nanos = new LongAdder();
  }

  private final Map<String, Timer> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  final LongAdder forwarded = new LongAdder();

  void record(String op, long startNanos) {
    Timer t = requests.computeIfAbsent(op, o -> new Timer());
    t.count.increment();
    t.nanos.add(System.nanoTime() - startNanos);
  }

  void error(String code) {
    errors.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  String render(long nodeId, NodeRunner runner, List<Long> groups) {
    StringBuilder out = new StringBuilder(4096);
    out.append("# HELP detraft_http_requests_total HTTP requests answered, by operation.\n")
        .append("# TYPE detraft_http_requests_total counter\n");
    new TreeMap<>(requests).forEach((op, t) -> out.append("detraft_http_requests_total{op=\"")
        .append(op).append("\"} ").append(t.count.sum()).append('\n'));
    out.append("# HELP detraft_http_request_seconds_sum Time spent answering, by operation.\n")
        .append("# TYPE detraft_http_request_seconds_sum counter\n");
    new TreeMap<>(requests).forEach((op, t) -> out.append(
            "detraft_http_request_seconds_sum{op=\"").append(op).append("\"} ")
        .append(t.nanos.sum() / 1e9).append('\n'));
    out.append("# HELP detraft_http_errors_total Error answers, by code.\n")
        .append("# TYPE detraft_http_errors_total counter\n");
    new TreeMap<>(errors).forEach((code, n) -> out.append("detraft_http_errors_total{code=\"")
        .append(code).append("\"} ").append(n.sum()).append('\n'));
    out.append("# HELP detraft_forwarded_total Commands handed to another node's leader.\n")
        .append("# TYPE detraft_forwarded_total counter\n")
        .append("detraft_forwarded_total ").append(forwarded.sum()).append('\n');
    RealDisk.Syncs syncs = runner.syncs();
    out.append("# HELP detraft_disk_fsync_seconds fsyncs of the WAL, snapshots and their "
            + "directories on the write path, by duration.\n")
        .append("# TYPE detraft_disk_fsync_seconds histogram\n");
    for (int i = 0; i < RealDisk.SYNC_BUCKETS.length; i++) {
      out.append("detraft_disk_fsync_seconds_bucket{le=\"").append(RealDisk.SYNC_BUCKETS[i])
          .append("\"} ").append(syncs.atMost()[i]).append('\n');
    }
    out.append("detraft_disk_fsync_seconds_bucket{le=\"+Inf\"} ").append(syncs.count())
        .append('\n').append("detraft_disk_fsync_seconds_sum ").append(syncs.seconds())
        .append('\n').append("detraft_disk_fsync_seconds_count ").append(syncs.count())
        .append('\n');
    gauge(out, "detraft_raft_term", "Current term, per group.", runner, groups, nodeId,
        Status::term);
    gauge(out, "detraft_raft_commit_index", "Commit index, per group.", runner, groups, nodeId,
        Status::commit);
    gauge(out, "detraft_raft_applied_index", "Applied index, per group.", runner, groups,
        nodeId, Status::applied);
    gauge(out, "detraft_raft_leader", "The leader this node knows of (0: none), per group.",
        runner, groups, nodeId, Status::leader);
    gauge(out, "detraft_raft_is_leader", "1 if this node leads the group.", runner, groups,
        nodeId, s -> s.role() == io.detraft.core.Role.LEADER ? 1 : 0);
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String help, NodeRunner runner,
      List<Long> groups, long nodeId, java.util.function.ToLongFunction<Status> field) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" gauge\n");
    for (long g : groups) {
      Status status;
      try {
        status = runner.status(g);
      } catch (IllegalArgumentException stoppedMeanwhile) {
        continue; // groups start and stop while the page renders
      }
      out.append(name).append("{node=\"").append(nodeId).append("\",group=\"").append(g)
          .append("\"} ").append(field.applyAsLong(status)).append('\n');
    }
  }
}
