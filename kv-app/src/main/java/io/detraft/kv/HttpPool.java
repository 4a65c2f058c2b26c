package io.detraft.kv;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A small blocking HTTP/1.1 client with keep-alive connections pooled per address: what the
 * Java client, the benchmark and the server's forwarding use. It avoids the JDK's
 * {@code HttpClient}, whose asynchronous machinery costs several times more CPU per request
 * on the two-core machines the benchmarks run on.
 */
final class HttpPool implements AutoCloseable {
  /** An answer; {@code leader} is the {@code Detraft-Leader} header (0 if absent). */
  record Response(int status, String contentType, long leader, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private static final int MAX_BODY_BYTES = 64 << 20;
  private static final byte[] HTTP1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT_LENGTH = lower("Content-Length");
  private static final byte[] TRANSFER_ENCODING = lower("Transfer-Encoding");
  private static final byte[] CONNECTION = lower("Connection");
  private static final byte[] CONTENT_TYPE = lower("Content-Type");
  private static final byte[] LEADER = lower(Http.LEADER_HEADER);

  private static byte[] lower(String s) {
    return s.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
  }

  private final int timeoutMillis;
  private final int maxIdlePerAddress;
  private final javax.net.ssl.SSLContext tls;
  private final Map<InetSocketAddress, ArrayDeque<Connection>> idle = new ConcurrentHashMap<>();
  private volatile boolean closed;

  HttpPool(Duration timeout, int maxIdlePerAddress) {
    this(timeout, maxIdlePerAddress, null);
  }

  /** With {@code tls} non-null, every connection is HTTPS with that context (see {@link Tls}). */
  HttpPool(Duration timeout, int maxIdlePerAddress, javax.net.ssl.SSLContext tls) {
    this.timeoutMillis = (int) Math.max(1, timeout.toMillis());
    this.maxIdlePerAddress = maxIdlePerAddress;
    this.tls = tls;
  }

  /**
   * Sends one request and reads the answer. A pooled connection the server closed while idle
   * is retried once on a new connection (nothing was read, so the server never saw it).
   */
  Response send(InetSocketAddress address, String method, String target,
      Map<String, String> headers, byte[] body) throws IOException {
    Connection c = take(address);
    if (c != null) {
      try {
        return finish(address, c, c.exchange(method, target, headers, body));
      } catch (StaleConnectionException e) {
        c.close();
      } catch (IOException e) {
        c.close();
        throw e;
      }
    }
    c = new Connection(address, timeoutMillis, tls);
    try {
      return finish(address, c, c.exchange(method, target, headers, body));
    } catch (IOException e) {
      c.close();
      throw e;
    }
  }

  private Response finish(InetSocketAddress address, Connection c, Response r) {
    if (c.reusable && !closed) {
      ArrayDeque<Connection> q = idle.computeIfAbsent(address, a -> new ArrayDeque<>());
      synchronized (q) {
        if (q.size() < maxIdlePerAddress) {
          q.push(c);
          return r;
        }
      }
    }
    c.close();
    return r;
  }

  private Connection take(InetSocketAddress address) {
    ArrayDeque<Connection> q = idle.get(address);
    if (q == null) {
      return null;
    }
    synchronized (q) {
      return q.poll();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (ArrayDeque<Connection> q : idle.values()) {
      synchronized (q) {
        q.forEach(Connection::close);
        q.clear();
      }
    }
  }

  /** The server closed a kept-alive connection before answering anything. */
  private static final class StaleConnectionException extends IOException {
    StaleConnectionException() {
      super("connection closed by the server", null);
    }
  }

  /**
   * Closes connections whose exchange ran past its deadline. Reads and writes block in the
   * system call itself (a socket timeout would make the JDK poll before every read: three
   * system calls instead of one per answer); closing the channel wakes a blocked one.
   */
  private static final class Watchdog {
    /** Connections with an exchange (or a connect) in progress. */
    static final java.util.Set<Connection> BUSY = ConcurrentHashMap.newKeySet();
    private static volatile Thread thread;

    static void watch(Connection c) {
      BUSY.add(c);
      if (thread == null) {
        start();
      }
    }

    static void unwatch(Connection c) {
      BUSY.remove(c);
    }

    private static synchronized void start() {
      if (thread == null) {
        thread = new Thread(Watchdog::run, "detraft-http-client-watchdog");
        thread.setDaemon(true);
        thread.start();
      }
    }

    private static void run() {
      while (true) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        for (Connection c : BUSY) {
          c.closeIfOverdue(now);
        }
      }
    }
  }

  private static final class Connection {
    private final java.nio.channels.ByteChannel channel;
    private final String host;
    private final long timeoutNanos;
    /** Received bytes not yet consumed: {@code in[pos, limit)}. */
    private byte[] in = new byte[8192];
    private int pos;
    private int limit;
    /** Where the line {@link #nextLine} returned starts. */
    private int lineStart;
    /** The request being sent: {@code out[0, requestLength)}. */
    private byte[] out = new byte[512];
    private int requestLength;
    /** When the exchange in progress times out (System.nanoTime), or 0 when idle. */
    private volatile long deadline;
    private volatile boolean timedOut;
    boolean reusable;
    private boolean used;

    Connection(InetSocketAddress address, int timeoutMillis, javax.net.ssl.SSLContext tls)
        throws IOException {
      timeoutNanos = timeoutMillis * 1_000_000L;
      Tls secure = tls == null ? null : new Tls(tls);
      channel = secure != null ? secure : SocketChannel.open();
      Watchdog.watch(this);
      deadline = System.nanoTime() + timeoutNanos;
      try {
        if (secure != null) {
          secure.connect(address, timeoutMillis);
        } else {
          ((SocketChannel) channel).setOption(StandardSocketOptions.TCP_NODELAY, true);
          ((SocketChannel) channel).connect(address);
        }
      } catch (IOException e) {
        close();
        throw timedOut ? new java.net.SocketTimeoutException("connect timed out") : e;
      } finally {
        deadline = 0;
        Watchdog.unwatch(this);
      }
      host = address.getHostString() + ":" + address.getPort();
    }

    void closeIfOverdue(long now) {
      long d = deadline;
      if (d != 0 && now - d > 0) {
        timedOut = true;
        close();
      }
    }

    Response exchange(String method, String target, Map<String, String> headers, byte[] body)
        throws IOException {
      boolean reused = used;
      used = true;
      deadline = System.nanoTime() + timeoutNanos;
      Watchdog.watch(this);
      try {
        return exchange(method, target, headers, body, reused);
      } catch (IOException e) {
        if (timedOut) {
          throw new java.net.SocketTimeoutException("no answer within "
              + timeoutNanos / 1_000_000 + " ms");
        }
        throw e;
      } finally {
        deadline = 0;
        Watchdog.unwatch(this);
      }
    }

    private Response exchange(String method, String target, Map<String, String> headers,
        byte[] body, boolean reused) throws IOException {
      byte[] request = request(method, target, headers, body);
      int statusEnd;
      try {
        ByteBuffer out = ByteBuffer.wrap(request, 0, requestLength);
        while (out.hasRemaining()) {
          channel.write(out);
        }
        statusEnd = nextLine(reused);
      } catch (StaleConnectionException e) {
        throw e;
      } catch (IOException e) {
        if (reused && !timedOut && pos == limit) {
          // Reset before a byte of an answer: a server that closed it while idle.
          throw new StaleConnectionException();
        }
        throw e;
      }
      // "HTTP/1.x NNN ..."
      if (statusEnd - lineStart < 12 || !startsWith(lineStart, HTTP1)) {
        throw new IOException("not an HTTP answer: " + new String(in, lineStart,
            statusEnd - lineStart, StandardCharsets.ISO_8859_1));
      }
      boolean close = in[lineStart + 7] == '0';
      int code = digits(lineStart + 9, lineStart + 12);
      if (code < 0) {
        throw new IOException("bad status line");
      }
      long length = -1;
      boolean chunked = false;
      String contentType = "";
      long leader = 0;
      for (int end; (end = nextLine(false)) > lineStart; ) {
        int colon = lineStart;
        while (colon < end && in[colon] != ':') {
          colon++;
        }
        if (colon == end) {
          continue;
        }
        int v = colon + 1;
        while (v < end && (in[v] == ' ' || in[v] == '\t')) {
          v++;
        }
        int ve = end;
        while (ve > v && (in[ve - 1] == ' ' || in[ve - 1] == '\t')) {
          ve--;
        }
        int nameLength = colon - lineStart;
        if (is(CONTENT_LENGTH, nameLength)) {
          length = digits(v, ve);
          if (length < 0) {
            throw new IOException("bad Content-Length");
          }
        } else if (is(TRANSFER_ENCODING, nameLength)) {
          chunked = equalsIgnoreCase(v, ve, "chunked");
        } else if (is(CONNECTION, nameLength)) {
          close = equalsIgnoreCase(v, ve, "close");
        } else if (is(CONTENT_TYPE, nameLength)) {
          contentType = new String(in, v, ve - v, StandardCharsets.ISO_8859_1);
        } else if (is(LEADER, nameLength)) {
          leader = Math.max(0, digits(v, ve));
        }
      }
      byte[] responseBody;
      if (code == 204 || code == 304 || method.equals("HEAD")) {
        responseBody = new byte[0];
      } else if (chunked) {
        responseBody = readChunked();
      } else if (length >= 0) {
        if (length > MAX_BODY_BYTES) {
          throw new IOException("answer of " + length + " bytes");
        }
        responseBody = readBytes((int) length);
      } else {
        responseBody = readToEnd(); // delimited by close
        close = true;
      }
      reusable = !close && pos == limit; // leftover bytes would be a confused server
      return new Response(code, contentType, leader, responseBody);
    }

    /** The request, head and body, in {@link #out}{@code [0, requestLength)}. */
    private byte[] request(String method, String target, Map<String, String> headers,
        byte[] body) {
      requestLength = 0;
      ascii(method).ascii(" ").ascii(target).ascii(" HTTP/1.1\r\nHost: ").ascii(host)
          .ascii("\r\n");
      headers.forEach((k, v) -> ascii(k).ascii(": ").ascii(v).ascii("\r\n"));
      if (body != null) {
        ascii("Content-Length: ").ascii(Integer.toString(body.length)).ascii("\r\n");
      }
      ascii("\r\n");
      if (body != null) {
        room(body.length);
        System.arraycopy(body, 0, out, requestLength, body.length);
        requestLength += body.length;
      }
      return out;
    }

    /** Appends {@code s} (ASCII by construction: paths are percent-encoded). */
    private Connection ascii(String s) {
      int n = s.length();
      room(n);
      for (int i = 0; i < n; i++) {
        out[requestLength + i] = (byte) s.charAt(i);
      }
      requestLength += n;
      return this;
    }

    private void room(int n) {
      if (out.length - requestLength < n) {
        out = Arrays.copyOf(out, Math.max(out.length * 2, requestLength + n));
      }
    }

    /**
     * Makes the next line available as {@code in[lineStart, returned)} (without its line
     * break) and consumes it.
     */
    private int nextLine(boolean firstOnReused) throws IOException {
      int from = pos;
      while (true) {
        for (int i = from; i < limit; i++) {
          if (in[i] == '\n') {
            lineStart = pos;
            pos = i + 1;
            return i > lineStart && in[i - 1] == '\r' ? i - 1 : i;
          }
        }
        from = limit - pos; // relative: fill() may move the bytes
        boolean more = fill();
        from += pos;
        if (!more) {
          if (firstOnReused && limit == pos) {
            throw new StaleConnectionException();
          }
          throw new EOFException("connection closed mid-answer");
        }
        if (limit - pos > 64 << 10) {
          throw new IOException("answer head too long");
        }
      }
    }

    private String readLine(boolean firstOnReused) throws IOException {
      int end = nextLine(firstOnReused);
      return new String(in, lineStart, end - lineStart, StandardCharsets.ISO_8859_1);
    }

    private boolean startsWith(int at, byte[] prefix) {
      for (int i = 0; i < prefix.length; i++) {
        if (in[at + i] != prefix[i]) {
          return false;
        }
      }
      return true;
    }

    /** Whether the current line's header name (of {@code length} bytes) is {@code lower}. */
    private boolean is(byte[] lower, int length) {
      if (length != lower.length) {
        return false;
      }
      for (int i = 0; i < length; i++) {
        int c = in[lineStart + i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lower[i]) {
          return false;
        }
      }
      return true;
    }

    private boolean equalsIgnoreCase(int from, int to, String lower) {
      if (to - from != lower.length()) {
        return false;
      }
      for (int i = from; i < to; i++) {
        int c = in[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lower.charAt(i - from)) {
          return false;
        }
      }
      return true;
    }

    /** The decimal number in {@code in[from, to)}, or -1 if it is not one. */
    private long digitsLong(int from, int to) {
      if (from >= to || to - from > 18) {
        return -1;
      }
      long n = 0;
      for (int i = from; i < to; i++) {
        int d = in[i] - '0';
        if (d < 0 || d > 9) {
          return -1;
        }
        n = n * 10 + d;
      }
      return n;
    }

    private int digits(int from, int to) {
      return (int) Math.min(Integer.MAX_VALUE, digitsLong(from, to));
    }

    /** Reads more into {@link #in}; false at the end of the stream. */
    private boolean fill() throws IOException {
      if (pos == limit) {
        pos = 0;
        limit = 0;
      } else if (limit == in.length) {
        if (pos > 0) {
          System.arraycopy(in, pos, in, 0, limit - pos);
          limit -= pos;
          pos = 0;
        } else {
          in = Arrays.copyOf(in, in.length * 2);
        }
      }
      int n = channel.read(ByteBuffer.wrap(in, limit, in.length - limit));
      if (n < 0) {
        return false;
      }
      limit += n;
      return true;
    }

    private byte[] readBytes(int n) throws IOException {
      byte[] out = new byte[n];
      int have = Math.min(n, limit - pos);
      System.arraycopy(in, pos, out, 0, have);
      pos += have;
      ByteBuffer rest = ByteBuffer.wrap(out, have, n - have);
      while (rest.hasRemaining()) {
        if (channel.read(rest) < 0) {
          throw new EOFException("answer cut short");
        }
      }
      return out;
    }

    private byte[] readToEnd() throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      do {
        out.write(in, pos, limit - pos);
        pos = limit;
        if (out.size() > MAX_BODY_BYTES) {
          throw new IOException("answer too large");
        }
      } while (fill());
      return out.toByteArray();
    }

    private byte[] readChunked() throws IOException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = readLine(false);
        int semicolon = sizeLine.indexOf(';');
        int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0,
            semicolon)).trim(), 16);
        if (size == 0) {
          while (!readLine(false).isEmpty()) {
            // trailers
          }
          return body.toByteArray();
        }
        if (body.size() + size > MAX_BODY_BYTES) {
          throw new IOException("answer too large");
        }
        body.write(readBytes(size));
        readLine(false);
      }
    }

    void close() {
      Watchdog.unwatch(this);
      try {
        channel.close();
      } catch (IOException e) {
        // Closing is all we wanted.
      }
    }
  }

  /**
   * An HTTPS connection as a channel: a blocking {@code SSLSocket} that checks the server's
   * certificate against the host name or address it was reached by (as curl does), so a
   * certificate of another host, or of a CA the context does not trust, fails the handshake.
   */
  private static final class Tls implements java.nio.channels.ByteChannel {
    private final javax.net.ssl.SSLContext context;
    private final java.net.Socket plain = new java.net.Socket();
    private volatile javax.net.ssl.SSLSocket socket;
    private java.io.InputStream in;
    private java.io.OutputStream out;

    Tls(javax.net.ssl.SSLContext context) {
      this.context = context;
    }

    void connect(InetSocketAddress address, int timeoutMillis) throws IOException {
      plain.setTcpNoDelay(true);
      plain.connect(address, timeoutMillis);
      javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
          .createSocket(plain, address.getHostString(), address.getPort(), true);
      javax.net.ssl.SSLParameters parameters = s.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(parameters);
      socket = s;
      s.startHandshake();
      in = s.getInputStream();
      out = s.getOutputStream();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
      if (n > 0) {
        dst.position(dst.position() + n);
      }
      return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      out.write(src.array(), src.arrayOffset() + src.position(), n);
      out.flush();
      src.position(src.limit());
      return n;
    }

    @Override
    public boolean isOpen() {
      return !plain.isClosed();
    }

    @Override
    public void close() throws IOException {
      // Closing the TCP socket (not the TLS one, which would first try to send close_notify)
      // also wakes a thread blocked in a read, as the watchdog needs.
      plain.close();
    }
  }
}
