package io.detraft.io;

import io.detraft.core.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The first bytes on every connection, dialer to listener, then the listener's answer.
 *
 * <pre>
 * hello  = magic:u32 protocolVersion:u16 codecVersion:u16 from:u64 to:u64 clusterId:str
 * answer = accepted:u8 (1 yes, 0 no) reason:str        str = length:u16 UTF-8 bytes
 * </pre>
 *
 * <p>After an accepted answer the dialer sends {@link Frames} and the
 * listener sends nothing more. Both versions must match exactly.
 *
 * <p>{@link TcpTransport} reads and writes these on sockets; the simulator's links open with
 * the same bytes and the same judgement, through the byte-array methods ({@link #hello},
 * {@link #judge}, {@link #answer}, {@link #answerRefusal}).
 */
public final class Handshake {
  static final int MAGIC = 0x44524654; // "DRFT"
  /** 2: frames carry a CRC32C of their body ({@link Frames}). */
  static final int PROTOCOL_VERSION = 2;
  /** Longest cluster id or reason accepted on the wire. */
  static final int MAX_STRING_BYTES = 1024;

  record Hello(int magic, int protocolVersion, int codecVersion, long from, long to,
      String clusterId) {}

  private Handshake() {}

  static void writeHello(DataOutputStream out, String clusterId, long from, long to)
      throws IOException {
    out.writeInt(MAGIC);
    out.writeShort(PROTOCOL_VERSION);
    out.writeShort(Codec.VERSION);
    out.writeLong(from);
    out.writeLong(to);
    writeString(out, clusterId);
    out.flush();
  }

  /** Reads a hello; a wrong magic is reported before reading further (it may be anything). */
  static Hello readHello(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      return new Hello(magic, 0, 0, 0, 0, "");
    }
    return new Hello(magic, in.readUnsignedShort(), in.readUnsignedShort(), in.readLong(),
        in.readLong(), readString(in));
  }

  /** The hello of node {@code from} dialing node {@code to}: the bytes {@link #writeHello} sends. */
  public static byte[] hello(String clusterId, long from, long to) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      writeHello(new DataOutputStream(bytes), clusterId, from, to);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * What the listener, node {@code self} of {@code clusterId}, makes of the bytes a dialer sent
   * first: null to accept, else the reason it refuses (a hello cut short included).
   */
  public static String judge(byte[] hello, String clusterId, long self) {
    try {
      return refusal(readHello(new DataInputStream(new ByteArrayInputStream(hello))), clusterId,
          self);
    } catch (EOFException e) {
      return "hello cut short after " + hello.length + " bytes";
    } catch (IOException e) {
      return "malformed hello: " + e.getMessage();
    }
  }

  /** The listener's answer: accepted when {@code refusal} is null. */
  public static byte[] answer(String refusal) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      writeAnswer(new DataOutputStream(bytes), refusal);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Null if {@code answer} accepts the connection, else the listener's reason. */
  public static String answerRefusal(byte[] answer) throws IOException {
    return readAnswer(new DataInputStream(new ByteArrayInputStream(answer)));
  }

  /** Null if {@code hello} may connect to node {@code self} of {@code clusterId}, else why not. */
  static String refusal(Hello hello, String clusterId, long self) {
    if (hello.magic() != MAGIC) {
      return String.format("not a detraft peer (magic 0x%08x)", hello.magic());
    }
    if (hello.protocolVersion() != PROTOCOL_VERSION || hello.codecVersion() != Codec.VERSION) {
      return "incompatible version: peer speaks protocol " + hello.protocolVersion()
          + "/codec " + hello.codecVersion() + ", this node " + PROTOCOL_VERSION + "/"
          + Codec.VERSION;
    }
    if (!hello.clusterId().equals(clusterId)) {
      return "peer is in cluster '" + hello.clusterId() + "', this node in '" + clusterId + "'";
    }
    if (hello.to() != self) {
      return "peer dialed node " + hello.to() + " but reached node " + self;
    }
    if (hello.from() <= 0 || hello.from() == self) {
      return "peer claims invalid node id " + hello.from();
    }
    return null;
  }

  static void writeAnswer(DataOutputStream out, String refusal) throws IOException {
    out.writeByte(refusal == null ? 1 : 0);
    writeString(out, refusal == null ? "" : refusal);
    out.flush();
  }

  /** Null if accepted, else the listener's reason. */
  static String readAnswer(DataInputStream in) throws IOException {
    int accepted = in.readUnsignedByte();
    String reason = readString(in);
    return accepted == 1 ? null : reason.isEmpty() ? "refused without a reason" : reason;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException("string too long for the handshake");
    }
    out.writeShort(bytes.length);
    out.write(bytes);
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readUnsignedShort();
    if (length > MAX_STRING_BYTES) {
      throw new IOException("handshake string of " + length + " bytes");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
