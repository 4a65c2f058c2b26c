package io.detraft.sim;

import io.detraft.checker.EdnHistory;
import io.detraft.checker.History;
import io.detraft.checker.Kv;
import io.detraft.checker.Op;
import io.detraft.checker.OpType;
import io.detraft.checker.Operation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's client histories as Jepsen EDN files ({@code sim --seed N --history FILE}), one per
 * workload, as Jepsen writes one per test, so that Elle and Knossos read each unchanged and
 * {@code detraft check} gives the verdict the run reached:
 *
 * <ul>
 *   <li>{@code FILE}: the list-append transactions ({@code check --model list-append});
 *   <li>{@code FILE} with {@code -kv} before its extension: the key/value operations ({@code
 *       check --model kv-linearizable}), under Jepsen's names (:read, :write, :cas; values
 *       {@code [key value]} as jepsen.independent writes them).
 * </ul>
 *
 * <p>Times are the run's virtual nanoseconds. An operation whose outcome is unknown (its
 * client timed out or gave up) is :info already; one still in flight when the run ended
 * gets an :info completion at the end, as Jepsen completes every operation. Both are
 * indeterminate to the checkers alike, so neither changes a verdict.
 */
final class HistoryExport {
  private HistoryExport() {}

  /** The file the key/value operations go to, beside {@code file}: {@code h.edn -> h-kv.edn}. */
  static Path kvFile(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String kvName = dot > 0 ? name.substring(0, dot) + "-kv" + name.substring(dot)
        : name + "-kv";
    return file.resolveSibling(kvName);
  }

  /**
   * Writes the run's histories (after {@link Simulation#run()}); returns the files written,
   * the transactions' first.
   */
  static List<Path> write(Simulation simulation, Path file) throws IOException {
    List<History> histories = simulation.clientHistories();
    Path kv = kvFile(file);
    EdnHistory.write(jepsenShaped(histories.get(1), false), file);
    EdnHistory.write(jepsenShaped(histories.get(0), true), kv);
    return List.of(file, kv);
  }

  /**
   * {@code history} with an :info completion for every operation still open at its end and,
   * if {@code jepsenKvNames}, get and put renamed read and write.
   */
  static History jepsenShaped(History history, boolean jepsenKvNames) {
    List<Op> ops = new ArrayList<>(history.size());
    long end = 0;
    for (Op op : history.ops()) {
      ops.add(new Op(op.index(), op.type(), jepsenKvNames ? jepsenName(op.f()) : op.f(),
          op.value(), op.process(), op.time()));
      end = Math.max(end, op.time());
    }
    long index = history.size() == 0 ? 0 : history.ops().get(history.size() - 1).index() + 1;
    for (Operation operation : history.operations()) {
      Op invoke = operation.invoke();
      if (operation.completion() == null) {
        ops.add(new Op(index++, OpType.INFO, jepsenKvNames ? jepsenName(invoke.f())
            : invoke.f(), invoke.value(), invoke.process(), end));
      }
    }
    return History.of(ops);
  }

  private static String jepsenName(String f) {
    return switch (f) {
      case Kv.GET -> "read";
      case Kv.PUT -> "write";
      default -> f;
    };
  }
}
