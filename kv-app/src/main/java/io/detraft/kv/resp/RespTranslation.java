package io.detraft.kv.resp;

import io.detraft.kv.KvCommand;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The RESP front end's translation of data commands into {@link KvCommand}s, exactly as a
 * {@link Connection} proposes them, open to the simulator's kv workload (kv-app's {@code
 * SimKvAdapter}) so that the commands the deterministic simulator replicates under faults are
 * the ones RESP clients produce: SET, DEL, a WATCH-then-MULTI/EXEC transaction. The checks a
 * connection does around them (arity, sizes, groups, authentication) and the rendering of
 * replies are not part of it.
 */
public final class RespTranslation {
  private RespTranslation() {}

  /** The command that runs the RESP write command {@code words} ("SET k v", "DEL k") alone. */
  public static KvCommand command(String... words) {
    DataCommands.Plan plan = plan(words);
    if (!plan.write()) {
      throw new IllegalArgumentException(words[0] + " reads: it is served by a ReadIndex");
    }
    return DataCommands.command(plan.ops());
  }

  /**
   * EXEC's command after {@code WATCH key} saw {@code watchedValue} there (null: none; a plain
   * value) and MULTI queued {@code queued} (each a command's words); null {@code watchedKey}:
   * no WATCH. It fails whole (CAS_FAILED) if the watched key changed.
   */
  public static KvCommand exec(String watchedKey, String watchedValue,
      List<String[]> queued) {
    List<KvCommand.TxnOp> watched = new ArrayList<>();
    if (watchedKey != null) {
      watched.add(DataCommands.check(bytes(watchedKey),
          watchedValue == null ? null : bytes(watchedValue), false));
    }
    List<DataCommands.Plan> plans = new ArrayList<>();
    queued.forEach(words -> plans.add(plan(words)));
    return DataCommands.exec(watched, plans);
  }

  private static DataCommands.Plan plan(String... words) {
    String name = words[0].toLowerCase(java.util.Locale.ROOT);
    List<byte[]> args = new ArrayList<>();
    for (String w : words) {
      args.add(bytes(w));
    }
    if (!DataCommands.isDataCommand(name) || !ServerInfo.arityHolds(name, args.size())) {
      throw new IllegalArgumentException("not a data command with its arguments: "
          + String.join(" ", words));
    }
    return DataCommands.plan(name, args);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
