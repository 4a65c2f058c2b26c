package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * What a front end other than the HTTP API (the RESP server in {@code io.detraft.kv.resp})
 * needs from a node: a key's group, writes that reach the group's leader wherever they arrive
 * ({@link Router}: proposed here or forwarded), linearizable or stale reads, and the status of
 * every group. Failures complete the futures with a {@link Failure}.
 */
public final class KvAccess {
  /**
   * A command that did not complete: {@code code} is one of {@link KvException}'s codes; when
   * {@link #outcomeUnknown()} the command may still apply, otherwise nothing was applied.
   */
  public static final class Failure extends RuntimeException {
    private final String code;

    Failure(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }

    public String code() {
      return code;
    }

    public boolean outcomeUnknown() {
      return code.equals("outcome_unknown") || code.equals("timeout");
    }

    /** Whether nothing applied and trying again soon may succeed (leadership moving). */
    public boolean retryable() {
      return code.equals("no_leader") || code.equals("not_leader")
          || code.equals("leadership_transfer") || code.equals("dropped")
          || code.equals("overloaded");
    }
  }

  private final KvServer server;
  private final Router router;
  private final Partitioner partitioner;

  KvAccess(KvServer server, Router router, Partitioner partitioner) {
    this.server = server;
    this.router = router;
    this.partitioner = partitioner;
  }

  public long nodeId() {
    return server.nodeId();
  }

  public String clusterId() {
    return server.clusterId();
  }

  public int groups() {
    return partitioner.groups();
  }

  public long groupOf(byte[] key) {
    return partitioner.groupOf(key);
  }

  /** The status of every hashed group that runs on this node, by group id. */
  public List<Status> statuses() {
    List<Status> out = new ArrayList<>();
    for (long g = 1; g <= partitioner.groups(); g++) {
      if (server.runs(g)) { // an operator may have stopped it here
        out.add(server.status(g));
      }
    }
    return out;
  }

  /** Applies {@code command} in its key's group (through the leader); completes with its result. */
  public CompletableFuture<KvResult> write(KvCommand command) {
    try {
      return router.propose(groupOf(command.key()),
              SessionStateMachine.unsessioned(command.encode()))
          .thenApply(HttpApi::unwrap)
          .exceptionallyCompose(e -> CompletableFuture.failedFuture(failure(e)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(failure(e));
    }
  }

  /**
   * Reads {@code keys} (all of one group) at one point: after a ReadIndex unless {@code stale}.
   */
  public CompletableFuture<List<KvResult>> read(List<byte[]> keys, boolean stale) {
    Function<KvStateMachine, List<KvResult>> readAll = sm -> {
      List<KvResult> out = new ArrayList<>(keys.size());
      keys.forEach(k -> out.add(sm.read(k)));
      return out;
    };
    try {
      return router.read(groupOf(keys.get(0)), stale, readAll)
          .exceptionallyCompose(e -> CompletableFuture.failedFuture(failure(e)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(failure(e));
    }
  }

  private static Failure failure(Throwable e) {
    if (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof Failure f) {
      return f;
    }
    KvException k = Router.translate(e);
    return new Failure(k.code, k.getMessage());
  }
}
