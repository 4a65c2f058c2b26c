package io.detraft.io;

import io.detraft.core.Snapshot;
import io.detraft.core.SnapshotSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads the image of one snapshot file ({@link SnapshotFormat}) block by block, verifying each
 * block's checksum: in sequence (a {@link SnapshotSource} for a state machine's restore) or at
 * any offset (chunks a leader streams to a follower). One block is in memory at a time.
 *
 * <p>A block that fails verification is read again: it is damaged only if two reads in a row
 * agree (a bit flipped on its way from the disk is not damage at rest). As a {@link
 * SnapshotSource}, errors are thrown as {@link UncheckedIOException}s (a {@link
 * StorageCorruptionException} inside for damage).
 */
public final class SnapshotReader implements SnapshotSource, AutoCloseable {
  private final Disk.File file;
  private final Path name;
  private final SnapshotFormat.Layout layout;
  private final byte[] frame = new byte[SnapshotFormat.BLOCK_BYTES + 4];
  /** The block in {@link #frame}, -1 if none. */
  private long loadedBlock = -1;
  /** Sequential reads: the next image byte. */
  private long position;

  private SnapshotReader(Disk.File file, Path name, SnapshotFormat.Layout layout) {
    this.file = file;
    this.name = name;
    this.layout = layout;
  }

  /** Opens {@code name} and verifies its header and trailer (read twice if they fail). */
  static SnapshotReader open(Disk disk, Path name) throws IOException {
    Disk.File file = disk.open(name);
    try {
      SnapshotFormat.Layout layout;
      try {
        layout = SnapshotFormat.layout(file, name);
      } catch (StorageCorruptionException first) {
        layout = SnapshotFormat.layout(file, name); // damage at rest fails again
      }
      return new SnapshotReader(file, name, layout);
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /**
   * Reads the snapshot file that lies at {@code offset} in {@code file} (named {@code name}),
   * {@code length} bytes long (a disaster recovery export embeds one), after verifying its
   * header and trailer. The reader closes {@code file}. Offsets in its errors count from
   * {@code offset}.
   */
  public static SnapshotReader openEmbedded(Disk.File file, Path name, long offset,
      long length) throws IOException {
    Disk.File window = new Window(file, offset, length);
    try {
      return new SnapshotReader(window, name, SnapshotFormat.layout(window, name));
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** A read-only view of {@code length} bytes of a file from {@code offset}. */
  private record Window(Disk.File file, long offset, long length) implements Disk.File {
    @Override
    public void write(ByteBuffer source, long position) {
      throw new UnsupportedOperationException("an embedded snapshot is read-only");
    }

    @Override
    public int read(ByteBuffer target, long position) throws IOException {
      if (position >= length) {
        return -1;
      }
      int limit = target.limit();
      target.limit(target.position() + (int) Math.min(target.remaining(), length - position));
      try {
        return file.read(target, offset + position);
      } finally {
        target.limit(limit);
      }
    }

    @Override
    public long size() {
      return length;
    }

    @Override
    public void force() {
      throw new UnsupportedOperationException("an embedded snapshot is read-only");
    }

    @Override
    public void close() throws IOException {
      file.close();
    }
  }

  /** What the file's header and trailer say (image size included). */
  public Snapshot snapshot() {
    return layout.snapshot();
  }

  /** The group the file's header names. */
  public long group() {
    return layout.group();
  }

  @Override
  public long sizeBytes() {
    return layout.dataLength();
  }

  /**
   * Reads every block once, verifying it; the image is not kept.
   *
   * @throws StorageCorruptionException naming the offset of the first damaged block
   */
  public void verifyAll() throws IOException {
    for (long b = 0; b < layout.blocks(); b++) {
      load(b);
    }
  }

  /** Up to {@code maxBytes} of the image from {@code offset} (at least one if any remain). */
  byte[] chunk(long offset, int maxBytes) throws IOException {
    if (offset < 0 || offset > layout.dataLength() || maxBytes < 1) {
      throw new IllegalArgumentException("chunk at " + offset + " of " + maxBytes
          + " outside the image of " + layout.dataLength() + " bytes of " + name);
    }
    byte[] out = new byte[(int) Math.min(maxBytes, layout.dataLength() - offset)];
    int filled = 0;
    while (filled < out.length) {
      filled += copyFrom(offset + filled, out, filled, out.length - filled);
    }
    return out;
  }

  @Override
  public int read(byte[] target, int offset, int length) {
    if (length == 0) {
      return 0;
    }
    if (position == layout.dataLength()) {
      return -1;
    }
    try {
      int n = copyFrom(position, target, offset, length);
      position += n;
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("reading snapshot " + name, e);
    }
  }

  /** Copies image bytes from {@code at}, up to the end of their block; returns how many. */
  private int copyFrom(long at, byte[] target, int offset, int length) throws IOException {
    long block = at / SnapshotFormat.BLOCK_BYTES;
    load(block);
    int within = (int) (at % SnapshotFormat.BLOCK_BYTES);
    int n = Math.min(length, layout.blockLength(block) - within);
    System.arraycopy(frame, within, target, offset, n);
    return n;
  }

  private void load(long block) throws IOException {
    if (block == loadedBlock) {
      return;
    }
    loadedBlock = -1;
    int length = layout.blockLength(block);
    long start = layout.blockStart(block);
    byte[] previous = null;
    for (int read = 1; ; read++) {
      SnapshotFormat.readFully(file, name, ByteBuffer.wrap(frame, 0, length + 4), start);
      int stored = ByteBuffer.wrap(frame).getInt(length);
      if (stored == SnapshotFormat.blockCrc(block, frame, 0, length)) {
        loadedBlock = block;
        return;
      }
      byte[] now = Arrays.copyOf(frame, length + 4);
      if (previous != null && Arrays.equals(previous, now)) {
        throw new StorageCorruptionException(name, start, "snapshot block " + block
            + " checksum mismatch");
      }
      if (read == 3) {
        throw new IOException("reads of " + name + " at " + start
            + " keep returning different bytes");
      }
      previous = now;
    }
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
