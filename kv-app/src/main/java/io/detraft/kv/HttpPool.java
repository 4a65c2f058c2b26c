package io.detraft.kv;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
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

  private final int timeoutMillis;
  private final int maxIdlePerAddress;
  private final Map<InetSocketAddress, ArrayDeque<Connection>> idle = new ConcurrentHashMap<>();
  private volatile boolean closed;

  HttpPool(Duration timeout, int maxIdlePerAddress) {
    this.timeoutMillis = (int) Math.max(1, timeout.toMillis());
    this.maxIdlePerAddress = maxIdlePerAddress;
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
    c = new Connection(address, timeoutMillis);
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

  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String host;
    boolean reusable;
    private boolean used;

    Connection(InetSocketAddress address, int timeoutMillis) throws IOException {
      socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(address, timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
      } catch (IOException e) {
        socket.close();
        throw e;
      }
      in = new BufferedInputStream(socket.getInputStream(), 8192);
      out = new BufferedOutputStream(socket.getOutputStream(), 8192);
      host = address.getHostString() + ":" + address.getPort();
    }

    Response exchange(String method, String target, Map<String, String> headers, byte[] body)
        throws IOException {
      boolean reused = used;
      used = true;
      StringBuilder head = new StringBuilder(128).append(method).append(' ').append(target)
          .append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      if (body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      String status;
      try {
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
          out.write(body);
        }
        out.flush();
        status = readLine(reused);
      } catch (java.net.SocketException e) {
        if (reused) {
          throw new StaleConnectionException(); // reset by a server that closed it while idle
        }
        throw e;
      }
      if (!status.startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP answer: " + status);
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      String contentType = "";
      long leader = 0;
      for (String line; !(line = readLine(false)).isEmpty(); ) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          chunked = value.equalsIgnoreCase("chunked");
        } else if (name.equalsIgnoreCase("Connection")) {
          close = value.equalsIgnoreCase("close");
        } else if (name.equalsIgnoreCase("Content-Type")) {
          contentType = value;
        } else if (name.equalsIgnoreCase("Detraft-Leader")) {
          leader = Long.parseLong(value);
        }
      }
      byte[] responseBody;
      if (chunked) {
        responseBody = readChunked();
      } else if (length >= 0) {
        if (length > MAX_BODY_BYTES) {
          throw new IOException("answer of " + length + " bytes");
        }
        responseBody = in.readNBytes((int) length);
        if (responseBody.length != length) {
          throw new EOFException("answer cut short");
        }
      } else if (code == 204 || code == 304 || method.equals("HEAD")) {
        responseBody = new byte[0];
      } else {
        responseBody = in.readAllBytes(); // delimited by close
        close = true;
      }
      reusable = !close;
      return new Response(code, contentType, leader, responseBody);
    }

    private byte[] readChunked() throws IOException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = readLine(false);
        int semicolon = sizeLine.indexOf(';');
        int size = Integer.parseInt(semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon),
            16);
        if (size == 0) {
          while (!readLine(false).isEmpty()) {
            // trailers
          }
          return body.toByteArray();
        }
        if (body.size() + size > MAX_BODY_BYTES) {
          throw new IOException("answer too large");
        }
        body.write(in.readNBytes(size));
        readLine(false);
      }
    }

    private String readLine(boolean firstOnReused) throws IOException {
      StringBuilder line = new StringBuilder(64);
      while (true) {
        int c = in.read();
        if (c < 0) {
          if (firstOnReused && line.length() == 0) {
            throw new StaleConnectionException();
          }
          throw new EOFException("connection closed mid-answer");
        }
        if (c == '\n') {
          int n = line.length();
          return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1)
              : line.toString();
        }
        line.append((char) c);
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // Closing is all we wanted.
      }
    }
  }
}
