package io.detraft.io;

import io.detraft.core.Codec;
import io.detraft.core.CodecException;
import io.detraft.core.Message;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * What a message is on the wire between nodes, in both worlds: {@link TcpTransport} writes and
 * reads these frames on real sockets, and the simulator passes every message through them
 * (and flips bits in some), so the checks here run in every simulated run.
 *
 * <pre>
 * frame = length:u32 body crc32c:u32     body = {@link Codec} encoding of one message
 * </pre>
 *
 * <p>{@code length} counts the body and the checksum. The checksum is the body's CRC32C: TCP's
 * 16-bit checksum lets some corrupted segments through, and a corrupted body can still decode
 * (into another message, another entry), so nothing is decoded before the checksum matches.
 */
public final class Frames {
  /** The length prefix and the checksum. */
  public static final int OVERHEAD_BYTES = 8;

  /** Why a frame was refused; the connection that carried it is closed. */
  public static final class MalformedFrameException extends Exception {
    MalformedFrameException(String reason) {
      super(reason, null, false, false);
    }
  }

  private Frames() {}

  /** The whole frame for {@code message}, length prefix included. */
  public static byte[] encode(Message message) {
    byte[] body = Codec.encode(message);
    ByteBuffer frame = ByteBuffer.allocate(OVERHEAD_BYTES + body.length);
    frame.putInt(body.length + 4).put(body);
    CRC32C crc = new CRC32C();
    crc.update(body);
    frame.putInt((int) crc.getValue());
    return frame.array();
  }

  /**
   * Checks a frame's length prefix before its bytes are read: at most {@code maxFrameBytes}
   * (a peer must not make us allocate what it likes), at least a checksum and a byte.
   */
  public static void checkLength(int length, int maxFrameBytes) throws MalformedFrameException {
    if (length <= 4 || length > maxFrameBytes) {
      throw new MalformedFrameException("frame length " + Integer.toUnsignedString(length)
          + " outside [5, " + maxFrameBytes + "]");
    }
  }

  /**
   * Decodes the {@code length} bytes after a frame's length prefix, sent on the link from
   * node {@code from} to node {@code to}.
   *
   * @throws MalformedFrameException if the checksum fails, the body does not decode, or the
   *     message claims another sender or receiver than the link's
   */
  public static Message decode(byte[] buffer, int offset, int length, long from, long to)
      throws MalformedFrameException {
    if (length <= 4) {
      throw new MalformedFrameException("frame of " + length + " bytes has no room for a body");
    }
    int bodyLength = length - 4;
    CRC32C crc = new CRC32C();
    crc.update(buffer, offset, bodyLength);
    if (ByteBuffer.wrap(buffer, offset + bodyLength, 4).getInt() != (int) crc.getValue()) {
      throw new MalformedFrameException("frame checksum mismatch (" + bodyLength
          + "-byte body)");
    }
    Message message;
    try {
      message = Codec.decode(buffer, offset, bodyLength);
    } catch (CodecException e) {
      throw new MalformedFrameException("undecodable frame: " + e.getMessage());
    }
    if (message.from() != from || message.to() != to) {
      throw new MalformedFrameException("message from " + message.from() + " to "
          + message.to() + " on the link from node " + from + " to node " + to);
    }
    return message;
  }

  /** Decodes a whole frame (length prefix included), as {@link #encode} made it. */
  public static Message decode(byte[] frame, long from, long to) throws MalformedFrameException {
    if (frame.length < OVERHEAD_BYTES) {
      throw new MalformedFrameException("frame of " + frame.length + " bytes is truncated");
    }
    int length = ByteBuffer.wrap(frame).getInt();
    if (length != frame.length - 4) {
      throw new MalformedFrameException("frame length " + Integer.toUnsignedString(length)
          + " disagrees with its " + (frame.length - 4) + " bytes");
    }
    return decode(frame, 4, length, from, to);
  }
}
