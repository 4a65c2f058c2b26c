package io.detraft.kv;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A small non-blocking HTTP/1.1 server, built for the key/value API's many small requests.
 *
 * <p>One selector thread accepts connections, reads and parses requests and runs the handlers,
 * which must not block: they parse and start work. An answer is written by whichever thread
 * has it (often the Raft thread, from a completed future) as one buffer in one non-blocking
 * write; whatever the socket does not take at once, the selector thread writes later, so no
 * thread ever waits for a slow client. Against the JDK's {@code com.sun.net.httpserver} this
 * saves, per request, a second write (it flushes the headers before the body), an
 * {@code epoll_ctl} (it re-registers each connection after every exchange), a formatted
 * {@code Date} and a pile of allocations: most of what an HTTP request cost the node.
 *
 * <p>Supported: keep-alive (HTTP/1.1 by default, HTTP/1.0 with {@code Connection:
 * keep-alive}), pipelined requests (answered one at a time, in order), bodies by
 * {@code Content-Length} or chunked, {@code Expect: 100-continue}, {@code HEAD} answers
 * without a body, and answers whose body streams ({@link Exchange#respondStreamed}: a file,
 * say, read a piece at a time as the socket drains, never whole in memory). Refused, with the
 * connection closed: malformed requests (400), heads over
 * {@link #MAX_HEAD_BYTES} (431), bodies over the server's limit (413), other transfer codings
 * (501), other HTTP versions (505). Idle connections close after a while.
 */
final class HttpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpServer.class.getName());

  /** Request line and headers. */
  static final int MAX_HEAD_BYTES = 32 << 10;
  private static final int READ_BUFFER_BYTES = 64 << 10;
  private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n"
      .getBytes(StandardCharsets.US_ASCII);
  private static final DateTimeFormatter DATE = DateTimeFormatter
      .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  /** Answers one request; must not block (see the class comment). */
  @FunctionalInterface
  interface Handler {
    void handle(Exchange exchange);
  }

  private record Route(String prefix, Handler handler) {}

  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread thread;
  private final int maxBodyBytes;
  private final long idleNanos;
  /** Longest prefix first; replaced whole, never changed in place. */
  private volatile List<Route> routes = List.of();
  /** Work for the selector thread from other threads (interest changes, pipelined input). */
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
  private volatile byte[] dateHeader;
  private long dateSecond;
  private volatile boolean running = true;

  /**
   * Binds {@code address} (port 0: any free port); {@link #start} begins serving.
   *
   * @param maxBodyBytes the largest request body accepted (handlers may set lower limits)
   * @param idleTimeoutMillis a connection with no request in progress for this long closes
   */
  HttpServer(InetSocketAddress address, int backlog, int maxBodyBytes, long idleTimeoutMillis,
      String threadName) throws IOException {
    this.maxBodyBytes = maxBodyBytes;
    this.idleNanos = idleTimeoutMillis * 1_000_000L;
    this.selector = Selector.open();
    try {
      server = ServerSocketChannel.open();
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(address, backlog);
      server.configureBlocking(false);
      server.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
    updateDate(System.currentTimeMillis());
    thread = new Thread(this::loop, threadName);
    thread.setDaemon(true);
  }

  /** Requests whose path starts with {@code prefix} go to {@code handler}; the longest wins. */
  synchronized void route(String prefix, Handler handler) {
    List<Route> next = new ArrayList<>(routes);
    next.add(new Route(prefix, handler));
    next.sort((a, b) -> Integer.compare(b.prefix.length(), a.prefix.length()));
    routes = List.copyOf(next);
  }

  void start() {
    thread.start();
  }

  InetSocketAddress address() {
    try {
      return (InetSocketAddress) server.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException("the server socket is closed", e);
    }
  }

  /** Stops accepting, closes every connection (answers still on their way are dropped). */
  @Override
  public void close() {
    running = false;
    selector.wakeup();
    if (Thread.currentThread() != thread && thread.isAlive()) {
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!thread.isAlive()) {
      closeEverything();
    }
  }

  // ------------------------------------------------------------------ the selector thread

  private void loop() {
    long nextSweep = System.nanoTime() + 1_000_000_000L;
    try {
      while (running) {
        selector.select(1000);
        for (Runnable r; (r = tasks.poll()) != null; ) {
          r.run();
        }
        for (SelectionKey key : selector.selectedKeys()) {
          try {
            if (!key.isValid()) {
              continue;
            }
            if (key.isAcceptable()) {
              accept();
            } else {
              Connection c = (Connection) key.attachment();
              if (key.isWritable()) {
                c.flushPending();
              }
              if (key.isValid() && key.isReadable()) {
                c.onReadable();
              }
            }
          } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "HTTP connection failed: " + e, e);
            if (key.attachment() instanceof Connection c) {
              c.close();
            }
          }
        }
        selector.selectedKeys().clear();
        long now = System.nanoTime();
        if (now - nextSweep >= 0) {
          nextSweep = now + 1_000_000_000L;
          updateDate(System.currentTimeMillis());
          closeIdle(now);
        }
      }
    } catch (IOException | RuntimeException e) {
      if (running) {
        LOG.log(System.Logger.Level.ERROR, "HTTP server stopped: " + e, e);
      }
    } finally {
      closeEverything();
    }
  }

  private void accept() throws IOException {
    for (SocketChannel ch; (ch = server.accept()) != null; ) {
      try {
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Connection c = new Connection(ch);
        c.key = ch.register(selector, SelectionKey.OP_READ, c);
      } catch (IOException e) {
        ch.close();
      }
    }
  }

  private void closeIdle(long now) {
    for (SelectionKey key : selector.keys()) {
      if (key.attachment() instanceof Connection c) {
        c.closeIfIdle(now);
      }
    }
  }

  private synchronized void closeEverything() {
    if (!selector.isOpen()) {
      return;
    }
    for (SelectionKey key : selector.keys()) {
      if (key.attachment() instanceof Connection c) {
        c.close();
      }
    }
    try {
      server.close();
      selector.close();
    } catch (IOException e) {
      // Closing is all we wanted.
    }
  }

  /** Runs {@code task} on the selector thread soon. */
  private void onSelectorThread(Runnable task) {
    tasks.add(task);
    selector.wakeup();
  }

  private void updateDate(long millis) {
    long second = millis / 1000;
    if (second != dateSecond || dateHeader == null) {
      dateSecond = second;
      dateHeader = ("Date: " + DATE.format(ZonedDateTime.ofInstant(
          java.time.Instant.ofEpochSecond(second), ZoneOffset.UTC)) + "\r\n")
          .getBytes(StandardCharsets.US_ASCII);
    }
  }

  private void dispatch(Exchange exchange) {
    Handler handler = null;
    for (Route r : routes) {
      if (exchange.rawPath().startsWith(r.prefix)) {
        handler = r.handler;
        break;
      }
    }
    try {
      if (handler == null) {
        exchange.respond(404, Http.JSON, Json.error("not_found", "no such endpoint: "
            + exchange.rawPath()).getBytes(StandardCharsets.UTF_8), 0);
      } else {
        handler.handle(exchange);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "HTTP handler failed: " + e, e);
      exchange.respond(500, Http.JSON, Json.error("internal", e.toString())
          .getBytes(StandardCharsets.UTF_8), 0);
    }
  }

  // ------------------------------------------------------------------ connections

  /** A request that cannot be served: answered with {@code status}, then the connection closes. */
  private static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /**
   * One client connection. The selector thread reads and parses; any thread may answer.
   * Every field is guarded by the connection's monitor.
   */
  final class Connection {
    private final SocketChannel channel;
    SelectionKey key;
    /** Received bytes not yet consumed: {@code buf[start, end)}. */
    private byte[] buf = new byte[4096];
    private int start;
    private int end;
    /** Where the search for the end of the head resumes. */
    private int scanned;
    /** The request being answered; the next one is parsed only after it. */
    private Exchange current;
    private boolean continueSent;
    /** Unwritten output (answers, 100 Continue), written by the selector thread. */
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    /** Once {@link #pending} drains: the current answer is complete (and maybe closes). */
    private boolean finishWhenDrained;
    private boolean closeWhenDrained;
    /** The streamed body of the current answer, if it has one and it is not all sent. */
    private StreamedBody streaming;
    /** Bytes of {@link #streaming} still to send. */
    private long streamingLeft;
    private boolean closeAfterStreaming;
    /** The piece of {@link #streaming} being written; reused once the socket took it. */
    private ByteBuffer piece;
    private boolean inputClosed;
    private boolean readPaused;
    private boolean closed;
    private long lastActivity = System.nanoTime();

    Connection(SocketChannel channel) {
      this.channel = channel;
    }

    void onReadable() {
      Exchange ready;
      synchronized (this) {
        if (closed) {
          return;
        }
        int n;
        try {
          readBuffer.clear();
          if (end - start >= maxRequestBytes()) {
            pauseReading(); // a pipelining client waits for the answer being written
            if (current == null) {
              refuse(new BadRequest(413, "the request exceeds " + maxRequestBytes() + " bytes"));
            }
            return;
          }
          readBuffer.limit(Math.min(readBuffer.capacity(), maxRequestBytes() - (end - start)));
          n = channel.read(readBuffer);
        } catch (IOException e) {
          close();
          return;
        }
        if (n < 0) {
          inputClosed = true;
          pauseReading();
          if (current == null && pending.isEmpty()) {
            close(); // nothing more will come, nothing is owed
          }
          return;
        }
        if (n == 0) {
          return;
        }
        lastActivity = System.nanoTime();
        readBuffer.flip();
        ensureRoom(n);
        readBuffer.get(buf, end, n);
        end += n;
        ready = current == null ? parse() : null;
      }
      if (ready != null) {
        dispatch(ready);
      }
    }

    private int maxRequestBytes() {
      return MAX_HEAD_BYTES + maxBodyBytes + (maxBodyBytes >> 3) + 1024; // chunking overhead
    }

    private void ensureRoom(int n) {
      if (buf.length - end >= n) {
        return;
      }
      int live = end - start;
      if (live + n > buf.length) {
        int size = buf.length;
        while (size < live + n) {
          size *= 2;
        }
        byte[] grown = new byte[size];
        System.arraycopy(buf, start, grown, 0, live);
        buf = grown;
      } else {
        System.arraycopy(buf, start, buf, 0, live);
      }
      scanned -= start;
      start = 0;
      end = live;
    }

    private void pauseReading() {
      if (!readPaused && key.isValid()) {
        readPaused = true;
        key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
      }
    }

    /** Selector thread only. */
    private void resumeReading() {
      if (readPaused && !inputClosed && key.isValid()) {
        readPaused = false;
        key.interestOps(key.interestOps() | SelectionKey.OP_READ);
      }
    }

    /**
     * The next complete request in the buffer (consumed), or null if it is not all here. A
     * request that cannot be served is answered here and closes the connection.
     */
    private Exchange parse() {
      try {
        return parseRequest();
      } catch (BadRequest e) {
        refuse(e);
        return null;
      }
    }

    /** Answers a request that cannot be served; the connection closes after it. */
    private void refuse(BadRequest e) {
      start = end; // the rest is ignored
      Exchange refusal = new Exchange(this, "GET", "/", null, new String[0], new byte[0],
          false, false);
      current = refusal;
      refusal.respond(e.status, Http.JSON, Json.error(e.status == 413 ? "body_too_large"
          : "bad_request", e.getMessage()).getBytes(StandardCharsets.UTF_8), 0);
    }

    private Exchange parseRequest() throws BadRequest {
      // Clients may send empty lines between requests (RFC 9112, 2.2).
      while (start < end && (buf[start] == '\r' || buf[start] == '\n')) {
        start++;
      }
      if (scanned < start) {
        scanned = start;
      }
      int headEnd = -1; // index just past the empty line
      for (int i = Math.max(scanned, start + 1); i < end; i++) {
        if (buf[i] == '\n' && (buf[i - 1] == '\n'
            || (buf[i - 1] == '\r' && i - 2 >= start && buf[i - 2] == '\n'))) {
          headEnd = i + 1;
          break;
        }
      }
      if (headEnd < 0) {
        scanned = end;
        if (end - start > MAX_HEAD_BYTES) {
          throw new BadRequest(431, "the request head exceeds " + MAX_HEAD_BYTES + " bytes");
        }
        return null;
      }
      if (headEnd - start > MAX_HEAD_BYTES) {
        throw new BadRequest(431, "the request head exceeds " + MAX_HEAD_BYTES + " bytes");
      }
      // Request line.
      int lineEnd = lineEnd(start, headEnd);
      String requestLine = new String(buf, start, trimCr(start, lineEnd) - start,
          StandardCharsets.ISO_8859_1);
      int sp1 = requestLine.indexOf(' ');
      int sp2 = requestLine.lastIndexOf(' ');
      if (sp1 <= 0 || sp2 <= sp1 + 1) {
        throw new BadRequest(400, "malformed request line");
      }
      if (!isToken(start, start + sp1)) {
        throw new BadRequest(400, "malformed request line");
      }
      String method = requestLine.substring(0, sp1);
      String target = requestLine.substring(sp1 + 1, sp2);
      String version = requestLine.substring(sp2 + 1);
      boolean http11;
      if (version.equals("HTTP/1.1")) {
        http11 = true;
      } else if (version.equals("HTTP/1.0")) {
        http11 = false;
      } else if (version.startsWith("HTTP/")) {
        throw new BadRequest(505, "HTTP/1.1 only, not " + version);
      } else {
        throw new BadRequest(400, "malformed request line");
      }
      // Headers.
      List<String> headers = new ArrayList<>(16);
      long contentLength = -1;
      boolean chunked = false;
      boolean transferEncoding = false;
      boolean close = !http11;
      boolean expectContinue = false;
      for (int at = lineEnd + 1; at < headEnd; ) {
        int le = lineEnd(at, headEnd);
        int te = trimCr(at, le);
        if (te == at) {
          break; // the empty line
        }
        if (buf[at] == ' ' || buf[at] == '\t') {
          throw new BadRequest(400, "folded header lines are not allowed");
        }
        int colon = -1;
        for (int i = at; i < te; i++) {
          if (buf[i] == ':') {
            colon = i;
            break;
          }
        }
        if (colon <= at || !isToken(at, colon)) {
          throw new BadRequest(400, "malformed header line");
        }
        String name = new String(buf, at, colon - at, StandardCharsets.ISO_8859_1);
        String value = new String(buf, colon + 1, te - colon - 1, StandardCharsets.ISO_8859_1)
            .trim();
        headers.add(name);
        headers.add(value);
        if (name.equalsIgnoreCase("Content-Length")) {
          long n = parseLength(value);
          if (contentLength >= 0 && n != contentLength) {
            throw new BadRequest(400, "conflicting Content-Length headers");
          }
          contentLength = n;
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          transferEncoding = true;
          chunked = value.equalsIgnoreCase("chunked");
          if (!chunked) {
            throw new BadRequest(501, "only the chunked transfer coding is supported");
          }
        } else if (name.equalsIgnoreCase("Connection")) {
          for (String token : value.split(",")) {
            String t = token.trim();
            if (t.equalsIgnoreCase("close")) {
              close = true;
            } else if (t.equalsIgnoreCase("keep-alive") && !http11) {
              close = false;
            }
          }
        } else if (name.equalsIgnoreCase("Expect")) {
          expectContinue = value.equalsIgnoreCase("100-continue");
        }
        at = le + 1;
      }
      if (transferEncoding && contentLength >= 0) {
        throw new BadRequest(400, "Content-Length and Transfer-Encoding together");
      }
      if (contentLength > maxBodyBytes) {
        throw new BadRequest(413, "the body has " + contentLength + " bytes; the limit is "
            + maxBodyBytes);
      }
      // Body.
      byte[] body;
      int requestEnd;
      if (chunked) {
        long[] sizes = chunkedExtent(headEnd);
        if (sizes == null) {
          sendContinueIfExpected(expectContinue, http11);
          return null;
        }
        requestEnd = (int) sizes[0];
        body = dechunk(headEnd, (int) sizes[1]);
      } else {
        int length = (int) Math.max(0, contentLength);
        if (end - headEnd < length) {
          sendContinueIfExpected(expectContinue, http11);
          return null;
        }
        body = Arrays.copyOfRange(buf, headEnd, headEnd + length);
        requestEnd = headEnd + length;
      }
      start = requestEnd;
      scanned = start;
      continueSent = false;
      String rawPath = target;
      if (target.startsWith("http://") || target.startsWith("https://")) {
        int slash = target.indexOf('/', target.indexOf("//") + 2);
        rawPath = slash < 0 ? "/" : target.substring(slash);
      }
      if (!rawPath.startsWith("/")) {
        throw new BadRequest(400, "the request target must be a path");
      }
      String rawQuery = null;
      int q = rawPath.indexOf('?');
      if (q >= 0) {
        rawQuery = rawPath.substring(q + 1);
        rawPath = rawPath.substring(0, q);
      }
      int hash = rawQuery != null ? rawQuery.indexOf('#') : rawPath.indexOf('#');
      if (hash >= 0) {
        if (rawQuery != null) {
          rawQuery = rawQuery.substring(0, hash);
        } else {
          rawPath = rawPath.substring(0, hash);
        }
      }
      Exchange exchange = new Exchange(this, method, rawPath, rawQuery,
          headers.toArray(new String[0]), body, !close, method.equals("HEAD"));
      current = exchange;
      return exchange;
    }

    /** Whether {@code buf[from, to)} is an RFC 9110 token (a header name, a method). */
    private boolean isToken(int from, int to) {
      for (int i = from; i < to; i++) {
        int c = buf[i] & 0xFF;
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        if (!ok) {
          return false;
        }
      }
      return true;
    }

    private long parseLength(String value) throws BadRequest {
      if (value.isEmpty() || value.length() > 18) {
        throw new BadRequest(400, "bad Content-Length");
      }
      long n = 0;
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c < '0' || c > '9') {
          throw new BadRequest(400, "bad Content-Length");
        }
        n = n * 10 + (c - '0');
      }
      return n;
    }

    private int lineEnd(int from, int limit) {
      for (int i = from; i < limit; i++) {
        if (buf[i] == '\n') {
          return i;
        }
      }
      return limit;
    }

    private int trimCr(int from, int lineEnd) {
      return lineEnd > from && buf[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
    }

    /**
     * Where a chunked body starting at {@code from} ends (after its trailers) and its decoded
     * size, or null if it has not all arrived.
     */
    private long[] chunkedExtent(int from) throws BadRequest {
      long size = 0;
      int at = from;
      while (true) {
        int le = lineEnd(at, end);
        if (le == end) {
          return null;
        }
        String line = new String(buf, at, trimCr(at, le) - at, StandardCharsets.ISO_8859_1);
        int semicolon = line.indexOf(';');
        String hex = (semicolon < 0 ? line : line.substring(0, semicolon)).trim();
        long chunk;
        try {
          chunk = hex.isEmpty() || hex.length() > 8 ? -1 : Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
          chunk = -1;
        }
        if (chunk < 0) {
          throw new BadRequest(400, "malformed chunk size");
        }
        at = le + 1;
        if (chunk == 0) {
          while (true) { // trailers, up to the empty line
            int te = lineEnd(at, end);
            if (te == end) {
              return null;
            }
            boolean empty = trimCr(at, te) == at;
            at = te + 1;
            if (empty) {
              return new long[] {at, size};
            }
          }
        }
        size += chunk;
        if (size > maxBodyBytes) {
          throw new BadRequest(413, "the body exceeds " + maxBodyBytes + " bytes");
        }
        if (end - at < chunk + 1) {
          return null;
        }
        at += (int) chunk;
        if (buf[at] == '\r') {
          if (end - at < 2) {
            return null;
          }
          at++;
        }
        if (buf[at] != '\n') {
          throw new BadRequest(400, "malformed chunk");
        }
        at++;
      }
    }

    /** The decoded body of a complete chunked body (checked by {@link #chunkedExtent}). */
    private byte[] dechunk(int from, int size) {
      byte[] body = new byte[size];
      int at = from;
      int out = 0;
      while (out < size) {
        int le = lineEnd(at, end);
        String line = new String(buf, at, trimCr(at, le) - at, StandardCharsets.ISO_8859_1);
        int semicolon = line.indexOf(';');
        int chunk = (int) Long.parseLong((semicolon < 0 ? line : line.substring(0, semicolon))
            .trim(), 16);
        at = le + 1;
        System.arraycopy(buf, at, body, out, chunk);
        out += chunk;
        at += chunk;
        at += buf[at] == '\r' ? 2 : 1;
      }
      return body;
    }

    private void sendContinueIfExpected(boolean expectContinue, boolean http11) {
      if (expectContinue && http11 && !continueSent) {
        continueSent = true;
        write(ByteBuffer.wrap(CONTINUE), false, false);
      }
    }

    /** Called by {@link Exchange#respond}, from any thread. */
    void send(Exchange exchange, ByteBuffer answer, boolean close) {
      synchronized (this) {
        if (closed || exchange != current) {
          return;
        }
        write(answer, true, close);
      }
    }

    /** Called by {@link Exchange#respondStreamed}, from any thread. */
    void sendStreamed(Exchange exchange, ByteBuffer head, long length, StreamedBody body,
        boolean close) {
      synchronized (this) {
        if (closed || exchange != current) {
          closeQuietly(body);
          return;
        }
        streaming = body;
        streamingLeft = length;
        closeAfterStreaming = close;
        write(head, false, false);
        if (!closed && pending.isEmpty()) {
          pumpBody();
        }
      }
    }

    /**
     * Writes pieces of the streamed body while the socket takes them; what it does not take
     * waits in {@link #pending} for the selector thread, which calls this again once it is
     * written. A body that fails or ends early closes the connection: the client sees a short
     * body, never a wrong one. Called holding this connection's lock.
     */
    private void pumpBody() {
      try {
        while (streamingLeft > 0) {
          if (piece == null) {
            piece = ByteBuffer.allocate(STREAMED_PIECE_BYTES);
          }
          piece.clear().limit((int) Math.min(STREAMED_PIECE_BYTES, streamingLeft));
          int n = streaming.read(piece);
          if (n < 0) {
            throw new IOException("the streamed body ended " + streamingLeft + " bytes early");
          }
          streamingLeft -= n;
          piece.flip();
          channel.write(piece);
          if (piece.hasRemaining()) {
            pending.add(piece);
            if (Thread.currentThread() == thread) {
              enableWrites();
            } else {
              onSelectorThread(this::enableWrites);
            }
            return;
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a streamed answer failed: " + e);
        close();
        return;
      }
      closeQuietly(streaming);
      streaming = null;
      piece = null;
      finished(closeAfterStreaming);
    }

    /** Writes what the socket takes now; the rest goes to the selector thread. */
    private void write(ByteBuffer out, boolean finishes, boolean close) {
      if (pending.isEmpty()) {
        try {
          channel.write(out);
        } catch (IOException e) {
          close();
          return;
        }
        if (!out.hasRemaining()) {
          if (finishes) {
            finished(close);
          }
          return;
        }
      }
      boolean wasEmpty = pending.isEmpty();
      pending.add(out);
      if (finishes) {
        finishWhenDrained = true;
        closeWhenDrained = close;
      }
      if (wasEmpty) {
        if (Thread.currentThread() == thread) {
          enableWrites();
        } else {
          onSelectorThread(this::enableWrites);
        }
      }
    }

    private synchronized void enableWrites() {
      if (!closed && key.isValid() && !pending.isEmpty()) {
        key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
      }
    }

    /** Selector thread: the socket takes more output. */
    synchronized void flushPending() {
      if (closed) {
        return;
      }
      try {
        while (!pending.isEmpty()) {
          ByteBuffer b = pending.peek();
          channel.write(b);
          if (b.hasRemaining()) {
            return;
          }
          pending.poll();
        }
      } catch (IOException e) {
        close();
        return;
      }
      if (streaming != null) {
        pumpBody();
        if (closed || !pending.isEmpty()) {
          return;
        }
      }
      key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
      if (finishWhenDrained) {
        finishWhenDrained = false;
        finished(closeWhenDrained);
      }
    }

    /** The current answer is written: close, or go on with the next request. */
    private void finished(boolean close) {
      current = null;
      lastActivity = System.nanoTime();
      if (close || inputClosed) {
        close();
      } else if (end > start || readPaused) {
        // Pipelined input (or a full buffer): parse it on the selector thread.
        onSelectorThread(this::continueInput);
      }
    }

    /** Selector thread: parses input that arrived while the previous request was answered. */
    private void continueInput() {
      Exchange ready;
      synchronized (this) {
        if (closed || current != null) {
          return;
        }
        resumeReading();
        ready = parse();
      }
      if (ready != null) {
        dispatch(ready);
      }
    }

    synchronized void closeIfIdle(long now) {
      if (current == null && pending.isEmpty() && now - lastActivity > idleNanos) {
        close();
      }
    }

    synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      pending.clear();
      if (streaming != null) {
        closeQuietly(streaming);
        streaming = null;
      }
      try {
        channel.close(); // cancels the key; the peer sees EOF at once
      } catch (IOException e) {
        // Closing is all we wanted.
      }
      if (Thread.currentThread() != thread) {
        selector.wakeup(); // the selector releases the socket on its next round
      }
    }

    byte[] dateHeader() {
      return dateHeader;
    }
  }

  // ------------------------------------------------------------------ exchanges

  /**
   * One request and its answer. The request is complete (body included) when the handler
   * sees it; {@link #respond} may be called once, from any thread.
   */
  static final class Exchange {
    private final Connection connection;
    private final String method;
    private final String rawPath;
    private final String rawQuery;
    /** Name, value, name, value... as received. */
    private final String[] headers;
    private final byte[] body;
    private final boolean keepAlive;
    private final boolean head;
    private volatile long defaultLeaderHint;
    private final java.util.concurrent.atomic.AtomicBoolean answered =
        new java.util.concurrent.atomic.AtomicBoolean();

    Exchange(Connection connection, String method, String rawPath, String rawQuery,
        String[] headers, byte[] body, boolean keepAlive, boolean head) {
      this.connection = connection;
      this.method = method;
      this.rawPath = rawPath;
      this.rawQuery = rawQuery;
      this.headers = headers;
      this.body = body;
      this.keepAlive = keepAlive;
      this.head = head;
    }

    String method() {
      return method;
    }

    /** The path as sent (percent-encoded), without the query. */
    String rawPath() {
      return rawPath;
    }

    /** The query as sent (percent-encoded), or null. */
    String rawQuery() {
      return rawQuery;
    }

    /** The first value of header {@code name} (any case), or null. */
    String header(String name) {
      for (int i = 0; i < headers.length; i += 2) {
        if (headers[i].equalsIgnoreCase(name)) {
          return headers[i + 1];
        }
      }
      return null;
    }

    byte[] body() {
      return body;
    }

    boolean answered() {
      return answered.get();
    }

    /**
     * Sends an answer whose body of {@code length} bytes is read from {@code body} a piece at
     * a time as the socket drains (never whole in memory), then closes {@code body}; later
     * calls are ignored (and close their body). Never blocks on the client: once the socket is
     * full, the selector thread goes on. The body is read by the calling thread until then, and
     * by the selector thread after: it must be quick to read (a local file).
     */
    void respondStreamed(int status, String contentType, long length, StreamedBody body) {
      if (!answered.compareAndSet(false, true)) {
        closeQuietly(body);
        return;
      }
      boolean close = !keepAlive;
      ByteBuffer head = encode(status, contentType, null, length, 0, close, true,
          connection.dateHeader());
      if (this.head) {
        closeQuietly(body);
        connection.send(this, head, close);
      } else {
        connection.sendStreamed(this, head, length, body, close);
      }
    }

    /**
     * Sends the answer; later calls are ignored. Never blocks: output the socket cannot take
     * at once is finished by the selector thread.
     *
     * @param leaderHint sent as {@code Detraft-Leader} unless 0
     */
    void respond(int status, String contentType, byte[] content, long leaderHint) {
      if (!answered.compareAndSet(false, true)) {
        return;
      }
      boolean close = !keepAlive;
      connection.send(this, encode(status, contentType, content,
          leaderHint != 0 ? leaderHint : defaultLeaderHint, close, head,
          connection.dateHeader()), close);
    }

    /** The {@code Detraft-Leader} of an answer that names none itself (0: none). */
    void defaultLeaderHint(long leader) {
      defaultLeaderHint = leader;
    }
  }

  /** A body read in pieces (see {@link Exchange#respondStreamed}). */
  interface StreamedBody extends AutoCloseable {
    /** Reads bytes into {@code target} (at least one if it has room), or -1 at the end. */
    int read(ByteBuffer target) throws IOException;

    @Override
    void close() throws IOException;
  }

  /** How much of a streamed body is read and written at a time. */
  private static final int STREAMED_PIECE_BYTES = 64 << 10;

  private static void closeQuietly(StreamedBody body) {
    try {
      body.close();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "closing a streamed body: " + e);
    }
  }

  private static final byte[] HTTP11 = ascii("HTTP/1.1 ");
  private static final byte[] CONTENT_TYPE = ascii("\r\nContent-Type: ");
  private static final byte[] CONTENT_LENGTH = ascii("\r\nContent-Length: ");
  private static final byte[] LEADER = ascii("\r\n" + Http.LEADER_HEADER + ": ");
  private static final byte[] CLOSE = ascii("\r\nConnection: close");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] OK_200 = ascii("200 OK");

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The whole answer (head and body) in one buffer. */
  static ByteBuffer encode(int status, String contentType, byte[] content, long leaderHint,
      boolean close, boolean head, byte[] date) {
    return encode(status, contentType, content, content.length, leaderHint, close, head, date);
  }

  /** The head, and the body unless {@code head}: {@code content} may be null only then. */
  private static ByteBuffer encode(int status, String contentType, byte[] content,
      long contentLength, long leaderHint, boolean close, boolean head, byte[] date) {
    byte[] reason = status == 200 ? OK_200 : ascii(status + " " + reason(status));
    byte[] type = contentType.getBytes(StandardCharsets.ISO_8859_1);
    byte[] length = ascii(Long.toString(contentLength));
    byte[] leader = leaderHint == 0 ? null : ascii(Long.toString(leaderHint));
    int size = HTTP11.length + reason.length + CONTENT_TYPE.length + type.length
        + CONTENT_LENGTH.length + length.length + CRLF.length + date.length + CRLF.length
        + (leader == null ? 0 : LEADER.length + leader.length) + (close ? CLOSE.length : 0)
        + (head ? 0 : content.length);
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(HTTP11).put(reason).put(CONTENT_TYPE).put(type).put(CONTENT_LENGTH).put(length);
    if (leader != null) {
      out.put(LEADER).put(leader);
    }
    if (close) {
      out.put(CLOSE);
    }
    out.put(CRLF).put(date).put(CRLF);
    if (!head) {
      out.put(content);
    }
    return out.flip();
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 202 -> "Accepted";
      case 204 -> "No Content";
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 413 -> "Content Too Large";
      case 414 -> "URI Too Long";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      case 505 -> "HTTP Version Not Supported";
      default -> "Status " + status;
    };
  }
}
