package io.detraft.kv.resp;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A reply, independent of the protocol version: {@link #write} turns it into Netty's RESP2
 * messages (encoded by its {@code RedisEncoder}), or, after {@code HELLO 3}, uses RESP3's map
 * and null where they differ ({@link Resp3Encoder}).
 */
sealed interface Reply {
  Reply OK = new Simple("OK");
  Reply QUEUED = new Simple("QUEUED");
  Reply NIL = new Nil(false);
  Reply NIL_ARRAY = new Nil(true);

  record Simple(String text) implements Reply {}

  /** {@code text} starts with the error code: "ERR ...", "WRONGTYPE ...". */
  record Error(String text) implements Reply {}

  record Int(long value) implements Reply {}

  record Bulk(byte[] bytes) implements Reply {}

  /** RESP2's null bulk string ({@code $-1}) or null array ({@code *-1}); RESP3's {@code _}. */
  record Nil(boolean array) implements Reply {}

  record Array(List<Reply> items) implements Reply {}

  /** A map in RESP3; a flat array of keys and values in RESP2. */
  record Map(List<Reply> keysAndValues) implements Reply {}

  static Reply error(String text) {
    return new Error(text);
  }

  static Reply bulk(String text) {
    return new Bulk(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code reply} (without flushing) as {@code protocol} (2 or 3) shapes it. */
  static void write(ChannelHandlerContext ctx, Reply reply, int protocol) {
    if (reply instanceof Simple s) {
      ctx.write(new SimpleStringRedisMessage(s.text()));
    } else if (reply instanceof Error e) {
      ctx.write(new ErrorRedisMessage(e.text().replace('\r', ' ').replace('\n', ' ')));
    } else if (reply instanceof Int i) {
      ctx.write(new IntegerRedisMessage(i.value()));
    } else if (reply instanceof Bulk b) {
      ctx.write(new FullBulkStringRedisMessage(Unpooled.wrappedBuffer(b.bytes())));
    } else if (reply instanceof Nil n) {
      ctx.write(protocol == 3 ? Resp3Encoder.Header.NULL : n.array()
          ? new ArrayHeaderRedisMessage(-1) : FullBulkStringRedisMessage.NULL_INSTANCE);
    } else if (reply instanceof Array a) {
      ctx.write(new ArrayHeaderRedisMessage(a.items().size()));
      a.items().forEach(item -> write(ctx, item, protocol));
    } else if (reply instanceof Map m) {
      int pairs = m.keysAndValues().size() / 2;
      ctx.write(protocol == 3 ? new Resp3Encoder.Header('%', pairs)
          : new ArrayHeaderRedisMessage(2L * pairs));
      m.keysAndValues().forEach(item -> write(ctx, item, protocol));
    }
  }
}
