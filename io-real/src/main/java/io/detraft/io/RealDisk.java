package io.detraft.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * The operating system's file system behind {@link Disk}: FileChannel, fdatasync, directory
 * fsync, an advisory lock, and a background thread per directory that pre-allocates the next
 * spare file ({@link SegmentPreallocator}). Thin on purpose: every decision about what to
 * write, when to force and how to recover lives in the node layer, which the simulator runs.
 * Close it to stop the pre-allocation threads and remove their unused spares.
 */
public final class RealDisk implements Disk, AutoCloseable {
  /**
   * Upper bounds, in seconds, of the buckets {@link #syncs} sorts fsyncs into: 100 µs doubling
   * up to 6.6 s (etcd's wal_fsync_duration_seconds starts at 1 ms; SSDs sync in less).
   */
  public static final double[] SYNC_BUCKETS = new double[17];

  static {
    for (int i = 0; i < SYNC_BUCKETS.length; i++) {
      SYNC_BUCKETS[i] = 0.0001 * (1 << i);
    }
  }

  private final Map<Path, SegmentPreallocator> preallocators = new HashMap<>();
  /** fsyncs by bucket (the last: slower than every bound), and their total time. */
  private final LongAdder[] syncsIn = new LongAdder[SYNC_BUCKETS.length + 1];
  private final LongAdder syncNanos = new LongAdder();

  public RealDisk() {
    for (int i = 0; i < syncsIn.length; i++) {
      syncsIn[i] = new LongAdder();
    }
  }

  /**
   * The fsyncs of files and directories so far: how many, their total time, and for each of
   * {@link #SYNC_BUCKETS} how many took at most that long (cumulative, as Prometheus counts).
   */
  public record Syncs(long count, double seconds, long[] atMost) {}

  public Syncs syncs() {
    long[] atMost = new long[SYNC_BUCKETS.length];
    long count = 0;
    for (int i = 0; i < syncsIn.length; i++) {
      count += syncsIn[i].sum();
      if (i < atMost.length) {
        atMost[i] = count;
      }
    }
    return new Syncs(count, syncNanos.sum() / 1e9, atMost);
  }

  private void timed(FileChannel channel, boolean metadata) throws IOException {
    long start = System.nanoTime();
    channel.force(metadata);
    long nanos = System.nanoTime() - start;
    syncNanos.add(nanos);
    int bucket = 0;
    while (bucket < SYNC_BUCKETS.length && nanos > SYNC_BUCKETS[bucket] * 1e9) {
      bucket++;
    }
    syncsIn[bucket].increment();
  }

  @Override
  public File open(Path file) throws IOException {
    return file(file, this);
  }

  /** Opens an existing file for reading only (a backup may be a read-only file). */
  public static File openReadOnly(Path file) throws IOException {
    return file(file, null);
  }

  /** A file of {@code disk}, which times its forces; null: opened for reading only. */
  private static File file(Path file, RealDisk disk) throws IOException {
    boolean writable = disk != null;
    FileChannel channel = writable ? FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE)
        : FileChannel.open(file, StandardOpenOption.READ);
    return new File() {
      @Override
      public void write(ByteBuffer source, long position) throws IOException {
        if (!writable) {
          throw new UnsupportedOperationException(file + " is open for reading only");
        }
        while (source.hasRemaining()) {
          position += channel.write(source, position);
        }
      }

      @Override
      public int read(ByteBuffer target, long position) throws IOException {
        return channel.read(target, position);
      }

      @Override
      public long size() throws IOException {
        return channel.size();
      }

      @Override
      public void force() throws IOException {
        if (disk == null) {
          channel.force(false);
        } else {
          disk.timed(channel, false);
        }
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }

  @Override
  public byte[] readAll(Path file) throws IOException {
    return Files.readAllBytes(file);
  }

  @Override
  public List<String> list(Path dir) throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries.forEach(p -> names.add(p.getFileName().toString()));
    }
    names.sort(null);
    return names;
  }

  @Override
  public boolean exists(Path file) {
    return Files.exists(file);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    Files.createDirectories(dir);
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    Files.move(source, target, StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      timed(channel, true);
    }
  }

  @Override
  public synchronized Path allocate(Path dir, long bytes) throws IOException {
    SegmentPreallocator preallocator = preallocators.get(dir);
    if (preallocator == null || preallocator.bytes() != bytes) {
      if (preallocator != null) {
        preallocator.close();
      }
      preallocator = new SegmentPreallocator(dir, bytes);
      preallocators.put(dir, preallocator);
    }
    return preallocator.take();
  }

  @Override
  public AutoCloseable lock(Path dir) throws IOException {
    FileChannel lockFile = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    try {
      FileLock lock = lockFile.tryLock();
      if (lock == null) {
        throw new IOException(dir + " is in use by another process");
      }
      return lockFile; // closing the channel releases the lock
    } catch (OverlappingFileLockException e) {
      lockFile.close();
      throw new IOException(dir + " is already open in this process", e);
    } catch (IOException | RuntimeException e) {
      lockFile.close();
      throw e;
    }
  }

  /** Stops the pre-allocation threads and deletes their unused spares. */
  @Override
  public synchronized void close() throws IOException {
    IOException first = null;
    for (SegmentPreallocator preallocator : preallocators.values()) {
      try {
        preallocator.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    preallocators.clear();
    if (first != null) {
      throw first;
    }
  }
}
