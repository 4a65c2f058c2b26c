package io.detraft.sim;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import io.detraft.core.Ready;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Locale;

/**
 * What happened in a run, kept two ways:
 *
 * <ul>
 *   <li>a <b>fingerprint</b>: a running 64-bit hash over every event (time, node, kind, peer,
 *       arguments, message bytes). Two runs of one seed must end with the same fingerprint;
 *       any divergence, however small, changes it.
 *   <li>a <b>ring buffer</b> of the last events, formatted only when a run fails. Recording
 *       stores a few longs and a reference to an existing immutable object (the decoded
 *       message, say), so the hot path allocates nothing and builds no strings.
 * </ul>
 */
public final class Trace {
  /** Event kinds. The ordinal enters the fingerprint: append new kinds at the end. */
  public enum Kind {
    TICK,
    SEND,
    DELIVER,
    DROP,
    DUPLICATE,
    READY,
    SYNC_START,
    SYNC_DONE,
    ROLE,
    APPLY,
    CRASH,
    RESTART,
    PAUSE,
    RESUME,
    PARTITION,
    HEAL,
    CLOG,
    CLIENT_INVOKE,
    CLIENT_PROPOSE,
    CLIENT_REDIRECT,
    CLIENT_COMPLETE,
    CLIENT_TIMEOUT,
    PHASE,
    SNAPSHOT,
    RESTORE,
    ADMIN,
    READ,
    REPLAY
  }

  private static final Kind[] KINDS = Kind.values();

  private final int capacity;
  private final int mask;
  private final long[] times;
  private final byte[] kinds;
  private final int[] nodes;
  private final int[] peers;
  private final long[] firsts;
  private final long[] seconds;
  private final Object[] details;
  /** Events recorded so far; the ring holds the last min(count, capacity) of them. */
  private long count;
  private long fingerprint = 0x6A09E667F3BCC908L;
  /** Also sees every recorded event (an HTML report), or null: most runs keep only the ring. */
  private TraceSink sink;

  /** A trace whose ring keeps the last {@code capacity} events (rounded up to a power of 2). */
  public Trace(int capacity) {
    int size = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
    this.capacity = size;
    this.mask = size - 1;
    this.times = new long[size];
    this.kinds = new byte[size];
    this.nodes = new int[size];
    this.peers = new int[size];
    this.firsts = new long[size];
    this.seconds = new long[size];
    this.details = new Object[size];
  }

  /**
   * Records one event. {@code first}/{@code second} are kind-specific numbers (see {@link
   * #describe}); {@code detail} is an immutable object printed with {@code toString()} on
   * failure, or null. Only the numbers enter the fingerprint, so callers put what must be
   * reproduced (message bytes' hash, say) into them.
   */
  public void record(long time, Kind kind, int node, int peer, long first, long second,
      Object detail) {
    long h = fingerprint;
    h = mix(h, time);
    h = mix(h, ((long) kind.ordinal() << 48) ^ ((long) node << 24) ^ peer);
    h = mix(h, first);
    fingerprint = mix(h, second);
    int slot = (int) (count++ & mask);
    times[slot] = time;
    kinds[slot] = (byte) kind.ordinal();
    nodes[slot] = node;
    peers[slot] = peer;
    firsts[slot] = first;
    seconds[slot] = second;
    details[slot] = detail;
    if (sink != null) {
      sink.event(time, kind, node, peer, first, second, detail);
    }
  }

  /** Hands every event recorded from now on to {@code sink} as well (null: none). */
  public void sink(TraceSink sink) {
    this.sink = sink;
  }

  /** Folds a value into the fingerprint without keeping an event in the ring (ticks). */
  public void fold(long time, Kind kind, int node) {
    // Not kept in the ring: ticks would crowd out the events that explain a failure.
    fingerprint = mix(mix(fingerprint, time), ((long) kind.ordinal() << 48) ^ ((long) node << 24));
  }

  public long fingerprint() {
    return fingerprint;
  }

  /** Events recorded in the ring so far (ticks excluded). */
  public long count() {
    return count;
  }

  /** The last {@code limit} events, oldest first, one per line. */
  public String tail(int limit) {
    StringBuilder out = new StringBuilder();
    long shown = Math.min(Math.min(limit, capacity), count);
    for (long i = count - shown; i < count; i++) {
      int slot = (int) (i & mask);
      out.append("  ").append(describe(slot)).append('\n');
    }
    return out.toString();
  }

