package io.detraft.kv.resp;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns what Netty's {@code RedisDecoder} (and its bulk-string aggregator) read into commands:
 * a {@code List<byte[]>} per array of bulk strings, or per inline command line. Anything else
 * a client may send is a protocol error ({@link ProtocolException}: the connection answers it
 * and closes), and so is a command over the limits, checked before its bytes are held.
 */
final class CommandAggregator extends MessageToMessageDecoder<RedisMessage> {
  /** A client broke the protocol; the text is the error reply, as Redis words it. */
  static final class ProtocolException extends RuntimeException {
    ProtocolException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Refuses a bulk string longer than {@code maxBulkBytes} at its header, before any of its
   * bytes are held (Netty's aggregator would take up to 512 MB).
   */
  static final class BulkLimit extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final int maxBulkBytes;

    BulkLimit(int maxBulkBytes) {
      this.maxBulkBytes = maxBulkBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      if (message instanceof io.netty.handler.codec.redis.BulkStringHeaderRedisMessage header
          && header.bulkStringLength() > maxBulkBytes) {
        throw new ProtocolException("ERR Protocol error: invalid bulk length");
      }
      ctx.fireChannelRead(message);
    }
  }

  private final int maxArguments;
  private final long maxCommandBytes;
  /** The command being collected, or null between commands. */
  private List<byte[]> arguments;
  private long expected;
  private long bytes;

  CommandAggregator(int maxArguments, long maxCommandBytes) {
    super(RedisMessage.class);
    this.maxArguments = maxArguments;
    this.maxCommandBytes = maxCommandBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, RedisMessage message, List<Object> out) {
    if (message instanceof InlineCommandRedisMessage inline) {
      if (arguments != null) {
        throw new ProtocolException("ERR Protocol error: expected '$', got an inline command");
      }
      List<byte[]> words = new ArrayList<>();
      for (String word : inline.content().trim().split("\\s+")) {
        if (!word.isEmpty()) {
          words.add(word.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!words.isEmpty()) {
        out.add(words);
      }
    } else if (message instanceof ArrayHeaderRedisMessage header) {
      if (arguments != null) {
        throw new ProtocolException("ERR Protocol error: expected '$', got '*'");
      }
      if (header.isNull() || header.length() == 0) {
        return; // Redis ignores an empty multi-bulk
      }
      if (header.length() > maxArguments) {
        throw new ProtocolException("ERR Protocol error: invalid multibulk length");
      }
      expected = header.length();
      bytes = 0;
      arguments = new ArrayList<>((int) Math.min(expected, 16));
    } else if (message instanceof FullBulkStringRedisMessage bulk) {
      if (arguments == null) {
        throw new ProtocolException("ERR Protocol error: expected '*', got '$'");
      }
      if (bulk.isNull()) {
        throw new ProtocolException("ERR Protocol error: invalid bulk length");
      }
      bytes += bulk.content().readableBytes();
      if (bytes > maxCommandBytes) {
        throw new ProtocolException("ERR Protocol error: the command exceeds "
            + maxCommandBytes + " bytes");
      }
      arguments.add(ByteBufUtil.getBytes(bulk.content()));
      if (arguments.size() == expected) {
        out.add(arguments);
        arguments = null;
      }
    } else {
      throw new ProtocolException("ERR Protocol error: expected '*' or an inline command, got "
          + message.getClass().getSimpleName());
    }
  }
}
