package io.detraft.core;

/**
 * Bytes that are not a valid encoding: wrong version, unknown type, truncated, trailing
 * garbage, a length beyond the input, or a value no record may hold. The only exception
 * {@link Codec}'s decoders throw, whatever the input, so a transport can treat it as "drop
 * this frame (and perhaps the connection)" without catching anything broader.
 */
public final class CodecException extends RuntimeException {
  /** Offset from the start of the encoding at which the problem was found. */
  private final int offset;

  CodecException(int offset, String format, Object... args) {
    super(String.format(format, args) + " (at byte offset " + offset + ")");
    this.offset = offset;
  }

  /** The offset, from the start of the encoding, at which decoding failed. */
  public int offset() {
    return offset;
  }
}
