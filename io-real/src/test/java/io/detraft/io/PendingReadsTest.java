package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.ReadState;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PendingReadsTest {
  /**
   * A ReadState answering a read of an earlier incarnation of the node (a late or replayed
   * message, still in the same term) releases no read of this one: once both counted their
   * contexts from 0, and such an answer served a new read at an old index.
   */
  @Test
  void anAnswerToAnEarlierIncarnationsReadReleasesNothing() {
    PendingReads before = new PendingReads(0x1234_5678_9ABCL);
    byte[] old = before.register(new CompletableFuture<>(), Long.MAX_VALUE);
    PendingReads after = new PendingReads(0x7777_0000_1111L);
    CompletableFuture<Long> read = new CompletableFuture<>();
    byte[] current = after.register(read, Long.MAX_VALUE);
    assertFalse(after.confirm(new ReadState(3, old), 10));
    assertFalse(read.isDone());
    assertTrue(after.confirm(new ReadState(12, current), 10)); // waits for the apply
    after.applied(12);
    assertTrue(read.isDone());
  }
}
