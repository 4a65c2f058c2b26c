package io.detraft.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The files of a node, as the node layer ({@link WriteAheadLog}, {@link WalRecovery}, {@link
 * SnapshotStore}) sees them. The node layer does no I/O of its own: it is handed a disk, and
 * the same code runs on the real one ({@link RealDisk}: FileChannel and fsync) in production
 * and on the simulator's (a page cache in front of a platter, with a fault atlas: torn and
 * lost unsynced writes, bit flips, failed fsyncs, a full disk) under test. {@link Path}s are
 * only names here; nothing reaches the operating system except through this interface.
 *
 * <p>The contract is POSIX's, narrowed to what a log needs: a write is durable only after a
 * {@link File#force} of its file that started after it; a creation, rename or deletion is
 * durable only after a {@link #syncDirectory} of its directory. After an {@link IOException}
 * from a force, what reached the disk is unknown: the caller must stop, never retry the force
 * and trust the page cache (PostgreSQL's "fsyncgate", 2018).
 */
public interface Disk {
  /** An open file: positional reads and writes, and a force. */
  interface File extends AutoCloseable {
    /** Writes all of {@code source} at {@code position}. */
    void write(ByteBuffer source, long position) throws IOException;

    /** Reads up to {@code target.remaining()} bytes at {@code position}; -1 at end of file. */
    int read(ByteBuffer target, long position) throws IOException;

    long size() throws IOException;

    /** fdatasync: every write to this file issued before the call is durable when it returns. */
    void force() throws IOException;

    @Override
    void close() throws IOException;
  }

  /** Opens {@code file} for reading and writing, creating it (empty) if absent. */
  File open(Path file) throws IOException;

  /** The whole content of {@code file}. */
  byte[] readAll(Path file) throws IOException;

  /** The names (last path element) of the entries in {@code dir}, sorted. */
  List<String> list(Path dir) throws IOException;

  boolean exists(Path file);

  /** Creates {@code dir} and its parents if absent. */
  void createDirectories(Path dir) throws IOException;

  /** Atomically renames {@code source} to {@code target}, replacing it if it exists. */
  void rename(Path source, Path target) throws IOException;

  /** Deletes {@code file} if it exists. */
  void delete(Path file) throws IOException;

  /** Makes the creations, renames and deletions in {@code dir} durable. */
  void syncDirectory(Path dir) throws IOException;

  /**
   * A zero-filled file of {@code bytes} in {@code dir}, synced, under a temporary name ending
   * in {@link #SPARE_SUFFIX}, for the caller to rename. Writing into pre-allocated blocks is
   * what keeps a WAL's fdatasync from also writing file-size metadata; the real disk prepares
   * the next spare ahead of need, off the caller's thread.
   */
  Path allocate(Path dir, long bytes) throws IOException;

  /** Name suffix of the files {@link #allocate} returns; leftovers of a crash are deleted. */
  String SPARE_SUFFIX = ".prealloc.tmp";

  /**
   * Takes the exclusive right to write {@code dir} (a second writer would interleave records)
   * until the returned handle is closed.
   */
  AutoCloseable lock(Path dir) throws IOException;
}
