package io.detraft.io;

import io.detraft.core.Message;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outbound half of the link to one peer: a bounded queue the Raft thread drops batches of
 * messages into (never waiting), and a thread that dials, handshakes and writes them as frames.
 * A round's messages for this peer, from every group, arrive as one batch: one hand-off and
 * one write for all of them, however many groups the node hosts.
 *
 * <p>When the queue is full, or the peer is unreachable, messages are dropped: Raft resends
 * what matters (heartbeats, append retries, new elections), and a stale backlog delivered
 * after a reconnect would only delay the fresh messages behind it. Everything available is
 * written before one flush, so a busy link costs one syscall per batch, not per message.
 */
final class PeerSender implements Runnable {
  private static final System.Logger LOG = System.getLogger(PeerSender.class.getName());
  private static final int CONNECT_TIMEOUT_MILLIS = 1000;

  private final TcpTransport transport;
  private final long peer;
  private final LinkedBlockingQueue<List<Message>> queue = new LinkedBlockingQueue<>();
  /** Messages in {@link #queue}, bounded by the transport's send queue capacity. */
  private final AtomicInteger queued = new AtomicInteger();
  private final Thread thread;
  private volatile InetSocketAddress address;
  private volatile boolean closed;

  /** Volatile so that {@link #close()} can shut it from another thread. */
  private volatile Socket socket;
  private DataOutputStream out;
  /** The address {@link #socket} is connected to. */
  private InetSocketAddress connectedTo;
  private long backoffMillis;
  private boolean loggedFailure;
  /** When the write in progress began (System.nanoTime), or 0: lets a watchdog spot a stall. */
  private volatile long writeStartedNanos;

