package io.detraft.io.bench;

import io.detraft.core.Entry;
import io.detraft.io.WriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Write-ahead-log throughput beside the disk's raw fsync rate. Not a test: run it by hand.
 *
 * <pre>
 * java -cp core/target/classes:io-real/target/classes io.detraft.io.bench.WalBench [dir] [seconds]
 * </pre>
 *
 * <p>For 128 B and 4 KiB records it measures (1) the raw rate of "write one record at the
 * next offset of a pre-allocated file, then fdatasync" and (2) the WAL appending batches of
 * 1, 16 and 64 records per sync (group commit), in records/s, syncs/s and MB/s.
 */
public final class WalBench {
  private WalBench() {}

  public static void main(String[] args) throws IOException {
    Path base = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"));
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2.0;
    Path dir = Files.createTempDirectory(base, "walbench");
    try {
      System.out.printf("WalBench in %s, %.1f s per case%n", dir, seconds);
      for (int size : new int[] {128, 4096}) {
        rawFsync(dir.resolve("raw-" + size), size, seconds);
        for (int batch : new int[] {1, 16, 64}) {
          wal(dir.resolve("wal-" + size + "-" + batch), size, batch, seconds);
        }
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** write + force on a pre-allocated file: the floor any durable log pays per sync. */
  private static void rawFsync(Path file, int size, double seconds) throws IOException {
    int fileBytes = 64 << 20;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
      for (long pos = 0; pos < fileBytes; pos += zeros.capacity()) {
        zeros.clear();
        channel.write(zeros, pos);
      }
      channel.force(true);
      ByteBuffer record = ByteBuffer.allocateDirect(size);
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long start = System.nanoTime();
      long count = 0;
      long pos = 0;
      while (System.nanoTime() < end && pos + size <= fileBytes) {
        record.clear();
        channel.write(record, pos);
        channel.force(false);
        pos += size;
        count++;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      System.out.printf("raw write+fdatasync %5d B          : %8.0f syncs/s  %7.2f MB/s%n",
          size, count / elapsed, count * (double) size / elapsed / 1e6);
    }
  }

  private static void wal(Path dir, int size, int batch, double seconds) throws IOException {
    byte[] data = new byte[size];
    try (WriteAheadLog wal = WriteAheadLog.open(dir, WriteAheadLog.Options.defaults())) {
      long index = 0;
      long syncs = 0;
      List<Entry> entries = new ArrayList<>(batch);
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long start = System.nanoTime();
      while (System.nanoTime() < end) {
        entries.clear();
        for (int i = 0; i < batch; i++) {
          entries.add(Entry.normal(1, ++index, data));
        }
        wal.append(1, entries);
        wal.sync();
        syncs++;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      System.out.printf("WAL %5d B x %2d records per sync : %8.0f records/s %7.2f MB/s"
          + "  (%.0f syncs/s)%n", size, batch, index / elapsed, index * (double) size / elapsed
          / 1e6, syncs / elapsed);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
