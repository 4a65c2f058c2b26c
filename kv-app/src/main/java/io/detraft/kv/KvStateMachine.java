package io.detraft.kv;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.SnapshotSink;
import io.detraft.core.SnapshotSource;
import io.detraft.io.BatchingStateMachine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * One group's key/value state machine over a {@link KvStore}, with exactly-once client
 * sessions.
 *
 * <p><b>Sessions.</b> Commands arrive in the envelope of core's {@link SessionStateMachine}
 * (register, sessioned command, unsessioned command) and results leave in its format, with
 * the same numbering, retry and deterministic-expiry rules, so its static helpers are the
 * client's encoding. The session table cannot live in core's class here, though: that class
 * keeps it in memory, and a store that resumes from its own applied index after a restart
 * (instead of replaying the whole log) must find the sessions exactly as of that index. So the
 * table lives in the store, next to the data, written in the same unit.
 *
 * <p><b>Store layout.</b> Raw keys carry a prefix byte: {@code 00} metadata, {@code 01} client
 * data, {@code 02} sessions (client id), {@code 03} system records (node addresses). Values of
 * client data are {@link StoredValue}s; a session is {@code lastSequence:u64 lastIndex:u64
 * lastResult}.
 *
 * <p><b>Atomic entries.</b> Each entry's writes are collected first ({@link WriteBatch}); then
 * a redo record (the entry's index and all of its writes) replaces the metadata key, and only
 * then do the writes reach the store. A crash in between leaves the redo record, which the
 * next open replays, so the store always holds every write of entries up to its applied index
 * and none after it (process crashes; see {@link ChronicleKvStore} for OS crashes). Under a
 * runner that applies in batches ({@link BatchingStateMachine}), a whole run of entries
 * shares one redo record (split when it would outgrow {@link KvCommand#MAX_ENTRY_WRITE_BYTES}),
 * which saves a store write per entry and all but one of the applied-index writes.
 *
 * <p><b>Session table in memory too.</b> Each session's last sequence number and last index
 * are also kept in memory, so that a command in a session reads nothing from the store unless
 * it is a retry (which needs the remembered answer).
 *
 * <p><b>Session records ride in the redo record.</b> A session's record changes with every
 * command of its client, and a store write costs far more than copying a few dozen bytes (a
 * Chronicle Map put was about half of the write path's samples, sessions half of those). So a
 * changed session record does not go to the store at once: it is carried, and every redo
 * record holds every carried record, so the newest redo record, which a restart replays, puts
 * them all back. A record pays off while it changes again soon (a busy client); one left
 * unchanged for {@link #CARRY_COMMITS} redo records goes to the store (as do the oldest when
 * they pass {@link #CARRY_BYTES} or {@link #CARRY_RATIO} times the batch, and all before a
 * snapshot is saved). Reads of session records see the carried ones first.
 *
 * <p><b>Snapshots</b> stream every data, session and system record sorted by raw key, so equal
 * states give equal bytes (only the keys are held in memory while one is written): {@code "DKV" 01 appliedIndex:u64 count:u64 (key:bytes
 * value:bytes)*}.
 *
 * <p>Only one thread applies. {@link #read} may be called from any thread.
 */
public final class KvStateMachine implements BatchingStateMachine {
  static final byte META = 0;
  static final byte DATA = 1;
  static final byte SESSION = 2;
  static final byte SYSTEM = 3;
  private static final byte[] APPLIED_KEY = {META, 'a'};
  private static final byte[] SNAPSHOT_MAGIC = {'D', 'K', 'V', 1};

  // The session envelope and statuses of core's SessionStateMachine (same bytes).
  private static final byte KIND_REGISTER = 1;
  private static final byte KIND_COMMAND = 2;
  private static final byte KIND_UNSESSIONED = 3;

  /**
   * A carried session record unchanged for this many redo records goes to the store: carrying
   * costs its few dozen bytes in every redo record, a store write costs about as much as
   * copying it some tens of times.
   */
  static final long CARRY_COMMITS = 16;
  /** Carried session records beyond this many redo bytes go to the store, oldest first. */
  static final long CARRY_BYTES = 32 << 10;

  /**
   * Carried session records beyond this many times the batch's own redo bytes go to the store
   * too: a small batch (one of many groups, each with a slice of the load) must not copy every
   * busy client's record each time. With 8 groups and 256 clients, carrying them all made
   * copying redo records 18 % of the Raft threads' samples.
   */
  static final long CARRY_RATIO = 4;

  /** Sessions idle for this many entries of a group expire (about minutes at full load). */
  public static final long DEFAULT_SESSION_TIMEOUT_ENTRIES = 1_000_000;

  private final KvStore store;
  private final long sessionTimeoutEntries;
  /**
   * Session records (by raw key) newer than the store's, in every redo record until they go
   * to the store; {@link #carriedBytes} is their size in a redo record.
   */
  private final LinkedHashMap<WriteBatch.Key, byte[]> carried = new LinkedHashMap<>();
  private long carriedBytes;
  /** The number of the commit that last changed each carried record ({@link #commits}). */
  private final HashMap<WriteBatch.Key, Long> changedAt = new HashMap<>();
  /** Redo records written. */
  private long commits;

   /**
   * Each session's {lastSequence, lastIndex}, as its store record says (after staging), in
   * the order of their last activity: a session touched by an entry moves to the end (its
   * index is the highest yet), so the idlest come first, to expire.
   */
  private final LinkedHashMap<Long, long[]> sessions = new LinkedHashMap<>();
  /** The last entry whose writes reached the store. */
  private volatile long appliedIndex;
  /** The last entry applied, staged or stored. */
  private long lastApplied;
  /** Between {@link #beginBatch} and {@link #endBatch}. */
  private boolean batching;
  /** Writes of the entries after {@link #appliedIndex} (up to {@link #lastApplied}), or null. */
  private WriteBatch staged;
  /** Entries skipped because the store already held them (see {@link #apply}). */
  private long skipped;
  private volatile BiConsumer<String, byte[]> systemListener = (k, v) -> {};

  /**
   * Opens the state machine over {@code store}: a recovered store resumes at its applied
   * index (an interrupted entry is completed first), a new one starts empty at 0.
   */
  public KvStateMachine(KvStore store, long sessionTimeoutEntries) {
    if (sessionTimeoutEntries < 1) {
      throw new IllegalArgumentException("sessionTimeoutEntries must be >= 1");
    }
    this.store = store;
    this.sessionTimeoutEntries = sessionTimeoutEntries;
    byte[] redo = store.get(APPLIED_KEY);
    if (redo != null) {
      try {
        appliedIndex = WriteBatch.redo(redo, store);
        lastApplied = appliedIndex;
      } catch (Wire.MalformedException e) {
        throw new IllegalStateException("damaged applied-index record: " + e.getMessage());
      }
    }
    rebuildSessionIndex();
  }

  /** An in-memory state machine, for the simulator and tests. */
  public static KvStateMachine inMemory() {
    return new KvStateMachine(new MemoryKvStore(), DEFAULT_SESSION_TIMEOUT_ENTRIES);
  }

  /** The index of the last entry applied (0 if none): the runner replays only after it. */
  public long appliedIndex() {
    return appliedIndex;
  }

  /** Called on the applying thread with each system record written (by apply or restore). */
  public void onSystemRecord(BiConsumer<String, byte[]> listener) {
    this.systemListener = listener;
  }

  /** Every system record now in the store. */
  public Map<String, byte[]> systemRecords() {
    TreeMap<String, byte[]> out = new TreeMap<>();
    store.forEach((k, v) -> {
      if (k.length > 0 && k[0] == SYSTEM) {
        out.put(new String(k, 1, k.length - 1, java.nio.charset.StandardCharsets.UTF_8), v);
      }
    });
    return out;
  }

  /** Reads {@code key} as of now (a stale read unless the caller waited for a read index). */
  public KvResult read(byte[] key) {
    byte[] stored = store.get(dataKey(key));
    if (stored == null) {
      return KvResult.NOT_FOUND;
    }
    return KvResult.value(StoredValue.payload(stored), StoredValue.isList(stored));
  }

  /** Entries replayed after a restart that the store already held. */
  public long skippedEntries() {
    return skipped;
  }

  public int sessionCount() {
    return sessions.size();
  }

  // ------------------------------------------------------------------ apply

  /**
   * Applies the entry at {@code index}. An entry at or below {@link #appliedIndex()} is
   * already in the store and is skipped (the runner resumes after the applied index, so this
   * is only a guard). Outside a batch the entry's writes reach the store before this returns;
   * inside one, by {@link #endBatch()}.
   */
  @Override
  public byte[] apply(long index, byte[] command) {
    if (index <= lastApplied) {
      skipped++;
      return envelope(SessionStateMachine.Status.OK, KvResult.error("entry " + index
          + " was applied before a restart").encode());
    }
    long previous = lastApplied;
    WriteBatch entry = staged != null ? staged.child() : new WriteBatch(this::beneathBatches);
    expireSessions(index - sessionTimeoutEntries, entry);
    byte[] result = applyEnvelope(index, command, entry);
    lastApplied = index;
    if (staged == null) {
      staged = entry;
    } else if (staged.redoRecordBytes() + entry.redoRecordBytes()
        > KvCommand.MAX_ENTRY_WRITE_BYTES) {
      // One redo record must fit in the store: the run so far goes first, on its own.
      commit(staged, previous);
      staged = new WriteBatch(this::beneathBatches);
      entry.moveInto(staged);
    } else {
      entry.mergeIntoParent();
    }
    if (!batching) {
      commit(staged, index);
      staged = null;
    }
    return result;
  }

  @Override
  public void beginBatch() {
    if (batching) {
      throw new IllegalStateException("a batch is already open");
    }
    batching = true;
  }

  @Override
  public void endBatch() {
    if (!batching) {
      throw new IllegalStateException("no batch is open");
    }
    batching = false;
    if (staged != null) {
      commit(staged, lastApplied);
      staged = null;
    }
  }

  /**
   * The redo record first (it makes the whole batch redoable, and holds every carried session
   * record), then the writes, except the batch's session records, which are carried.
   */
  private void commit(WriteBatch batch, long index) {
    if (batch.redoRecordBytes() + carriedBytes > KvCommand.MAX_ENTRY_WRITE_BYTES) {
      // The redo record must fit in the store. (Before this batch's records join the carried
      // ones: they must never reach the store under an index before their entries.)
      storeCarried();
    }
    commits++;
    carriedBytes += batch.takePuts(SESSION, carried, key -> {
      if (carried.containsKey(key)) {
        changedAt.put(key, commits);
      } else {
        changedAt.remove(key);
      }
    });
    long carryLimit = Math.min(CARRY_BYTES, CARRY_RATIO * batch.redoRecordBytes());
    store.put(APPLIED_KEY, batch.redoRecord(index, carried, carriedBytes));
    batch.applyTo(store);
    appliedIndex = index;
    // Records idle for a while, or the oldest past the size bound, go to the store. They are
    // in the redo record just written, so they need no record of their own.
    for (var it = carried.entrySet().iterator(); it.hasNext(); ) {
      var oldest = it.next(); // in order of their last change
      boolean idle = changedAt.get(oldest.getKey()) <= commits - CARRY_COMMITS;
      if (!idle && carriedBytes <= carryLimit) {
        break;
      }
      store.put(oldest.getKey().bytes(), oldest.getValue());
      carriedBytes -= WriteBatch.redoSize(oldest.getKey().bytes(), oldest.getValue());
      changedAt.remove(oldest.getKey());
      it.remove();
    }
    notifySystemRecords(batch);
  }

  /** What the batches read beneath their own writes: carried session records, then the store. */
  private byte[] beneathBatches(byte[] rawKey) {
    byte[] v = rawKey[0] == SESSION ? carried.get(new WriteBatch.Key(rawKey)) : null;
    return v != null ? v : store.get(rawKey);
  }

  /** Puts the carried session records in the store, behind a redo record of their own. */
  private void storeCarried() {
    if (carried.isEmpty()) {
      return;
    }
    WriteBatch none = new WriteBatch(this::beneathBatches);
    store.put(APPLIED_KEY, none.redoRecord(appliedIndex, carried, carriedBytes));
    carried.forEach((k, v) -> store.put(k.bytes(), v));
    carried.clear();
    changedAt.clear();
    carriedBytes = 0;
  }

  private byte[] applyEnvelope(long index, byte[] command, WriteBatch batch) {
    if (command.length == 0) {
      return envelope(SessionStateMachine.Status.MALFORMED, new byte[0]);
    }
    switch (command[0]) {
      case KIND_REGISTER: {
        if (command.length != 1) {
          return envelope(SessionStateMachine.Status.MALFORMED, new byte[0]);
        }
        writeSession(batch, index, 0, index, new byte[0]);
        byte[] id = new byte[8];
        Wire.putLong(id, 0, index);
        return envelope(SessionStateMachine.Status.OK, id);
      }
      case KIND_COMMAND: {
        if (command.length < 17) {
          return envelope(SessionStateMachine.Status.MALFORMED, new byte[0]);
        }
        long clientId = Wire.getLong(command, 1);
        long sequence = Wire.getLong(command, 9);
        long[] session = sessions.get(clientId);
        if (session == null) {
          return envelope(SessionStateMachine.Status.SESSION_EXPIRED, new byte[0]);
        }
        long lastSequence = session[0];
        if (sequence == lastSequence) {
          // A retry of the last command: answer as the first time, apply nothing.
          byte[] record = batch.get(sessionKey(clientId));
          byte[] lastResult = Arrays.copyOfRange(record, 16, record.length);
          writeSession(batch, clientId, sequence, index, lastResult);
          return envelope(SessionStateMachine.Status.OK, lastResult);
        }
        if (sequence < lastSequence) {
          return envelope(SessionStateMachine.Status.STALE_SEQUENCE, new byte[0]);
        }
        byte[] answer = applyBounded(Arrays.copyOfRange(command, 17, command.length), batch);
        writeSession(batch, clientId, sequence, index, answer);
        return envelope(SessionStateMachine.Status.OK, answer);
      }
      case KIND_UNSESSIONED:
        return envelope(SessionStateMachine.Status.OK,
            applyBounded(Arrays.copyOfRange(command, 1, command.length), batch));
      default:
        return envelope(SessionStateMachine.Status.MALFORMED, new byte[0]);
    }
  }

  /**
   * Applies one command, unless its writes and its remembered answer would exceed {@link
   * KvCommand#MAX_ENTRY_WRITE_BYTES}: then nothing applies and the answer says why. (The
   * store must hold a whole entry's redo record; refusing here, identically on every
   * replica, beats a store failure that would stop them all.)
   */
  private byte[] applyBounded(byte[] payload, WriteBatch batch) {
    WriteBatch scratch = batch.child();
    byte[] answer = applyCommand(payload, scratch);
    long total = batch.bytes() + scratch.bytes() + 2L * answer.length + 64;
    if (total > KvCommand.MAX_ENTRY_WRITE_BYTES) {
      return KvResult.error("the command would write about " + total + " bytes in one entry; "
          + "the limit is " + KvCommand.MAX_ENTRY_WRITE_BYTES).encode();
    }
    scratch.mergeIntoParent();
    return answer;
  }

  /** Applies one command to {@code batch}; a failing command leaves {@code batch} untouched. */
  private byte[] applyCommand(byte[] payload, WriteBatch batch) {
    KvCommand command;
    try {
      command = KvCommand.decode(payload);
    } catch (Wire.MalformedException e) {
      return KvResult.error("malformed command: " + e.getMessage()).encode();
    }
    if (command instanceof KvCommand.Txn txn) {
      WriteBatch scratch = batch.child();
      List<KvResult> results = new ArrayList<>();
      for (KvCommand.TxnOp op : txn.ops()) {
        KvResult r = applyOne(op.op(), op.key(), op.value(), null, scratch);
        if (r.status() == KvResult.Status.ERROR) {
          return KvResult.error("transaction op " + results.size() + ": " + r.error()).encode();
        }
        results.add(r);
        if (r.status() == KvResult.Status.CAS_FAILED) {
          // A check or conditional set failed (WATCH, MSETNX): the whole transaction is off.
          return new KvResult(KvResult.Status.CAS_FAILED, null, false, null, results).encode();
        }
      }
      scratch.mergeIntoParent();
      return new KvResult(KvResult.Status.OK, null, false, null, results).encode();
    }
    if (command instanceof KvCommand.Op one) {
      return applyOne(one.op().op(), one.key(), one.op().value(), null, batch).encode();
    }
    if (command instanceof KvCommand.SystemPut put) {
      batch.put(systemKey(put.key()), put.value());
      return KvResult.OK.encode();
    }
    // Java 17 has no pattern switch: the single-key commands map onto applyOne's arguments.
    byte op = KvCommand.GET;
    byte[] value = null;
    byte[] expected = null;
    if (command instanceof KvCommand.Put p) {
      op = KvCommand.PUT;
      value = p.value();
    } else if (command instanceof KvCommand.Delete) {
      op = KvCommand.DELETE;
    } else if (command instanceof KvCommand.Append a) {
      op = KvCommand.APPEND;
      value = a.element();
    } else if (command instanceof KvCommand.Cas c) {
      op = KvCommand.CAS;
      value = c.replacement();
      expected = c.expected();
    }
    return applyOne(op, command.key(), value, expected, batch).encode();
  }

  private KvResult applyOne(byte op, byte[] key, byte[] value, byte[] expected,
      WriteBatch batch) {
    byte[] rawKey = dataKey(key);
    byte[] current = op == KvCommand.PUT ? null : batch.get(rawKey); // a put needs no read
    switch (op) {
      case KvCommand.GET:
        return current == null ? KvResult.NOT_FOUND
            : KvResult.value(StoredValue.payload(current), StoredValue.isList(current));
      case KvCommand.PUT:
        return write(batch, rawKey, StoredValue.plain(value));
      case KvCommand.DELETE:
        if (current == null) {
          return KvResult.NOT_FOUND;
        }
        batch.remove(rawKey);
        return KvResult.OK;
      case KvCommand.APPEND:
        if (current != null && !StoredValue.isList(current)) {
          return KvResult.error("the value of this key is not a list");
        }
        return write(batch, rawKey, StoredValue.append(current, value));
      case KvCommand.CAS: {
        boolean matches = expected == null ? current == null
            : current != null && !StoredValue.isList(current)
                && Arrays.equals(StoredValue.payload(current), expected);
        if (!matches) {
          return new KvResult(KvResult.Status.CAS_FAILED,
              current == null ? null : StoredValue.payload(current),
              current != null && StoredValue.isList(current), null, List.of());
        }
        if (value == null) {
          batch.remove(rawKey);
          return KvResult.OK;
        }
        return write(batch, rawKey, StoredValue.plain(value));
      }
      default:
        return RedisOps.apply(op, rawKey, current, value, batch);
    }
  }

  static KvResult write(WriteBatch batch, byte[] rawKey, byte[] stored) {
    if (stored.length - 1 > KvCommand.MAX_STORED_VALUE_BYTES) {
      return KvResult.error("the value would exceed " + KvCommand.MAX_STORED_VALUE_BYTES
          + " bytes");
    }
    batch.put(rawKey, stored);
    return KvResult.OK;
  }

  // ------------------------------------------------------------------ sessions

  private void writeSession(WriteBatch batch, long clientId, long sequence, long index,
      byte[] result) {
    byte[] record = new byte[16 + result.length];
    Wire.putLong(record, 0, sequence);
    Wire.putLong(record, 8, index);
    System.arraycopy(result, 0, record, 16, result.length);
    long[] session = sessions.remove(clientId); // re-inserted last: the most recent
    if (session == null) {
      session = new long[2];
    }
    session[0] = sequence;
    session[1] = index;
    sessions.put(clientId, session);
    batch.put(sessionKey(clientId), record);
  }

  private void expireSessions(long olderThan, WriteBatch batch) {
    for (var it = sessions.entrySet().iterator(); it.hasNext(); ) {
      var oldest = it.next();
      if (oldest.getValue()[1] >= olderThan) {
        return;
      }
      it.remove();
      batch.remove(sessionKey(oldest.getKey()));
    }
  }

  private void rebuildSessionIndex() {
    sessions.clear();
    TreeMap<Long, long[]> byLastIndex = new TreeMap<>(); // {clientId, lastSequence}
    store.forEach((k, v) -> {
      if (k.length == 9 && k[0] == SESSION) {
        byLastIndex.put(Wire.getLong(v, 8), new long[] {Wire.getLong(k, 1), Wire.getLong(v, 0)});
      }
    });
    byLastIndex.forEach((lastIndex, s) -> sessions.put(s[0], new long[] {s[1], lastIndex}));
  }

  private void notifySystemRecords(WriteBatch batch) {
    for (Map.Entry<WriteBatch.Key, byte[]> e : batch.entries()) {
      byte[] k = e.getKey().bytes();
      if (k[0] == SYSTEM && !WriteBatch.isRemoved(e.getValue())) {
        systemListener.accept(new String(k, 1, k.length - 1,
            java.nio.charset.StandardCharsets.UTF_8), e.getValue());
      }
    }
  }

  private static byte[] envelope(SessionStateMachine.Status status, byte[] payload) {
    byte[] out = new byte[1 + payload.length];
    out[0] = (byte) status.ordinal();
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  static byte[] dataKey(byte[] key) {
    return prefixed(DATA, key);
  }

  static byte[] systemKey(byte[] key) {
    return prefixed(SYSTEM, key);
  }

  private static byte[] sessionKey(long clientId) {
    byte[] k = new byte[9];
    k[0] = SESSION;
    Wire.putLong(k, 1, clientId);
    return k;
  }

  private static byte[] prefixed(byte prefix, byte[] key) {
    byte[] out = new byte[key.length + 1];
    out[0] = prefix;
    System.arraycopy(key, 0, out, 1, key.length);
    return out;
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * Streams the state to {@code sink} in key order: only the keys are sorted in memory, each
   * value is read from the store as it is written.
   */
  @Override
  public void saveSnapshot(SnapshotSink sink) {
    checkNoBatch();
    storeCarried(); // the snapshot reads the store
    List<byte[]> keys = new ArrayList<>();
    store.forEach((k, v) -> {
      if (k.length > 0 && k[0] != META) {
        keys.add(k);
      }
    });
    keys.sort(Arrays::compareUnsigned);
    SnapshotStream.Writer w = new SnapshotStream.Writer(sink).raw(SNAPSHOT_MAGIC)
        .u64(appliedIndex).u64(keys.size());
    for (byte[] key : keys) {
      byte[] value = store.get(key);
      if (value == null) {
        throw new IllegalStateException("a key vanished while the snapshot was written");
      }
      w.bytes(key).bytes(value);
    }
    w.flush();
  }

  /**
   * Replaces the whole state with an image {@link #saveSnapshot} wrote, streamed from {@code
   * source} into the store's {@link KvStore#replaceAll}, which installs all or nothing: an
   * image found malformed part way leaves the state as it was.
   */
  @Override
  public void restoreSnapshot(SnapshotSource source) {
    checkNoBatch();
    SnapshotStream.Reader r = new SnapshotStream.Reader(source);
    long index;
    long count;
    try {
      for (byte m : SNAPSHOT_MAGIC) {
        if (r.u8() != (m & 0xFF)) {
          throw new Wire.MalformedException("not a KV snapshot");
        }
      }
      index = r.u64();
      count = r.u64();
    } catch (Wire.MalformedException e) {
      throw new IllegalArgumentException("cannot restore: " + e.getMessage());
    }
    byte[][] applied = {APPLIED_KEY, new WriteBatch(this::beneathBatches).redoRecord(index)};
    carried.clear(); // records of the state being replaced
    changedAt.clear();
    carriedBytes = 0;
    store.replaceAll(() -> new Iterator<>() {
      private long read;
      private boolean appliedDone;

      @Override
      public boolean hasNext() {
        return !appliedDone;
      }

      @Override
      public byte[][] next() {
        if (appliedDone) {
          throw new NoSuchElementException();
        }
        try {
          if (read == count) {
            r.expectEnd();
            appliedDone = true;
            return applied;
          }
          byte[] key = r.bytes();
          byte[] value = r.bytes();
          if (key.length == 0 || key[0] == META || key[0] > SYSTEM) {
            throw new Wire.MalformedException("entry " + read + " has a foreign key");
          }
          read++;
          return new byte[][] {key, value};
        } catch (Wire.MalformedException e) {
          throw new IllegalArgumentException("cannot restore: " + e.getMessage());
        }
      }
    });
    appliedIndex = index;
    lastApplied = index;
    rebuildSessionIndex();
    systemRecords().forEach(systemListener);
  }

  private void checkNoBatch() {
    if (batching || staged != null) {
      throw new IllegalStateException("not between beginBatch and endBatch");
    }
  }
}
