package io.detraft.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Snapshot files, one per (group, index, term), the newest {@code keep} of each group kept.
 *
 * <p>A save is crash-atomic: the bytes go to a temporary file that is fsynced, renamed over
 * its final name, and the directory is fsynced, so after a crash a snapshot file is either
 * complete or absent. Loads verify a CRC32C over the whole file anyway, because disks rot.
 *
 * <pre>
 * file = magic:u32 version:u32 group:u64 index:u64 term:u64 dataLength:u64 data crc32c:u32
 * </pre>
 *
 * <p>The content is opaque bytes: what a state machine snapshot holds is its business.
 * Thread-safe only under external synchronization.
 */
public final class SnapshotStore {
  private static final int MAGIC = 0x4452534E; // "DRSN"
  private static final int VERSION = 1;
  private static final int HEADER_BYTES = 40;
  private static final String SUFFIX = ".snap";
  private static final String TEMP_SUFFIX = ".snap.tmp";

  /** A state machine image covering every entry up to {@code index} (in {@code term}). */
  public record Snapshot(long group, long index, long term, byte[] data) {
    public Snapshot {
      if (group <= 0 || index < 0 || term < 0 || data == null) {
        throw new IllegalArgumentException("bad snapshot metadata or null data");
      }
    }
  }

  /** What a file name says a snapshot is, without reading it. */
  public record SnapshotId(long group, long index, long term) {}

  private final Path dir;
  private final int keep;

  /** A store in {@code dir} (created if absent) keeping the newest {@code keep} per group. */
  public SnapshotStore(Path dir, int keep) throws IOException {
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be >= 1");
    }
    this.dir = dir;
    this.keep = keep;
    Files.createDirectories(dir);
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        if (p.getFileName().toString().endsWith(TEMP_SUFFIX)) {
          Files.delete(p); // a save that crashed before its rename
        }
      }
    }
  }

  /** Writes {@code snapshot} durably, then deletes all but the newest {@code keep}. */
  public Path save(Snapshot snapshot) throws IOException {
    String name = fileName(snapshot.group(), snapshot.index(), snapshot.term());
    Path target = dir.resolve(name + SUFFIX);
    Path temp = dir.resolve(name + TEMP_SUFFIX);
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(VERSION).putLong(snapshot.group()).putLong(snapshot.index())
        .putLong(snapshot.term()).putLong(snapshot.data().length).flip();
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, HEADER_BYTES);
    crc.update(snapshot.data());
    ByteBuffer trailer = ByteBuffer.allocate(4).putInt((int) crc.getValue()).flip();
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer[] parts = {header, ByteBuffer.wrap(snapshot.data()), trailer};
      while (trailer.hasRemaining()) {
        channel.write(parts);
      }
      channel.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    SegmentPreallocator.syncDirectory(dir);
    prune(snapshot.group());
    return target;
  }

  /** The snapshots of {@code group} on disk, newest (highest index) first. */
  public List<SnapshotId> list(long group) throws IOException {
    List<SnapshotId> ids = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        SnapshotId id = parse(p.getFileName().toString());
        if (id != null && id.group() == group) {
          ids.add(id);
        }
      }
    }
    ids.sort(Comparator.comparingLong(SnapshotId::index).reversed());
    return ids;
  }

  /**
   * The newest snapshot of {@code group}, verified, or empty if there is none.
   *
   * @throws StorageCorruptionException if the newest one fails verification (an older one is
   *     not silently used instead: the log may already be compacted past it)
   */
  public Optional<Snapshot> latest(long group) throws IOException {
    List<SnapshotId> ids = list(group);
    return ids.isEmpty() ? Optional.empty() : Optional.of(load(ids.get(0)));
  }

  /** Reads and verifies one snapshot. */
  public Snapshot load(SnapshotId id) throws IOException {
    Path file = dir.resolve(fileName(id.group(), id.index(), id.term()) + SUFFIX);
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
    if (buf.limit() < HEADER_BYTES + 4) {
      throw new StorageCorruptionException(file, buf.limit(), "snapshot file too short");
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, buf.limit() - 4);
    if (buf.getInt(buf.limit() - 4) != (int) crc.getValue()) {
      throw new StorageCorruptionException(file, buf.limit() - 4, "snapshot checksum mismatch");
    }
    if (buf.getInt(0) != MAGIC || buf.getInt(4) != VERSION) {
      throw new StorageCorruptionException(file, 0, "not a version " + VERSION + " snapshot");
    }
    long length = buf.getLong(32);
    if (buf.getLong(8) != id.group() || buf.getLong(16) != id.index()
        || buf.getLong(24) != id.term() || length != buf.limit() - HEADER_BYTES - 4) {
      throw new StorageCorruptionException(file, 8, "snapshot header disagrees with its name");
    }
    byte[] data = new byte[(int) length];
    buf.get(HEADER_BYTES, data);
    return new Snapshot(id.group(), id.index(), id.term(), data);
  }

  private void prune(long group) throws IOException {
    List<SnapshotId> ids = list(group);
    if (ids.size() <= keep) {
      return;
    }
    for (SnapshotId old : ids.subList(keep, ids.size())) {
      Files.deleteIfExists(dir.resolve(fileName(old.group(), old.index(), old.term()) + SUFFIX));
    }
    SegmentPreallocator.syncDirectory(dir);
  }

  private static String fileName(long group, long index, long term) {
    return String.format("snap-%020d-%020d-%020d", group, index, term);
  }

  private static SnapshotId parse(String name) {
    if (!name.startsWith("snap-") || !name.endsWith(SUFFIX) || name.length() != 5 + 62 + 5) {
      return null;
    }
    try {
      return new SnapshotId(Long.parseLong(name.substring(5, 25)),
          Long.parseLong(name.substring(26, 46)), Long.parseLong(name.substring(47, 67)));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
