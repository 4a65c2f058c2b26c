package io.detraft.io;

import io.detraft.core.Message;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * One accepted connection: handshake, then frames until it ends. Anything wrong with it — a
 * bad handshake, an oversized or undecodable frame, a message claiming another sender, a
 * stall in the middle of a frame — closes this connection and nothing else; the peer's sender
 * reconnects if it is a real peer.
 */
final class InboundConnection implements Runnable {
  private static final System.Logger LOG = System.getLogger(InboundConnection.class.getName());

  private final TcpTransport transport;
  private final Socket socket;
  /** The authenticated peer, 0 until the handshake succeeds. */
  private volatile long peer;
  private byte[] frame = new byte[64 * 1024];
  /**
   * When the read in progress gives up (System.nanoTime), or 0 while silence is fine. Reads
   * block in the system call itself, with no socket timeout: a timed read would make the JDK
   * poll before every read (three system calls instead of one per frame batch). The
   * transport's watchdog closes the socket instead ({@link #closeIfOverdue}).
   */
  private volatile long deadlineNanos;
  private volatile boolean timedOut;

  InboundConnection(TcpTransport transport, Socket socket) {
    this.transport = transport;
    this.socket = socket;
  }

  long peer() {
    return peer;
  }

  /** Called by the transport's watchdog: closes a connection whose read is overdue. */
  void closeIfOverdue(long nowNanos) {
    long deadline = deadlineNanos;
    if (deadline != 0 && nowNanos - deadline > 0) {
      timedOut = true;
      close();
    }
  }

  void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing is all we wanted.
    }
  }

  @Override
  public void run() {
    String remote = String.valueOf(socket.getRemoteSocketAddress());
    try {
      if (handshake(remote)) {
        readFrames(remote);
      }
    } catch (EOFException e) {
      LOG.log(System.Logger.Level.DEBUG, "connection from " + remote + " closed by peer");
    } catch (IOException e) {
      if (!socket.isClosed()) {
        LOG.log(System.Logger.Level.DEBUG, "connection from " + remote + " failed: " + e);
      }
    } finally {
      close();
      transport.connectionClosed(this);
    }
  }

  private boolean handshake(String remote) throws IOException {
    TcpTransport.Options options = transport.options();
    deadlineNanos = System.nanoTime() + options.handshakeTimeout().toNanos();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    Handshake.Hello hello;
    try {
      hello = Handshake.readHello(in);
    } catch (javax.net.ssl.SSLException e) {
      // No certificate, one the CA did not sign, or not TLS at all (plain text).
      refuse(remote, "TLS handshake failed: " + e.getMessage());
      return false;
    } catch (IOException e) {
      if (timedOut) {
        refuse(remote, "no handshake within " + options.handshakeTimeout().toMillis() + " ms");
        return false;
      }
      throw e;
    } finally {
      deadlineNanos = 0;
    }
    String refusal = Handshake.refusal(hello, options.clusterId(), options.nodeId());
    if (refusal == null) {
      refusal = PeerCertificate.mismatch(socket, hello.from()); // the link-takeover check
    }
    if (refusal != null) {
      refuse(remote, refusal); // first: the peer may be gone before it reads the answer
    }
    Handshake.writeAnswer(new DataOutputStream(socket.getOutputStream()), refusal);
    if (refusal != null) {
      return false;
    }
    peer = hello.from();
    transport.authenticated(this);
    return true;
  }

  private void readFrames(String remote) throws IOException {
    TcpTransport.Options options = transport.options();
    // A peer that stops in the middle of a frame is noticed (see readFully); between frames
    // silence is fine (an idle follower-to-follower link carries nothing).
    InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    byte[] lengthBytes = new byte[4];
    while (true) {
      readFully(in, lengthBytes, 4, true);
      int length = ((lengthBytes[0] & 0xff) << 24) | ((lengthBytes[1] & 0xff) << 16)
          | ((lengthBytes[2] & 0xff) << 8) | (lengthBytes[3] & 0xff);
      Message message;
      try {
        Frames.checkLength(length, options.maxFrameBytes());
        if (frame.length < length) {
          frame = new byte[Math.max(length, frame.length * 2)];
        }
        readFully(in, frame, length, false);
        message = Frames.decode(frame, 0, length, peer, options.nodeId());
      } catch (Frames.MalformedFrameException e) {
        malformed(remote, e.getMessage());
        return;
      }
      transport.deliver(message);
    }
  }

  /** Reads exactly {@code length} bytes; silence is tolerated only before the first one. */
  private void readFully(InputStream in, byte[] into, int length, boolean atFrameStart)
      throws IOException {
    int done = 0;
    long stallNanos = transport.options().stallTimeout().toNanos();
    while (done < length) {
      // Each read of a started frame must make progress within the stall timeout.
      deadlineNanos = atFrameStart && done == 0 ? 0 : System.nanoTime() + stallNanos;
      int n;
      try {
        n = in.read(into, done, length - done);
      } catch (IOException e) {
        if (!timedOut) {
          throw e;
        }
        malformed(String.valueOf(socket.getRemoteSocketAddress()), "stalled for "
            + transport.options().stallTimeout().toMillis() + " ms in the middle of a frame");
        throw new EOFException();
      }
      if (n < 0) {
        throw new EOFException();
      }
      done += n;
    }
  }

  private void refuse(String remote, String reason) {
    transport.countRefused();
    LOG.log(System.Logger.Level.WARNING, "refused connection from " + remote + ": " + reason);
  }

  private void malformed(String remote, String reason) {
    transport.countMalformed();
    LOG.log(System.Logger.Level.WARNING, "closing connection from node " + peer + " ("
        + remote + "): " + reason);
  }
}
