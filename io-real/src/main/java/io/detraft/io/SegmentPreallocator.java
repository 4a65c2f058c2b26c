package io.detraft.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Prepares the next WAL segment in the background: a zero-filled, synced file with a
 * temporary name. Zero-filling (rather than a sparse {@code setLength}) is what makes later
 * fsyncs cheap: the blocks are already allocated, so fdatasync writes only data. Doing it
 * ahead of need keeps that work off the Raft thread at rollover.
 */
final class SegmentPreallocator implements AutoCloseable {
  private final Path dir;
  private final long segmentBytes;
  private final ExecutorService executor;
  private CompletableFuture<Path> next;
  /** The file {@link #next} is writing. */
  private Path nextPath;
  private long counter;

  SegmentPreallocator(Path dir, long segmentBytes) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.executor = Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "detraft-wal-prealloc");
      thread.setDaemon(true);
      return thread;
    });
    prepareNext();
  }

  long bytes() {
    return segmentBytes;
  }

  /** A ready spare file (waits if it is still being written) and starts on the one after. */
  Path take() throws IOException {
    try {
      return next.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for a pre-allocated segment", e);
    } finally {
      prepareNext();
    }
  }

  private void prepareNext() {
    Path path = dir.resolve((counter++) + Disk.SPARE_SUFFIX);
    nextPath = path;
    next = CompletableFuture.supplyAsync(() -> {
      try {
        allocate(path, segmentBytes);
        return path;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, executor);
  }

  private static void allocate(Path path, long bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
      long pos = 0;
      while (pos < bytes) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - pos));
        pos += channel.write(zeros, pos);
        // Sync as we go: on ext4 (data=ordered) the WAL's fsync commits the journal, which
        // first writes out this file's dirty blocks; a small backlog keeps that wait short.
        channel.force(false);
      }
      channel.force(true);
    }
  }

  /** Stops the background thread and removes the unused spare. */
  @Override
  public void close() throws IOException {
    executor.shutdownNow(); // A zero-fill in progress is interrupted (FileChannel is).
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Files.deleteIfExists(nextPath);
  }
}
