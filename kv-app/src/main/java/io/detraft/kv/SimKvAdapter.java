package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.io.BatchingStateMachine;
import io.detraft.kv.resp.RespTranslation;
import io.detraft.sim.ListTxn;
import io.detraft.sim.SimHooks;
import io.detraft.sim.SimOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Runs kv-app's {@link KvStateMachine} (on the in-memory store) under the simulator's KV
 * workload, <em>with its own session table</em>: the simulator is told {@link
 * SimHooks#withSessionsInStateMachine} and hands over the log's session envelopes (core's
 * {@link SessionStateMachine} format) untouched, so registration, deduplication of a retried
 * (client, sequence), expiry by log position and the sessions in snapshots are all
 * KvStateMachine's, under the whole fault model.
 *
 * <p>Only the payload inside an envelope is translated. The workload's commands have their
 * own fixed layout ({@code op(1) key(8) flags(1) first(8) second(8)}; op 0 get, 1 put, 2 cas,
 * 3 delete; results: get {@code present(1) value(8)}, put/delete {@code 1}, cas {@code
 * applied(1)}) and its list-append transactions (op 4, decoded and answered through {@link
 * ListTxn}) become one {@link KvCommand.Txn} of reads and appends. The adapter re-wraps the
 * {@link KvCommand} in the same envelope (same client id and sequence), so KvStateMachine
 * keeps the session and remembers <em>its</em> answer; on the way out the envelope's status
 * byte stays as KvStateMachine wrote it and only an OK payload is translated back (a retry's
 * remembered answer translates to the same bytes as the first). Keys, values and elements
 * travel as decimal text. The commands are built by the RESP front end's own translation
 * ({@link RespTranslation}), so the simulator replicates what RESP clients send.
 */