  PeerSender(TcpTransport transport, long peer, InetSocketAddress address) {
    this.transport = transport;
    this.peer = peer;
    this.address = address;
    this.thread = new Thread(this, "detraft-send-" + transport.options().nodeId() + "-to-" + peer);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * Queues {@code batch} (in order, written together) without blocking; false if the queue
   * has no room for all of it (dropped whole).
   */
  boolean offer(List<Message> batch) {
    int capacity = transport.options().sendQueueCapacity();
    if (queued.addAndGet(batch.size()) > capacity) {
      queued.addAndGet(-batch.size());
      return false;
    }
    queue.add(batch);
    return true;
  }

  /** The next batch, waiting up to {@code millis} for one; null if none came. */
  private List<Message> poll(long millis) throws InterruptedException {
    List<Message> batch = queue.poll(millis, TimeUnit.MILLISECONDS);
    if (batch != null) {
      queued.addAndGet(-batch.size());
    }
    return batch;
  }

  InetSocketAddress address() {
    return address;
  }

  void setAddress(InetSocketAddress address) {
    this.address = address;
  }

  void close() {
    closed = true;
    thread.interrupt();
    closeQuietly(socket); // unblocks a write; the sender thread then sees closed
  }

  void join(long millis) throws InterruptedException {
    thread.join(millis);
  }

  @Override
  public void run() {
    while (!closed) {
      try {
        List<Message> first = poll(100);
        if (first == null) {
          continue;
        }
        if (socket == null || !address.equals(connectedTo)) {
          closeSocket();
          if (!connect()) {
            int stale = first.size(); // stale by the time we get through
            for (List<Message> b; (b = poll(0)) != null; ) {
              stale += b.size();
            }
            transport.countDropped(stale);
            sleepBackoff();
            continue;
          }
        }
        write(first);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.DEBUG, "link to node " + peer + " failed: " + e);
        }
        closeSocket();
      }
    }
  }

  /** Writes {@code first} and every batch queued behind it, then flushes once. */
  private void write(List<Message> first) throws IOException, InterruptedException {
    int maxFrame = transport.options().maxFrameBytes();
    int written = 0;
    writeStartedNanos = System.nanoTime() | 1; // never 0 while writing
    for (List<Message> batch = first; batch != null; batch = poll(0)) {
      for (Message m : batch) {
        byte[] frame = Frames.encode(m); // length prefix included
        if (frame.length - 4 > maxFrame) {
          // The receiver would close the connection over it; Raft will send smaller ones.
          LOG.log(System.Logger.Level.WARNING, "dropping a " + frame.length
              + "-byte message to node " + peer + ": over the " + maxFrame
              + "-byte frame limit");
          transport.countDropped(1);
          continue;
        }
        out.write(frame);
        written++;
      }
    }
    out.flush();
    writeStartedNanos = 0;
    transport.countSent(written);
  }

  /**
   * Called by the transport's watchdog: a write blocked longer than the stall timeout means
   * the peer stopped reading (or vanished without a reset); closing the socket frees this
   * thread to reconnect instead of waiting for TCP to give up, which takes many minutes.
   */
  void closeIfStalled(long nowNanos, long stallNanos) {
    long started = writeStartedNanos;
    Socket s = socket;
    if (started != 0 && nowNanos - started > stallNanos && s != null) {
      LOG.log(System.Logger.Level.WARNING, "link to node " + peer + " stalled in a write for "
          + (nowNanos - started) / 1_000_000 + " ms; reconnecting");
      writeStartedNanos = 0;
      closeQuietly(s);
    }
  }

  private boolean connect() throws InterruptedException {
    InetSocketAddress target = address;
    javax.net.ssl.SSLContext tls = transport.options().tls();
    Socket s = null;
    try {
      s = tls == null ? new Socket() : tls.getSocketFactory().createSocket();
      s.setTcpNoDelay(true); // we batch ourselves; Nagle would only add latency
      s.connect(target, CONNECT_TIMEOUT_MILLIS);
      s.setSoTimeout((int) transport.options().handshakeTimeout().toMillis());
      if (s instanceof javax.net.ssl.SSLSocket secure) {
        secure.startHandshake();
        String mismatch = PeerCertificate.mismatch(s, peer);
        if (mismatch != null) {
          LOG.log(System.Logger.Level.WARNING, "refusing node " + peer + " at " + target + ": "
              + mismatch);
          s.close();
          return false;
        }
      }
      DataOutputStream o = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(),
          64 * 1024));
      Handshake.writeHello(o, transport.options().clusterId(), transport.options().nodeId(),
          peer);
      String refusal = Handshake.readAnswer(new DataInputStream(s.getInputStream()));
      if (refusal != null) {
        LOG.log(System.Logger.Level.WARNING, "node " + peer + " at " + target
            + " refused the connection: " + refusal);
        s.close();
        return false;
      }
      s.setSoTimeout(0);
      socket = s;
      out = o;
      connectedTo = target;
      backoffMillis = 0;
      if (loggedFailure) {
        LOG.log(System.Logger.Level.INFO, "connected to node " + peer + " at " + target);
        loggedFailure = false;
      }
      return true;
    } catch (IOException e) {
      closeQuietly(s);
      if (!loggedFailure && !closed) {
        LOG.log(System.Logger.Level.INFO, "cannot reach node " + peer + " at " + target + " ("
            + e.getMessage() + "); retrying with backoff");
        loggedFailure = true;
      }
      return false;
    }
  }

  /** Exponential backoff with jitter, so restarted peers are not hit in lockstep. */
  private void sleepBackoff() throws InterruptedException {
    long min = transport.options().reconnectBackoffMin().toMillis();
    long max = transport.options().reconnectBackoffMax().toMillis();
    backoffMillis = backoffMillis == 0 ? min : Math.min(max, backoffMillis * 2);
    Thread.sleep(backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1));
  }

  private void closeSocket() {
    writeStartedNanos = 0;
    Socket s = socket;
    socket = null;
    out = null;
    connectedTo = null;
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // Nothing left to do with it.
      }
    }
  }
}
