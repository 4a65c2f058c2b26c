package io.detraft.io;

import io.detraft.core.Membership;
import io.detraft.core.Snapshot;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Snapshot files, one per (group, index, term), the newest {@code keep} of each group kept.
 *
 * <p>A save is crash-atomic: the bytes go to a temporary file that is fsynced, renamed over
 * its final name, and the directory is fsynced, so after a crash a snapshot file is either
 * complete or absent. Loads verify a CRC32C over the whole file anyway, because disks rot.
 *
 * <pre>
 * file = magic:u32 version:u32 group:u64 index:u64 term:u64
 *        voterCount:u32 voter:u64* learnerCount:u32 learner:u64*
 *        dataLength:u64 data crc32c:u32        (big-endian; the crc covers everything before it)
 * </pre>
 *
 * <p>The metadata is what Raft needs to start a log after the snapshot (index, term and the
 * membership in force there); the data is opaque: what a state machine image holds is its
 * business. Thread-safe only under external synchronization. Part of the node layer: all I/O
 * goes through the {@link Disk} it is given.
 */
public final class SnapshotStore {
  private static final int MAGIC = 0x4452534E; // "DRSN"
  private static final int VERSION = 2;
  /** magic, version, group, index, term. */
  private static final int FIXED_HEADER_BYTES = 32;
  /** The most members a snapshot may name: a bound on what a damaged count can make us read. */
  private static final int MAX_MEMBERS = 1 << 16;
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
        disk.delete(dir.resolve(name)); // a save that crashed before its rename
      }
    }
  }

  /** A store on the real file system. */
  public SnapshotStore(Path dir, int keep) throws IOException {
    this(new RealDisk(), dir, keep);
  }

  /** Writes {@code snapshot} of {@code group} durably, then deletes all but the newest. */
  public Path save(long group, Snapshot snapshot) throws IOException {
    return save(group, snapshot, () -> false);
  }

  /** The most bytes written between two looks at a save's stop signal. */
  static final int WRITE_CHUNK_BYTES = 1 << 20;

  /**
   * As {@link #save(long, Snapshot)}, but abandoned if {@code stopRequested} turns true before
   * the rename (it is asked before every chunk of {@link #WRITE_CHUNK_BYTES} and once more
   * before the rename): the temporary file is deleted and nothing of the save is left that a
   * restart would read (dragonboat's stop channel, for a group stopped in the middle).
   *
   * @throws SnapshotAbandonedException if abandoned; the store is as it was before
   */
  public Path save(long group, Snapshot snapshot, java.util.function.BooleanSupplier stopRequested)
      throws IOException {
    if (group <= 0 || snapshot.isEmpty()) {
      throw new IllegalArgumentException("nothing to save: group " + group + ", " + snapshot);
    }
    SnapshotId id = new SnapshotId(group, snapshot.index(), snapshot.term());
    ByteBuffer header = header(group, snapshot);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, header.limit());
    crc.update(snapshot.data());
    ByteBuffer trailer = ByteBuffer.allocate(4).putInt((int) crc.getValue()).flip();
    Path target = file(id);
    Path temp = dir.resolve(target.getFileName() + ".tmp");
    disk.delete(temp); // a leftover of a crashed save would leave stale bytes past our end
    boolean abandoned = false;
    try (Disk.File file = disk.open(temp)) {
      long position = 0;
      for (ByteBuffer part : new ByteBuffer[] {header, ByteBuffer.wrap(snapshot.data()), trailer}) {
        // One write per part when it fits in a chunk (an empty part too), as before chunks.
        do {
          abandoned = stopRequested.getAsBoolean();
          if (abandoned) {
            break;
          }
          ByteBuffer chunk = part.slice();
          chunk.limit(Math.min(chunk.remaining(), WRITE_CHUNK_BYTES));
          int bytes = chunk.remaining();
          file.write(chunk, position);
          part.position(part.position() + bytes);
          position += bytes;
        } while (part.hasRemaining());
        if (abandoned) {
          break;
        }
      }
      if (!abandoned) {
        file.force();
      }
    }
    if (abandoned || stopRequested.getAsBoolean()) {
      disk.delete(temp); // never renamed: a restart would have deleted it anyway
      throw new SnapshotAbandonedException("snapshot " + id + " of group " + group
          + " abandoned: the group is stopping");
    }
    disk.rename(temp, target);
    disk.syncDirectory(dir); // the rename must survive a crash before the log relies on it
    prune(group);
    return target;
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
   * The newest snapshot of {@code group}, verified, or empty if there is none.
   *
   * @throws StorageCorruptionException if the newest one fails verification (an older one is
   *     not silently used instead: the log may already be compacted past it)
   */
  public Optional<Snapshot> latest(long group) throws IOException {
    List<SnapshotId> ids = list(group);
    return ids.isEmpty() ? Optional.empty() : Optional.of(load(ids.get(0)));
  }

  /** The file that holds (or would hold) snapshot {@code id}. */
  public Path file(SnapshotId id) {
    return dir.resolve(String.format("snap-%020d-%020d-%020d", id.group(), id.index(), id.term())
        + SUFFIX);
  }

  /**
   * Reads and verifies one snapshot. A file that fails verification is read again: it is
   * damaged only if two reads in a row agree (a bit flipped on its way from the disk is not
   * damage at rest).
   */
  public Snapshot load(SnapshotId id) throws IOException {
    Path file = file(id);
    byte[] bytes = disk.readAll(file);
    for (int read = 1; ; read++) {
      try {
        return verify(id, file, bytes);
      } catch (StorageCorruptionException e) {
        byte[] again = disk.readAll(file);
        if (Arrays.equals(bytes, again)) {
          throw e;
        }
        if (read == 3) {
          throw new IOException("reads of " + file + " keep returning different bytes");
        }
        bytes = again;
      }
    }
  }

  private static Snapshot verify(SnapshotId id, Path file, byte[] bytes)
      throws StorageCorruptionException {
    Stored stored = decode(bytes, file);
    if (stored.group() != id.group() || stored.snapshot().index() != id.index()
        || stored.snapshot().term() != id.term()) {
      throw new StorageCorruptionException(file, 8, "snapshot header disagrees with its name");
    }
    return stored.snapshot();
  }

  /** Deletes the file of snapshot {@code id} (if present) and syncs the directory. */
  public void delete(SnapshotId id) throws IOException {
    disk.delete(file(id));
    disk.syncDirectory(dir);
  }

  /** A snapshot and its group, as a snapshot file holds them. */
  public record Stored(long group, Snapshot snapshot) {}

  /**
   * The bytes of a snapshot file of {@code group} (the format above), for copies of a
   * snapshot outside the store (an export for disaster recovery).
   */
  public static byte[] encode(long group, Snapshot snapshot) {
    ByteBuffer header = header(group, snapshot);
    ByteBuffer out = ByteBuffer.allocate(header.limit() + snapshot.data().length + 4);
    out.put(header).put(snapshot.data());
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    return out.putInt((int) crc.getValue()).array();
  }

  /**
   * Verifies and reads the bytes of a snapshot file.
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
    if (buf.getInt(0) != MAGIC || buf.getInt(4) != VERSION) {
      throw new StorageCorruptionException(source, 0, "not a version " + VERSION + " snapshot");
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
  private static ByteBuffer header(long group, Snapshot snapshot) {
    Membership members = snapshot.membership();
    ByteBuffer header = ByteBuffer.allocate(FIXED_HEADER_BYTES + 4 + 8 * members.voters().length
        + 4 + 8 * members.learners().length + 8);
    header.putInt(MAGIC).putInt(VERSION).putLong(group).putLong(snapshot.index())
        .putLong(snapshot.term());
    putIds(header, members.votersWitnessesNegated()); // witnesses negated, as the codec does
    putIds(header, members.learners());
    return header.putLong(snapshot.data().length).flip();
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

  private static void putIds(ByteBuffer buf, long[] ids) {
    buf.putInt(ids.length);
    for (long id : ids) {
      buf.putLong(id);
    }
  }

  private static long[] getIds(ByteBuffer buf) {
    int count = buf.getInt();
    if (count < 0 || count > MAX_MEMBERS) {
      throw new IllegalArgumentException("member count " + count);
    }
    long[] ids = new long[count];
    for (int i = 0; i < count; i++) {
      ids[i] = buf.getLong();
    }
    return ids;
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
