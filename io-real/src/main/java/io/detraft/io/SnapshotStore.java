package io.detraft.io;

import static io.detraft.io.SnapshotFormat.FIXED_HEADER_BYTES;
import static io.detraft.io.SnapshotFormat.MAGIC;
import static io.detraft.io.SnapshotFormat.getIds;
import static io.detraft.io.SnapshotFormat.putIds;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Snapshot files, one per (group, index, term), the newest {@code keep} of each group kept.
 *
 * <p>Images are streamed: written through a {@link SnapshotWriter} as the state machine (or a
 * leader, chunk by chunk) produces them, read back through a {@link SnapshotReader} block by
 * block, so no image is ever whole in memory (the file layout is {@link SnapshotFormat}'s,
 * version 3). A save is crash-atomic: the bytes go to a temporary file that is fsynced,
 * renamed over its final name, and the directory is fsynced, so after a crash a snapshot file
 * is either complete or absent. Reads verify checksums anyway, because disks rot.
 *
 * <p>The metadata is what Raft needs to start a log after the snapshot (index, term and the
 * membership in force there); the data is opaque: what a state machine image holds is its
 * business. Thread-safe only under external synchronization. Part of the node layer: all I/O
 * goes through the {@link Disk} it is given.
 *
 * <p>{@link #encode} and {@link #decode} read and write the older, whole format (version 2),
 * held in memory, in which older nodes (and version 1 exports) kept snapshots: the store
 * rewrites such files in version 3 when it meets them.
 */
public final class SnapshotStore {
  private static final int EXPORT_VERSION = 2;
  private static final String SUFFIX = ".snap";
  private static final String TEMP_SUFFIX = ".snap.tmp";

  /** What a file name says a snapshot is, without reading it. */
  public record SnapshotId(long group, long index, long term) {}

  private final Disk disk;
  private final Path dir;
  private final int keep;

  /** A store in {@code dir} (created if absent) keeping the newest {@code keep} per group. */
  public SnapshotStore(Disk disk, Path dir, int keep) throws IOException {
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be >= 1");
    }
    this.disk = disk;
    this.dir = dir;
    this.keep = keep;
    disk.createDirectories(dir);
    for (String name : disk.list(dir)) {
      if (name.endsWith(TEMP_SUFFIX)) {
        disk.delete(dir.resolve(name)); // a save or a receive that crashed before its rename
      }
    }
  }

  /** A store on the real file system. */
  public SnapshotStore(Path dir, int keep) throws IOException {
    this(new RealDisk(), dir, keep);
  }

  /**
   * Starts a new snapshot file of {@code group} at {@code index} and {@code term}: write the
   * image to the returned writer, then {@link SnapshotWriter#finish} it.
   */
  public SnapshotWriter create(long group, long index, long term, Membership membership)
      throws IOException {
    if (group <= 0 || index <= 0 || term <= 0) {
      throw new IllegalArgumentException("nothing to save: group " + group + ", snapshot at "
          + index + " of term " + term);
    }
    Path target = file(new SnapshotId(group, index, term));
    return new SnapshotWriter(this, disk, group, index, term, membership,
        dir.resolve(target.getFileName() + ".tmp"), target);
  }

  /** Writes {@code snapshot} (which carries its data) durably, then prunes the group's old ones. */
  public Path save(long group, Snapshot snapshot) throws IOException {
    if (group <= 0 || snapshot.isEmpty() || !snapshot.hasData()) {
      throw new IllegalArgumentException("nothing to save: group " + group + ", " + snapshot);
    }
    try (SnapshotWriter writer = create(group, snapshot.index(), snapshot.term(),
        snapshot.membership())) {
      writer.write(snapshot.data());
      writer.finish();
    }
    return file(new SnapshotId(group, snapshot.index(), snapshot.term()));
  }

  /** A finished writer's file: renamed into place, made durable, old ones pruned. */
  void commit(long group, Path temp, Path target) throws IOException {
    disk.rename(temp, target);
    disk.syncDirectory(dir); // the rename must survive a crash before the log relies on it
    prune(group);
  }

  /** An abandoned writer's file. */
  void abandon(Path temp) throws IOException {
    disk.delete(temp);
  }

  /** The snapshots of {@code group} on disk, newest (highest index) first. */
  public List<SnapshotId> list(long group) throws IOException {
    List<SnapshotId> ids = new ArrayList<>();
    for (String name : disk.list(dir)) {
      SnapshotId id = parse(name);
      if (id != null && id.group() == group) {
        ids.add(id);
      }
    }
    ids.sort(Comparator.comparingLong(SnapshotId::index).reversed());
    return ids;
  }

  /**
   * The metadata (and image size) of the newest snapshot of {@code group}, after verifying the
   * whole file (block by block, nothing kept), or empty if there is none.
   *
   * @throws StorageCorruptionException if the newest one fails verification (an older one is
   *     not silently used instead: the log may already be compacted past it)
   */
  public Optional<Snapshot> latest(long group) throws IOException {
    List<SnapshotId> ids = list(group);
    if (ids.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(verify(ids.get(0)));
    } catch (StorageCorruptionException e) {
      if (!upgrade(ids.get(0))) {
        throw e;
      }
      return Optional.of(verify(ids.get(0)));
    }
  }

  private Snapshot verify(SnapshotId id) throws IOException {
    try (SnapshotReader reader = open(id)) {
      reader.verifyAll();
      return reader.snapshot();
    }
  }

  /**
   * Rewrites snapshot {@code id} in format 3 if an older node wrote it in format 2 (whole, in
   * memory: such files come from nodes that held their snapshots in memory anyway); false if
   * it is not in format 2.
   */
  private boolean upgrade(SnapshotId id) throws IOException {
    Path file = file(id);
    ByteBuffer start = ByteBuffer.allocate(8);
    try (Disk.File f = disk.open(file)) {
      if (f.size() < 8 || f.read(start, 0) < 8 || start.getInt(0) != MAGIC
          || start.getInt(4) != EXPORT_VERSION) {
        return false;
      }
    }
    Stored old;
    try {
      old = decode(disk.readAll(file), file);
    } catch (StorageCorruptionException first) {
      old = decode(disk.readAll(file), file); // damage at rest fails again
    }
    if (old.group() != id.group() || old.snapshot().index() != id.index()
        || old.snapshot().term() != id.term()) {
      throw new StorageCorruptionException(file, 8, "snapshot header disagrees with its name");
    }
    save(id.group(), old.snapshot());
    return true;
  }

  /** The file that holds (or would hold) snapshot {@code id}. */
  public Path file(SnapshotId id) {
    return dir.resolve(String.format("snap-%020d-%020d-%020d", id.group(), id.index(), id.term())
        + SUFFIX);
  }

  /**
   * Opens snapshot {@code id} for reading its image; its header and trailer are verified, its
   * blocks as they are read.
   */
  public SnapshotReader open(SnapshotId id) throws IOException {
    Path file = file(id);
    if (!disk.exists(file)) {
      throw new IOException("no snapshot file " + file);
    }
    SnapshotReader reader = SnapshotReader.open(disk, file);
    Snapshot s = reader.snapshot();
    if (reader.group() != id.group() || s.index() != id.index() || s.term() != id.term()) {
      reader.close();
      throw new StorageCorruptionException(file, 8, "snapshot header disagrees with its name");
    }
    return reader;
  }

  /**
   * Up to {@code maxBytes} of the image of {@code group}'s snapshot {@code snapshot} from
   * {@code offset}, or null if its file is gone (pruned after a newer one).
   */
  public byte[] chunk(long group, Snapshot snapshot, long offset, int maxBytes)
      throws IOException {
    SnapshotId id = new SnapshotId(group, snapshot.index(), snapshot.term());
    if (!disk.exists(file(id))) {
      return null;
    }
    try (SnapshotReader reader = open(id)) {
      return reader.chunk(offset, maxBytes);
    }
  }

  /**
   * Reads and verifies one snapshot with its whole image in memory: for tests only (images a
   * node handles stream through {@link #open}).
   */
  public Snapshot load(SnapshotId id) throws IOException {
    try (SnapshotReader reader = open(id)) {
      Snapshot s = reader.snapshot();
      return new Snapshot(s.index(), s.term(), s.membership(), reader.readAll());
    }
  }

  /** Opens a file of this store as it lies, unverified: for copying it out byte for byte. */
  Disk.File openRaw(Path file) throws IOException {
    return disk.open(file);
  }

  /** Deletes the file of snapshot {@code id} (if present) and syncs the directory. */
  public void delete(SnapshotId id) throws IOException {
    disk.delete(file(id));
    disk.syncDirectory(dir);
  }

  private void prune(long group) throws IOException {
    List<SnapshotId> ids = list(group);
    if (ids.size() <= keep) {
      return;
    }
    for (SnapshotId old : ids.subList(keep, ids.size())) {
      disk.delete(file(old));
    }
    disk.syncDirectory(dir);
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

  // ---------------------------------------------------------------- exports (version 2)

  /** A snapshot and its group, as an export file holds them. */
  public record Stored(long group, Snapshot snapshot) {}

  /**
   * The bytes of an export of {@code group}'s {@code snapshot} (which carries its data), for
   * copies of a snapshot outside the store (disaster recovery), held whole in memory:
   *
   * <pre>
   * file = magic:u32 version:u32 group:u64 index:u64 term:u64
   *        voterCount:u32 voter:u64* learnerCount:u32 learner:u64*
   *        dataLength:u64 data crc32c:u32        (big-endian; the crc covers everything before it)
   * </pre>
   */
  public static byte[] encode(long group, Snapshot snapshot) {
    ByteBuffer header = exportHeader(group, snapshot);
    ByteBuffer out = ByteBuffer.allocate(header.limit() + snapshot.data().length + 4);
    out.put(header).put(snapshot.data());
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    return out.putInt((int) crc.getValue()).array();
  }

  /**
   * Verifies and reads the bytes of an export.
   *
   * @param source named in errors
   * @throws StorageCorruptionException if the checksum fails or the content is not a snapshot
   */
  public static Stored decode(byte[] bytes, Path source) throws StorageCorruptionException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int end = buf.limit() - 4;
    if (end < FIXED_HEADER_BYTES + 16) {
      throw new StorageCorruptionException(source, buf.limit(), "snapshot file too short");
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, end);
    if (buf.getInt(end) != (int) crc.getValue()) {
      throw new StorageCorruptionException(source, end, "snapshot checksum mismatch");
    }
    if (buf.getInt(0) != MAGIC || buf.getInt(4) != EXPORT_VERSION) {
      throw new StorageCorruptionException(source, 0,
          "not a version " + EXPORT_VERSION + " snapshot export");
    }
    buf.position(FIXED_HEADER_BYTES).limit(end);
    try {
      long group = buf.getLong(8);
      long index = buf.getLong(16);
      long term = buf.getLong(24);
      long[] voters = getIds(buf);
      long[] learners = getIds(buf);
      long length = buf.getLong();
      if (length != buf.remaining()) {
        throw new StorageCorruptionException(source, buf.position() - 8,
            "snapshot data length " + length + " disagrees with the file size");
      }
      byte[] data = new byte[(int) length];
      buf.get(data);
      return new Stored(group, new Snapshot(index, term,
          Membership.fromWitnessesNegated(voters, learners), data));
    } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException e) {
      // A valid checksum over an invalid header: written by a buggy or foreign program.
      throw new StorageCorruptionException(source, FIXED_HEADER_BYTES,
          "invalid snapshot metadata: " + e);
    }
  }

  /** Everything before the data, length included; the checksum covers it and the data. */
  private static ByteBuffer exportHeader(long group, Snapshot snapshot) {
    Membership members = snapshot.membership();
    ByteBuffer header = ByteBuffer.allocate(FIXED_HEADER_BYTES + 4 + 8 * members.voters().length
        + 4 + 8 * members.learners().length + 8);
    header.putInt(MAGIC).putInt(EXPORT_VERSION).putLong(group).putLong(snapshot.index())
        .putLong(snapshot.term());
    putIds(header, members.votersWitnessesNegated()); // witnesses negated, as the codec does
    putIds(header, members.learners());
    return header.putLong(snapshot.data().length).flip();
  }
}