  private String describe(int slot) {
    Kind kind = KINDS[kinds[slot]];
    String at = String.format(Locale.ROOT, "%12.6fs", times[slot] / 1e9);
    int node = nodes[slot];
    int peer = peers[slot];
    long a = firsts[slot];
    long b = seconds[slot];
    Object d = details[slot];
    String what = switch (kind) {
      case TICK -> "n" + node + " tick";
      case SEND -> "n" + node + " -> n" + peer + " send " + d
          + " (arrives " + String.format(Locale.ROOT, "%.6fs", b / 1e9) + ")";
      case DELIVER -> "n" + peer + " -> n" + node + " deliver " + d;
      case DROP -> "n" + node + " -> n" + peer + " drop (" + d + ")";
      case DUPLICATE -> "n" + node + " -> n" + peer + " duplicate, copy arrives "
          + String.format(Locale.ROOT, "%.6fs", b / 1e9);
      case READY -> "n" + node + " g" + peer + " ready: " + describeReady((Ready) d);
      case SYNC_START -> "n" + node + " fsync started, done at "
          + String.format(Locale.ROOT, "%.6fs", b / 1e9);
      case SYNC_DONE -> "n" + node + " fsync done";
      case ROLE -> "n" + node + " " + d + " term " + a;
      case APPLY -> "n" + node + " g" + peer + " applied [" + a + ".." + b + "]";
      case CRASH -> "n" + node + " CRASH (" + d + ")";
      case RESTART -> "n" + node + " RESTART " + d;
      case PAUSE -> "n" + node + " pause until " + String.format(Locale.ROOT, "%.6fs", b / 1e9);
      case RESUME -> "n" + node + " resume";
      case PARTITION -> "PARTITION " + d;
      case HEAL -> "HEAL " + (d == null ? "" : d);
      case CLOG -> "clog n" + node + " -> n" + peer + " until "
          + String.format(Locale.ROOT, "%.6fs", b / 1e9);
      case CLIENT_INVOKE -> "client p" + a + " invoke " + d + " at n" + node;
      case CLIENT_PROPOSE -> "n" + node + " g" + peer + " client " + a + " attempt " + b + ": "
          + d;
      case CLIENT_REDIRECT -> "client p" + a + " retry at n" + node + " (" + d + ")";
      case CLIENT_COMPLETE -> "client p" + a + " " + d;
      case CLIENT_TIMEOUT -> "client p" + a + " attempt " + b + " timed out, retrying " + d;
      case PHASE -> "PHASE " + d;
      case SNAPSHOT -> "n" + node + " g" + peer + " took " + d;
      case RESTORE -> "n" + node + " g" + peer + " restored " + d;
      case ADMIN -> "n" + node + " admin " + d;
      case READ -> "n" + node + " g" + peer + " served read (attempt " + a + ") at applied " + b;
      case REPLAY -> "n" + node + " -> n" + peer + " replay of an older packet, arrives "
          + String.format(Locale.ROOT, "%.6fs", b / 1e9);
    };
    return at + "  " + what;
  }

  /** A Ready in one short line; its messages are traced one by one as they are sent. */
  private static String describeReady(Ready ready) {
    StringBuilder out = new StringBuilder();
    if (ready.softState() != null) {
      out.append(ready.softState().role()).append(" leader=n")
          .append(ready.softState().leader()).append(' ');
    }
    if (ready.hardState() != null) {
      HardState h = ready.hardState();
      out.append("hard(term=").append(h.term()).append(" vote=").append(h.vote())
          .append(" commit=").append(h.commit()).append(") ");
    }
    if (ready.snapshot() != null) {
      out.append("snapshot(").append(ready.snapshot()).append(") ");
    }
    if (!ready.entries().isEmpty()) {
      out.append("persist").append(range(ready.entries())).append(' ');
    }
    if (!ready.committedEntries().isEmpty()) {
      out.append("apply").append(range(ready.committedEntries())).append(' ');
    }
    if (!ready.readStates().isEmpty()) {
      out.append(ready.readStates().size()).append(" reads ");
    }
    out.append(ready.messages().size()).append(" msg");
    if (ready.mustSync()) {
      out.append(" +fsync");
    }
    return out.toString();
  }

  private static String range(List<Entry> entries) {
    Entry first = entries.get(0);
    Entry last = entries.get(entries.size() - 1);
    return "[" + first.index() + "@" + first.term() + ".." + last.index() + "@" + last.term()
        + "]";
  }

  /** Reads 8 bytes at a time; little-endian so the hash is the same on every platform. */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** A cheap 64-bit hash of a byte array (FNV-style over 8-byte words, then mixed). */
  public static long hashBytes(byte[] bytes) {
    long h = 0xCBF29CE484222325L ^ bytes.length;
    int i = 0;
    for (; i + 8 <= bytes.length; i += 8) {
      h = (h ^ (long) LONGS.get(bytes, i)) * 0x100000001B3L;
    }
    for (; i < bytes.length; i++) {
      h = (h ^ (bytes[i] & 0xFF)) * 0x100000001B3L;
    }
    return SimRandom.mix64(h);
  }

  private static long mix(long h, long value) {
    h ^= value * 0x9E3779B97F4A7C15L;
    h = Long.rotateLeft(h, 31) * 0xBF58476D1CE4E5B9L;
    return h ^ (h >>> 29);
  }
}
