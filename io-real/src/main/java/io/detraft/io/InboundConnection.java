package io.detraft.io;

import io.detraft.core.Codec;
import io.detraft.core.CodecException;
import io.detraft.core.Message;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

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

  InboundConnection(TcpTransport transport, Socket socket) {
    this.transport = transport;
    this.socket = socket;
  }

  long peer() {
    return peer;
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
    socket.setSoTimeout((int) options.handshakeTimeout().toMillis());
    DataInputStream in = new DataInputStream(socket.getInputStream());
    Handshake.Hello hello;
    try {
      hello = Handshake.readHello(in);
    } catch (SocketTimeoutException e) {
      refuse(remote, "no handshake within " + options.handshakeTimeout().toMillis() + " ms");
      return false;
    }
    String refusal = Handshake.refusal(hello, options.clusterId(), options.nodeId());
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
    // Reads time out so a peer that stops in the middle of a frame is noticed; between frames
    // silence is fine (an idle follower-to-follower link carries nothing).
    socket.setSoTimeout((int) options.stallTimeout().toMillis());
    InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    byte[] lengthBytes = new byte[4];
    while (true) {
      readFully(in, lengthBytes, 4, true);
      int length = ((lengthBytes[0] & 0xff) << 24) | ((lengthBytes[1] & 0xff) << 16)
          | ((lengthBytes[2] & 0xff) << 8) | (lengthBytes[3] & 0xff);
      if (length <= 0 || length > options.maxFrameBytes()) {
        malformed(remote, "frame length " + Integer.toUnsignedString(length) + " outside [1, "
            + options.maxFrameBytes() + "]");
        return;
      }
      if (frame.length < length) {
        frame = new byte[Math.max(length, frame.length * 2)];
      }
      readFully(in, frame, length, false);
      Message message;
      try {
        message = Codec.decode(frame, 0, length);
      } catch (CodecException e) {
        malformed(remote, "undecodable frame: " + e.getMessage());
        return;
      }
      if (message.from() != peer || message.to() != options.nodeId()) {
        malformed(remote, "message from " + message.from() + " to " + message.to()
            + " on the link from node " + peer);
        return;
      }
      transport.deliver(message);
    }
  }

  /** Reads exactly {@code length} bytes; silence is tolerated only before the first one. */
  private void readFully(InputStream in, byte[] into, int length, boolean atFrameStart)
      throws IOException {
    int done = 0;
    while (done < length) {
      int n;
      try {
        n = in.read(into, done, length - done);
      } catch (SocketTimeoutException e) {
        if (atFrameStart && done == 0) {
          continue;
        }
        malformed(socket.getRemoteSocketAddress().toString(), "stalled for "
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
