package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.detraft.core.Entry;
import io.detraft.core.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The frame format both worlds use: round trip, and every refusal a receiver must make. */
class FramesTest {
  private static final Message APPEND = new Message.AppendRequest(1, 2, 3, 7, 10, 6,
      List.of(Entry.normal(7, 11, new byte[] {1, 2, 3})), 9);

  @Test
  void aFrameDecodesToTheMessageItCarries() throws Exception {
    assertEquals(APPEND, Frames.decode(Frames.encode(APPEND), 2, 3));
  }

  /** A CRC32C catches every single-bit error; without it some would decode as other entries. */
  @Test
  void everySingleBitFlipInTheBodyOrChecksumIsRefused() {
    byte[] frame = Frames.encode(APPEND);
    for (int bit = 32; bit < frame.length * 8; bit++) {
      byte[] flipped = frame.clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThrows(Frames.MalformedFrameException.class, () -> Frames.decode(flipped, 2, 3),
          "bit " + bit);
    }
  }

  @Test
  void aMessageThatClaimsAnotherLinkOrAnImpossibleLengthIsRefused() {
    byte[] frame = Frames.encode(APPEND);
    var spoofed = assertThrows(Frames.MalformedFrameException.class,
        () -> Frames.decode(frame, 4, 3));
    assertEquals("message from 2 to 3 on the link from node 4 to node 3", spoofed.getMessage());
    assertThrows(Frames.MalformedFrameException.class, () -> Frames.checkLength(0, 1024));
    assertThrows(Frames.MalformedFrameException.class, () -> Frames.checkLength(4, 1024));
    assertThrows(Frames.MalformedFrameException.class, () -> Frames.checkLength(1025, 1024));
    assertThrows(Frames.MalformedFrameException.class,
        () -> Frames.checkLength(Integer.MIN_VALUE, 1024)); // a length of 2^31 and up
    assertThrows(Frames.MalformedFrameException.class,
        () -> Frames.decode(new byte[] {0, 0, 0, 1, 9}, 2, 3));
  }
}
