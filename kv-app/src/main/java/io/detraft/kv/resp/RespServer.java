package io.detraft.kv.resp;

import io.detraft.kv.KvAccess;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.redis.FixedRedisMessagePool;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Redis-protocol (RESP2, and RESP3 after {@code HELLO 3}) front end of a node, on Netty:
 * its {@code RedisDecoder} and bulk-string aggregator read the protocol, {@link
 * CommandAggregator} makes commands of it, a {@link Connection} per client runs them through
 * {@link KvAccess}, and Netty's {@code RedisEncoder} (with {@link Resp3Encoder}) writes replies.
 */
public final class RespServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RespServer.class.getName());

  /**
   * @param authToken the password AUTH must give before any other command (null: none)
   * @param tls TLS for clients (null: plaintext)
   * @param maxBulkBytes the largest bulk string a client may send (a longer one is a protocol
   *     error that closes the connection before its bytes are read)
   * @param maxArguments the most arguments of one command
   * @param maxCommandBytes the most bytes of one command's arguments together
   */
  public record Options(byte[] authToken, SslContext tls, int maxBulkBytes, int maxArguments,
      long maxCommandBytes) {
    public static Options defaults() {
      return new Options(null, null, 1 << 20, 1 << 20, 16L << 20);
    }

    public Options withAuthToken(byte[] token) {
      return new Options(token, tls, maxBulkBytes, maxArguments, maxCommandBytes);
    }

    public Options withTls(SslContext context) {
      return new Options(authToken, context, maxBulkBytes, maxArguments, maxCommandBytes);
    }
  }

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel channel;

  private RespServer(KvAccess access, InetSocketAddress bind, Options options)
      throws InterruptedException {
    boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      channel = new ServerBootstrap().group(boss, workers)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ChannelPipeline p = ch.pipeline();
              if (options.tls() != null) {
                p.addLast(options.tls().newHandler(ch.alloc()));
              }
              p.addLast(new RedisDecoder(64 << 10, FixedRedisMessagePool.INSTANCE, true));
              p.addLast(new CommandAggregator.BulkLimit(options.maxBulkBytes()));
              p.addLast(new RedisBulkStringAggregator());
              p.addLast(new CommandAggregator(options.maxArguments(),
                  options.maxCommandBytes()));
              p.addLast(new RedisEncoder());
              p.addLast(new Resp3Encoder());
              p.addLast(new Connection(access, options.authToken(),
                  ((InetSocketAddress) ch.localAddress()).getPort()));
            }
          })
          .bind(bind).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutdown();
      throw e;
    }
    LOG.log(System.Logger.Level.INFO, "node " + access.nodeId() + " serves RESP on "
        + channel.localAddress() + (options.tls() != null ? " (TLS)" : ""));
  }

  /** Serves {@code access} on {@code bind} (port 0: any free port). */
  public static RespServer start(KvAccess access, InetSocketAddress bind, Options options) {
    try {
      return new RespServer(access, bind, options);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding " + bind);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot serve RESP on " + bind + ": " + e.getMessage(),
          e);
    }
  }

  public InetSocketAddress address() {
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
}
