package io.detraft.kv;

import io.detraft.core.Role;
import io.detraft.core.Status;
import io.detraft.io.NodeRunner;
import io.detraft.io.ProposalException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Gets a command applied by its group's leader wherever the request arrived: proposed here when
 * this node leads the group, otherwise handed to the leader over its internal HTTP endpoint
 * ({@code POST /v1/internal/propose}), which proposes there and never forwards again. Reads
 * wait for a ReadIndex (on leader or follower alike) or, when stale reads are asked for, read
 * at once.
 */
final class Router {
  static final String FORWARDED_HEADER = "Detraft-Forwarded";

  private final long nodeId;
  private final NodeRunner runner;
  private final Map<Long, KvStateMachine> machines;
  private final AddressBook addresses;
  private final HttpPool pool;
  private final Executor executor;
  private final Metrics metrics;
  /** Sent with forwarded writes: the internal endpoint is guarded by it. */
  private final AdminToken admin;

  Router(long nodeId, NodeRunner runner, Map<Long, KvStateMachine> machines,
      AddressBook addresses, HttpPool pool, Executor executor, Metrics metrics,
      AdminToken admin) {
    this.admin = admin;
    this.nodeId = nodeId;
    this.runner = runner;
    this.machines = machines;
    this.addresses = addresses;
    this.pool = pool;
    this.executor = executor;
    this.metrics = metrics;
  }

  private Map<String, String> forwardHeaders() {
    Map<String, String> headers = new java.util.HashMap<>(admin.headers());
    headers.put(FORWARDED_HEADER, String.valueOf(nodeId));
    return headers;
  }

  KvStateMachine machine(long group) {
    KvStateMachine sm = machines.get(group);
    if (sm == null) {
      throw notRunning(group);
    }
    return sm;
  }

  /**
   * The answer for a group whose replica does not run here (stopped by an operator, or not
   * started yet): not 404, which a client takes for "no such key". It may ask another node.
   */
  private KvException notRunning(long group) {
    return new KvException(503, "group_not_running", "group " + group + " does not run on node "
        + nodeId + "; ask another node");
  }

  /** How long a write waits out a leadership transfer or an election before failing. */
  private static final long REROUTE_NANOS = 2_000_000_000L;
  private static final long REROUTE_PAUSE_MILLIS = 20;

  /** Applies {@code command} (a session envelope) in {@code group}; completes with its result. */
  CompletableFuture<byte[]> propose(long group, byte[] command) {
    return propose(group, command, System.nanoTime() + REROUTE_NANOS);
  }

