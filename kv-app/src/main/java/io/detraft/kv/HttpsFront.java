package io.detraft.kv;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * HTTPS for the HTTP API: terminates TLS (Netty's {@code SslHandler}, optionally requiring a
 * client certificate) on the node's advertised HTTP address and relays the plaintext bytes to
 * the node's own {@link HttpServer}, which then listens on a loopback port only.
 *
 * <p>Why a relay rather than TLS inside {@link HttpServer}: that server is a hand-tuned
 * selector loop whose answers are written by whichever thread completes them; wrapping its
 * reads and writes in an {@code SSLEngine} would thread TLS state through every path of it.
 * The relay keeps the HTTP server as it is and puts the TLS in a well-kept library, at the
 * price of one loopback hop per request (measured in kv-app/README.md). Back-pressure: each
 * side reads only after the other side took the previous chunk ({@code AUTO_READ} off).
 */
final class HttpsFront implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpsFront.class.getName());

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel channel;

  private HttpsFront(InetSocketAddress bind, SslContext tls, InetSocketAddress target)
      throws InterruptedException {
    boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      channel = new ServerBootstrap().group(boss, workers)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.AUTO_READ, false)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()), new Inbound(target));
            }
          })
          .bind(bind).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutdown();
      throw e;
    }
  }

  /**
   * Serves HTTPS on {@code bind} (port 0: any free port), relaying to {@code target}.
   *
   * @throws IllegalStateException if {@code bind} cannot be bound
   */
  static HttpsFront start(InetSocketAddress bind, SslContext tls, InetSocketAddress target) {
    try {
      return new HttpsFront(bind, tls, target);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding " + bind);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot serve HTTPS on " + bind + ": " + e.getMessage(),
          e);
    }
  }

  InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    shutdown();
  }

  private void shutdown() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** A client's TLS connection: opens the plaintext one to the HTTP server, relays both ways. */
  private static final class Inbound extends ChannelInboundHandlerAdapter {
    private final InetSocketAddress target;
    private Channel outbound;

    Inbound(InetSocketAddress target) {
      this.target = target;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Channel inbound = ctx.channel();
      // Same event loop: both halves of a relay run on one thread, no locking.
      var connect = new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class)
          .option(ChannelOption.AUTO_READ, false)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new Outbound(inbound))
          .connect(target);
      outbound = connect.channel();
      connect.addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          inbound.read(); // also drives the TLS handshake
        } else {
          inbound.close();
        }
      });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (outbound.isActive()) {
        outbound.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            ctx.channel().read();
          } else {
            f.channel().close(); // the HTTP server's side; channelInactive closes this one
          }
        });
      } else {
        // The first read waits for the connection to the HTTP server (channelActive), so
        // this is one that closed: close this side too rather than drop bytes silently.
        io.netty.util.ReferenceCountUtil.release(msg);
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (outbound != null) {
        closeOnFlush(outbound);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Failed handshakes (plaintext, an unknown CA, no client certificate) end here.
      LOG.log(System.Logger.Level.DEBUG, "HTTPS connection from " + ctx.channel().remoteAddress()
          + " failed: " + cause);
      closeOnFlush(ctx.channel());
    }
  }

  /** The plaintext half: answers go back through the TLS connection. */
  private static final class Outbound extends ChannelInboundHandlerAdapter {
    private final Channel inbound;

    Outbound(Channel inbound) {
      this.inbound = inbound;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      inbound.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          ctx.channel().read();
        } else {
          f.channel().close();
        }
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(inbound);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }

  private static void closeOnFlush(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
