package io.detraft.kv;

import io.detraft.core.Membership;
import io.detraft.io.NodeRunner;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The address book of a node that is a witness of group 1. The book lives in group 1's state
 * machine ({@link AddressBook}), and a witness's copy of group 1 holds no payloads: the leader
 * strips every command, and a witness's snapshots carry only index, term and membership. So a
 * witness node copies the book from a data replica of group 1 ({@code GET /v1/internal/book},
 * the book as system records with the group 1 index it reflects), every few rounds, and keeps
 * the copy in {@code witness-book} in its data directory for its next start.
 *
 * <p>Why a copy rather than the book's records surviving the stripping: the core treats
 * payloads as opaque and would have to learn kv-app's record format, and a witness installs
 * snapshots without data, so records compacted into a snapshot would never reach it anyway. A
 * copy from a data replica is the whole book in the same form, and it moves forward only (an
 * answer reflecting an older group 1 index than the copy is ignored).
 */
final class BookMirror {
  private static final System.Logger LOG = System.getLogger(BookMirror.class.getName());
  static final String FILE = "witness-book";
  static final String PATH = "/v1/internal/book";

  private final long nodeId;
  private final Path dataDir;
  private final NodeRunner runner;
  private final AddressBook book;
  private final HttpPool pool;
  private final Executor executor;
  private final AdminToken admin;
  /** A member's HTTP address to ask while the book knows none (the --join seed; may be null). */
  private final String seed;
  private final AtomicBoolean fetching = new AtomicBoolean();
  /** The group 1 applied index of the newest copy taken in. */
  private volatile long copiedIndex = -1;
  private int attempts;

  BookMirror(long nodeId, Path dataDir, NodeRunner runner, AddressBook book, HttpPool pool,
      Executor executor, AdminToken admin, String seed) {
    this.nodeId = nodeId;
    this.dataDir = dataDir;
    this.runner = runner;
    this.book = book;
    this.pool = pool;
    this.executor = executor;
    this.admin = admin;
    this.seed = seed;
  }

  /** Feeds the copy saved by a previous run (if any) into {@code book}; returns its index. */
  static long load(Path dataDir, AddressBook book) {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      return -1;
    }
    Properties p = new Properties();
    try {
      p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
    new TreeMap<>(p).forEach((k, v) -> {
      if (!k.equals("applied")) {
        book.accept((String) k, ((String) v).getBytes(StandardCharsets.UTF_8));
      }
    });
    return Long.parseLong(p.getProperty("applied", "-1"));
  }

  void loaded(long index) {
    copiedIndex = index;
  }

  /** The JSON a data replica answers {@link #PATH} with. */
  static String answer(long nodeId, long applied, AddressBook book) {
    StringBuilder out = new StringBuilder("{\"node\":").append(nodeId).append(",\"applied\":")
        .append(applied).append(",\"records\":{");
    boolean first = true;
    for (Map.Entry<String, String> e : book.records().entrySet()) {
      out.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':')
          .append(Json.quote(e.getValue()));
      first = false;
    }
    return out.append("}}").toString();
  }

  /** One round, from the node's timer: copies the book if this node is a witness of group 1. */
  void run() {
    try {
      if (!runner.membership(1).isWitness(nodeId) || !fetching.compareAndSet(false, true)) {
        return;
      }
    } catch (IllegalArgumentException stopped) {
      return;
    }
    InetSocketAddress source = source();
    if (source == null) {
      fetching.set(false);
      return;
    }
    executor.execute(() -> {
      try {
        fetch(source);
      } catch (IOException | Json.ParseException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "copying the address book from " + source
            + " failed: " + e);
      } finally {
        fetching.set(false);
      }
    });
  }

  /** Group 1's leader if known, else the other data replicas in turn, else the seed. */
  private InetSocketAddress source() {
    Membership m = runner.membership(1);
    long leader = runner.status(1).leader();
    if (leader != 0 && leader != nodeId && book.http(leader) != null) {
      return book.http(leader);
    }
    List<InetSocketAddress> others = new ArrayList<>();
    for (long id : book.nodes().keySet()) {
      if (id != nodeId && !m.isWitness(id) && !book.isRemoved(id) && book.http(id) != null) {
        others.add(book.http(id));
      }
    }
    if (others.isEmpty()) {
      return seed == null ? null : Peers.address(seed);
    }
    return others.get(Math.floorMod(attempts++, others.size()));
  }

  private void fetch(InetSocketAddress source) throws IOException, Json.ParseException {
    HttpPool.Response r = pool.send(source, "GET", PATH, admin.headers(), null);
    if (r.status() != 200) {
      throw new IOException(source + " answered " + r.status() + ": " + r.text());
    }
    Map<String, Object> json = Json.parseObject(r.text());
    long applied = ((Number) json.get("applied")).longValue();
    if (applied < copiedIndex) {
      return; // a replica behind the one we copied last
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> records = (Map<String, Object>) json.get("records");
    SortedMap<String, String> before = book.records();
    for (Map.Entry<String, Object> e : new TreeMap<>(records).entrySet()) {
      book.accept(e.getKey(), String.valueOf(e.getValue()).getBytes(StandardCharsets.UTF_8));
    }
    boolean changed = !book.records().equals(before);
    copiedIndex = applied;
    if (changed || !Files.exists(dataDir.resolve(FILE))) {
      save(applied);
    }
  }

  private synchronized void save(long applied) throws IOException {
    Properties p = new Properties();
    book.records().forEach(p::setProperty);
    p.setProperty("applied", String.valueOf(applied));
    StringWriter text = new StringWriter();
    p.store(text, "the address book copied from a data replica of group 1 (this node is a"
        + " witness of it)");
    DurableFiles.replace(dataDir.resolve(FILE), text.toString().getBytes(StandardCharsets.UTF_8));
  }
}