  /**
   * Proposes here if this node leads, else forwards to the leader. While leadership moves
   * (a transfer refuses proposals, an election has no leader yet) nothing was proposed, so it
   * tries again, briefly, before giving the client a retryable error.
   */
  private CompletableFuture<byte[]> propose(long group, byte[] command, long rerouteUntil) {
    if (!machines.containsKey(group)) {
      return CompletableFuture.failedFuture(notRunning(group));
    }
    Status status;
    try {
      status = runner.status(group);
    } catch (IllegalArgumentException stoppedMeanwhile) {
      return CompletableFuture.failedFuture(notRunning(group));
    }
    CompletableFuture<byte[]> attempt;
    if (status.role() == Role.LEADER) {
      attempt = proposeHere(group, command).exceptionallyCompose(e -> {
        KvException k = unwrap(e);
        return k.code.equals("not_leader") && k.leaderHint != 0 && k.leaderHint != nodeId
            ? forward(k.leaderHint, group, command) : CompletableFuture.failedFuture(k);
      });
    } else if (status.leader() == 0 || status.leader() == nodeId) {
      attempt = CompletableFuture.failedFuture(new KvException(503, "no_leader",
          "group " + group + " has no leader right now; retry shortly"));
    } else {
      attempt = forward(status.leader(), group, command);
    }
    return attempt.exceptionallyCompose(e -> {
      KvException k = unwrap(e);
      // A forward can reach a node that has just handed the group on ("not leader, the leader
      // is N"): leadership is moving, and nothing was proposed.
      boolean moving = k.code.equals("no_leader") || k.code.equals("leadership_transfer")
          || k.code.equals("not_leader");
      if (!moving || System.nanoTime() - rerouteUntil >= 0) {
        return CompletableFuture.failedFuture(k);
      }
      return CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(
              REROUTE_PAUSE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS, executor))
          .thenCompose(v -> propose(group, command, rerouteUntil));
    });
  }

  /**
   * Proposes through {@code node}, for a node that knows no leader of {@code group}: one that
   * moved to a new address hears from no leader until the address book has its new address.
   * {@code node} proposes if it leads; if not, its answer names the leader, tried next.
   */
  CompletableFuture<byte[]> proposeThrough(long node, long group, byte[] command) {
    return forward(node, group, command).exceptionallyCompose(e -> {
      KvException k = unwrap(e);
      return k.code.equals("not_leader") && k.leaderHint != 0 && k.leaderHint != node
          && k.leaderHint != nodeId ? forward(k.leaderHint, group, command)
          : CompletableFuture.failedFuture(k);
    });
  }

  /**
   * The leader of {@code group} if another node leads it, else 0: named in the answer to a
   * write this node forwarded, so that a client sends the next one to the leader directly
   * (leaders move: the balancer spreads them after a start, elections move them).
   */
  long leaderElsewhere(long group) {
    try {
      long leader = runner.status(group).leader();
      return leader == nodeId ? 0 : leader;
    } catch (IllegalArgumentException stoppedMeanwhile) {
      return 0;
    }
  }

  /** Proposes on this node only (the internal endpoint's side of a forward). */
  CompletableFuture<byte[]> proposeHere(long group, byte[] command) {
    return runner.propose(group, command).exceptionallyCompose(
        e -> CompletableFuture.failedFuture(translateProposal(e)));
  }

  /**
   * As {@link #translate}, but a proposal refused during a leadership transfer (the only
   * reason the core refuses a proposal on a leader) is the retryable
   * {@code leadership_transfer}: nothing was appended.
   */
  static KvException translateProposal(Throwable e) {
    KvException k = translate(e);
    if (k.code.equals("rejected")) {
      return new KvException(503, "leadership_transfer", k.getMessage());
    }
    return k;
  }

  private CompletableFuture<byte[]> forward(long leader, long group, byte[] command) {
    InetSocketAddress target = addresses.http(leader);
    if (target == null) {
      return CompletableFuture.failedFuture(new KvException(503, "not_leader",
          "node " + leader + " leads group " + group + " but has not published its HTTP "
              + "address yet; retry shortly", leader));
    }
    metrics.forwarded.increment();
    return CompletableFuture.supplyAsync(() -> {
      HttpPool.Response r;
      try {
        r = pool.send(target, "POST", "/v1/internal/propose?group=" + group,
            forwardHeaders(), command);
      } catch (IOException e) {
        throw new KvException(503, "outcome_unknown", "forwarding to node " + leader
            + " failed: " + e.getMessage(), leader);
      }
      if (r.status() == 200) {
        return r.body();
      }
      throw fromErrorAnswer(r, leader);
    }, executor);
  }

  /** Completes once this node may serve a linearizable read of {@code group}. */
  <T> CompletableFuture<T> read(long group, boolean stale, Function<KvStateMachine, T> read) {
    KvStateMachine sm = machine(group);
    Status status;
    try {
      status = runner.membership(group).isWitness(nodeId) ? runner.status(group) : null;
    } catch (IllegalArgumentException stoppedMeanwhile) {
      throw notRunning(group);
    }
    if (status != null) {
      // Its map is empty, not behind: even a stale read would answer "no such key". The
      // Detraft-Leader header names the leader (a data replica) to ask instead.
      throw new KvException(503, "witness", "node " + nodeId + " is a witness of group "
          + group + ": it keeps no data and serves no reads; ask a data replica (the leader is "
          + status.leader() + ")", status.leader());
    }
    if (stale || PlantedBug.STALE_READS) {
      return CompletableFuture.completedFuture(read.apply(sm));
    }
    // The future completes on the Raft thread, between applies: read there, it is cheap.
    return runner.readIndex(group).thenApply(index -> read.apply(sm))
        .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate(e)));
  }

  /** A KvException for any failure of a runner future. */
  static KvException translate(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof KvException k) {
      return k;
    }
    if (!(cause instanceof ProposalException p)) {
      return new KvException(500, "internal", String.valueOf(cause));
    }
    return switch (p.reason()) {
      case NOT_LEADER -> new KvException(503, "not_leader", p.getMessage(), p.leaderHint());
      case DROPPED -> new KvException(503, "dropped", p.getMessage(), p.leaderHint());
      case LEADERSHIP_LOST, SHUTDOWN ->
          new KvException(503, "outcome_unknown", p.getMessage(), p.leaderHint());
      case TIMEOUT -> new KvException(504, "timeout", p.getMessage(), p.leaderHint());
      case OVERLOADED -> new KvException(429, "overloaded", p.getMessage());
      case TOO_LARGE -> new KvException(413, "too_large", p.getMessage());
      case UNKNOWN_GROUP -> new KvException(503, "group_not_running", p.getMessage());
      case REJECTED -> new KvException(409, "rejected", p.getMessage(), p.leaderHint());
    };
  }

  static KvException unwrap(Throwable e) {
    return translate(e);
  }

  /** Rebuilds the KvException a peer answered with. */
  static KvException fromErrorAnswer(HttpPool.Response r, long leaderHint) {
    String code = "internal";
    String message = r.text();
    try {
      Map<String, Object> json = Json.parseObject(r.text());
      code = String.valueOf(json.get("code"));
      message = String.valueOf(json.get("message"));
    } catch (Json.ParseException e) {
      // Keep the raw text.
    }
    return new KvException(r.status(), code, message, r.leader() != 0 ? r.leader() : leaderHint);
  }
}
