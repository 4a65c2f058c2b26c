package io.detraft.io;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Streams one snapshot image into a new file of a {@link SnapshotStore} ({@link
 * SnapshotFormat}): the image goes to a temporary file block by block, and {@link #finish}
 * writes the trailer, fsyncs, renames the file to its final name and fsyncs the directory. Only
 * one block is ever in memory. A writer that is {@linkplain #close closed} unfinished deletes
 * its file; one lost to a crash leaves a temporary file that the store deletes when it opens.
 *
 * <p>As a {@link SnapshotSink}, a write error is thrown as an {@link UncheckedIOException}.
 * A save whose group is stopping gives up before its next block or its rename ({@link
 * #stoppedBy}), throwing {@link SnapshotAbandonedException}; closing it deletes the file.
 */
public final class SnapshotWriter implements SnapshotSink, AutoCloseable {
  private final SnapshotStore store;
  private final long group;
  private final long index;
  private final long term;
  private final Membership membership;
  private final Path temp;
  private final Path target;
  private final int headerCrc;
  private Disk.File file;
  /** The block being filled, with room for its checksum. */
  private final byte[] block = new byte[SnapshotFormat.BLOCK_BYTES + 4];
  private int blockFill;
  private long blocksWritten;
  private long position;
  private long dataBytes;
  /** Asked before each block and before the rename: true once the group is stopping. */
  private java.util.function.BooleanSupplier stopRequested = () -> false;

  SnapshotWriter(SnapshotStore store, Disk disk, long group, long index, long term,
      Membership membership, Path temp, Path target) throws IOException {
    this.store = store;
    this.group = group;
    this.index = index;
    this.term = term;
    this.membership = membership;
    this.temp = temp;
    this.target = target;
    disk.delete(temp); // a leftover of a crashed save would leave stale bytes past our end
    file = disk.open(temp);
    ByteBuffer header = SnapshotFormat.header(group, index, term, membership);
    headerCrc = header.getInt(header.limit() - 4);
    position = header.remaining();
    file.write(header, 0);
  }

  /** Gives up (see the class comment) once {@code stopRequested} says true. */
  SnapshotWriter stoppedBy(java.util.function.BooleanSupplier stopRequested) {
    this.stopRequested = stopRequested;
    return this;
  }

  private void giveUpIfStopping() {
    if (stopRequested.getAsBoolean()) {
      throw new SnapshotAbandonedException("snapshot of group " + group + " at " + index
          + " abandoned: the group is stopping");
    }
  }

  public long group() {
    return group;
  }

  public long index() {
    return index;
  }

  public long term() {
    return term;
  }

  /** Image bytes written so far. */
  public long sizeBytes() {
    return dataBytes;
  }

  @Override
  public void write(byte[] bytes, int offset, int length) {
    if (file == null) {
      throw new IllegalStateException("snapshot writer for " + target + " is closed");
    }
    try {
      while (length > 0) {
        int n = Math.min(length, SnapshotFormat.BLOCK_BYTES - blockFill);
        System.arraycopy(bytes, offset, block, blockFill, n);
        blockFill += n;
        dataBytes += n;
        offset += n;
        length -= n;
        if (blockFill == SnapshotFormat.BLOCK_BYTES) {
          flushBlock();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing snapshot " + temp, e);
    }
  }

  private void flushBlock() throws IOException {
    giveUpIfStopping();
    int crc = SnapshotFormat.blockCrc(blocksWritten, block, 0, blockFill);
    ByteBuffer frame = ByteBuffer.wrap(block, 0, blockFill + 4);
    frame.putInt(blockFill, crc);
    file.write(frame, position);
    position += blockFill + 4;
    blocksWritten++;
    blockFill = 0;
  }

  /**
   * Completes the file durably under its final name (replacing any file of the same snapshot)
   * and prunes the group's older snapshots. Returns the snapshot's metadata.
   */
  public Snapshot finish() throws IOException {
    if (file == null) {
      throw new IllegalStateException("snapshot writer for " + target + " is closed");
    }
    if (blockFill > 0) {
      flushBlock();
    }
    giveUpIfStopping();
    file.write(SnapshotFormat.trailer(headerCrc, dataBytes), position);
    file.force();
    file.close();
    file = null;
    store.commit(group, temp, target);
    return Snapshot.metadata(index, term, membership, dataBytes);
  }

  /** Abandons an unfinished file (deleting it); does nothing after {@link #finish}. */
  @Override
  public void close() throws IOException {
    if (file != null) {
      file.close();
      file = null;
      store.abandon(temp);
    }
  }
}
