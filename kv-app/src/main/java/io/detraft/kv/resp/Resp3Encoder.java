package io.detraft.kv.resp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import java.nio.charset.StandardCharsets;

/**
 * The two RESP3 shapes this server sends that Netty's RESP2 codec lacks: a map header
 * ({@code %N}, its 2N children follow as ordinary messages, as an array's do after Netty's
 * {@code ArrayHeaderRedisMessage}) and null ({@code _}). Every other message passes on to
 * Netty's {@code RedisEncoder}.
 */
final class Resp3Encoder extends MessageToByteEncoder<Resp3Encoder.Header> {
  /** {@code type} and a count ({@code %}), or RESP3 null ({@code _}, no count). */
  record Header(char type, long count) implements RedisMessage {
    static final Header NULL = new Header('_', -1);
  }

  Resp3Encoder() {
    super(Header.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Header header, ByteBuf out) {
    String line = header.type() == '_' ? "_\r\n" : header.type() + Long.toString(header.count())
        + "\r\n";
    out.writeCharSequence(line, StandardCharsets.US_ASCII);
  }
}