final class SimKvAdapter implements BatchingStateMachine, SimHooks.ExpiredSessions,
    SimHooks.ReopensAfterCrash {
  // The envelope kinds, from core's encoders (its documented format: a kind byte first).
  private static final byte REGISTER = SessionStateMachine.register()[0];
  private static final byte COMMAND = SessionStateMachine.command(0, 0, new byte[0])[0];
  private static final byte UNSESSIONED = SessionStateMachine.unsessioned(new byte[0])[0];
  private static final int SIM_COMMAND_BYTES = 26;

  private final MemoryKvStore store = new MemoryKvStore();
  private final long sessionTimeoutEntries;
  private KvStateMachine kv;
  private long expiredSessions;
  private long watchApplied;
  private long watchAborted;
  /** Inside a batch of the node's apply: KvStateMachine stages writes until its end. */
  private boolean batching;

  /**
   * The hooks that make a seed's run replicate kv-app's state machine, with the run's session
   * timeout: {@code ./detraft sim --state-machine kv} and {@code SimulatedKvTest}.
   */
  static SimHooks hooks(SimOptions options, java.util.function.Consumer<SimKvAdapter> made) {
    long timeout = options.workload().sessionTimeoutEntries();
    return SimHooks.defaults().withSessionsInStateMachine(true)
        .withStateMachineFactory(node -> {
          SimKvAdapter adapter = new SimKvAdapter(timeout);
          made.accept(adapter);
          return adapter;
        });
  }

  /** {@code sessionTimeoutEntries}: the run's, as core's session layer would have used. */
  SimKvAdapter(long sessionTimeoutEntries) {
    this.sessionTimeoutEntries = sessionTimeoutEntries;
    kv = new KvStateMachine(store, sessionTimeoutEntries);
  }

  /**
   * After a crash, in seeds whose state machines persist: a new KvStateMachine over the same
   * store, as kv-app's restart opens its map. What reached the store (its redo record with the
   * carried session records included) is all it has.
   */
  @Override
  public long reopen() {
    batching = false;
    kv = new KvStateMachine(store, sessionTimeoutEntries);
    return kv.appliedIndex();
  }

  @Override
  public byte[] apply(long index, byte[] envelope) {
    if (envelope.length >= 17 && envelope[0] == COMMAND) {
      long clientId = Wire.getLong(envelope, 1);
      long sequence = Wire.getLong(envelope, 9);
      return translated(index, Arrays.copyOfRange(envelope, 17, envelope.length),
          payload -> SessionStateMachine.command(clientId, sequence, payload));
    }
    if (envelope.length >= 1 && envelope[0] == UNSESSIONED) {
      byte[] command = Arrays.copyOfRange(envelope, 1, envelope.length);
      if (command.length == SIM_COMMAND_BYTES && command[0] == 0) {
        // A get, through the log or served at the applied index (ReadIndex): it changes
        // nothing, so it reads the store directly. KvStateMachine.apply would refuse a served
        // read (its index is already applied). Skipping apply for a log get only postpones
        // that entry's session expiry to the next applied entry, which expires the same
        // sessions before any session command can see them. Inside a batch the store does not
        // hold the batch's staged writes yet: the batch is cut in two around the read.
        if (batching) {
          kv.endBatch();
          kv.beginBatch();
        }
        return ok(getResult(kv.read(text(Wire.getLong(command, 1)))));
      }
      return translated(index, command, SessionStateMachine::unsessioned);
    }
    return applyToKv(index, envelope); // A registration (or a malformed envelope) as it is.
  }

  /** Applies the translated command in the same kind of envelope; translates an OK answer. */
  private byte[] translated(long index, byte[] command, UnaryOperator<byte[]> envelope) {
    byte[] out = applyToKv(index, envelope.apply(toKv(command).encode()));
    SessionStateMachine.Result result = SessionStateMachine.decodeResult(out);
    if (result.status() != SessionStateMachine.Status.OK) {
      return out; // Expired, stale or malformed: nothing applied, nothing to translate.
    }
    KvResult kvResult = KvResult.decode(result.payload());
    if (!ListTxn.isTxn(command) && command[0] == 2) {
      if (kvResult.status() == KvResult.Status.OK) {
        watchApplied++;
      } else {
        watchAborted++;
      }
    }
    return ok(toSim(index, command, kvResult));
  }

  /** EXECs after WATCH (the workload's cas) that applied, and that the WATCH aborted. */
  long[] watchOutcomes() {
    return new long[] {watchApplied, watchAborted};
  }

  /** KvStateMachine.apply, counting the sessions it expired (for SimMark.SESSION_EXPIRED). */
  private byte[] applyToKv(long index, byte[] envelope) {
    if (index <= kv.appliedIndex()) {
      // KvStateMachine would skip it silently (its restart guard); a fresh in-memory store
      // never meets an index twice, so here it would be a host bug.
      throw new IllegalStateException("entry " + index + " applied again (store at "
          + kv.appliedIndex() + ")");
    }
    int before = kv.sessionCount();
    byte[] out = kv.apply(index, envelope);
    boolean registered = envelope.length == 1 && envelope[0] == REGISTER
        && SessionStateMachine.decodeResult(out).status() == SessionStateMachine.Status.OK;
    expiredSessions += before + (registered ? 1 : 0) - kv.sessionCount();
    return out;
  }

  /**
   * The node applies each round's committed entries as one batch, as it does for kv-app in
   * production: KvStateMachine stages their writes and stores them at the end.
   */
  @Override
  public void beginBatch() {
    batching = true;
    kv.beginBatch();
  }

  @Override
  public void endBatch() {
    kv.endBatch();
    batching = false;
  }

  @Override
  public long expiredSessions() {
    return expiredSessions;
  }

  // ------------------------------------------------------------------ translation

  /**
   * The workload's command as a RESP client would send it, translated as the RESP front end
   * translates it ({@link RespTranslation}): put is SET, delete DEL, cas a WATCH of the key
   * followed by MULTI, SET (or DEL), EXEC, and a list-append transaction MULTI with RPUSH and
   * LRANGE key 0 -1, EXEC. Only a get stays {@link KvCommand.Get}: RESP serves GET by a
   * ReadIndex, never through the log.
   */
  private static KvCommand toKv(byte[] command) {
    if (ListTxn.isTxn(command)) {
      List<String[]> queued = new ArrayList<>();
      for (ListTxn.MicroOp op : ListTxn.decode(command)) {
        String key = Long.toString(op.key());
        queued.add(op.append() ? new String[] {"RPUSH", key, Long.toString(op.element())}
            : new String[] {"LRANGE", key, "0", "-1"});
      }
      return RespTranslation.exec(null, null, queued);
    }
    if (command.length != SIM_COMMAND_BYTES) {
      throw new IllegalArgumentException("not a simulator KV command");
    }
    String key = Long.toString(Wire.getLong(command, 1));
    String first = (command[9] & 1) != 0 ? Long.toString(Wire.getLong(command, 10)) : null;
    String second = (command[9] & 2) != 0 ? Long.toString(Wire.getLong(command, 18)) : null;
    return switch (command[0]) {
      case 0 -> new KvCommand.Get(key.getBytes(StandardCharsets.UTF_8));
      case 1 -> first == null ? RespTranslation.command("DEL", key)
          : RespTranslation.command("SET", key, first);
      case 2 -> RespTranslation.exec(key, first, List.<String[]>of(second == null
          ? new String[] {"DEL", key} : new String[] {"SET", key, second}));
      case 3 -> RespTranslation.command("DEL", key);
      default -> throw new IllegalArgumentException("unknown simulator op " + command[0]);
    };
  }

  /** KvStateMachine's answer to {@code command}, in the simulator's result layout. */
  private static byte[] toSim(long index, byte[] command, KvResult result) {
    if (ListTxn.isTxn(command)) {
      List<ListTxn.MicroOp> microOps = ListTxn.decode(command);
      if (result.status() != KvResult.Status.OK) {
        // The simulator's transactions always apply: an error here is a bug in one of the two.
        throw new IllegalStateException("entry " + index + ": transaction " + microOps
            + " failed: " + result.error());
      }
      List<long[]> reads = new ArrayList<>();
      for (int i = 0; i < microOps.size(); i++) {
        if (!microOps.get(i).append()) {
          reads.add(elements(result.txn().get(i))); // In micro-op order.
        }
      }
      return ListTxn.encodeResult(reads);
    }
    return switch (command[0]) {
      case 0 -> getResult(result);
      // EXEC after WATCH: OK when it applied, CAS_FAILED when the watched key had changed.
      case 2 -> new byte[] {(byte) (result.status() == KvResult.Status.OK ? 1 : 0)};
      default -> new byte[] {1}; // put, delete
    };
  }

  private static byte[] getResult(KvResult r) {
    byte[] out = new byte[9];
    if (r.value() != null) {
      out[0] = 1;
      Wire.putLong(out, 1, Long.parseLong(new String(r.value(), StandardCharsets.UTF_8)));
    }
    return out;
  }

  /** A read's list; a key never appended to reads as not found, i.e. empty. */
  private static long[] elements(KvResult read) {
    if (read.status() == KvResult.Status.NOT_FOUND) {
      return new long[0];
    }
    List<byte[]> elements = read.elements();
    long[] out = new long[elements.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Long.parseLong(new String(elements.get(i), StandardCharsets.UTF_8));
    }
    return out;
  }

  /** An OK result envelope in core's format: the status byte, then the payload. */
  private static byte[] ok(byte[] payload) {
    byte[] out = new byte[1 + payload.length];
    out[0] = (byte) SessionStateMachine.Status.OK.ordinal();
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  private static byte[] text(long v) {
    return Long.toString(v).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] snapshot() {
    return kv.snapshot(); // Sessions included: they are records of the store.
  }

  @Override
  public void restore(byte[] snapshot) {
    kv.restore(snapshot);
  }
}
