package io.detraft.sim;

import io.detraft.io.Disk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulator's disk under the node layer's real storage code ({@link
 * io.detraft.io.NodeStorage}: the WAL, its recovery, the snapshot store): a page cache in
 * front of a platter, in memory, with the fault atlas of one seed.
 *
 * <ul>
 *   <li><b>Data</b>: a write lands in the page cache (reads see it at once) and reaches the
 *       platter only when a force of its file completes. At a crash, the writes not yet forced
 *       are lost, except a prefix of them that background write-back already flushed; the last
 *       write of that prefix may be torn at a sector boundary (its first sectors written, the
 *       rest as before).
 *   <li><b>Names</b>: creations, renames and deletions are journaled in order; they are durable
 *       once a directory sync commits the journal. A crash commits a prefix of the journal and
 *       loses the rest (a rename without a directory sync may be undone).
 *   <li><b>Failed fsync</b> (EIO): a force fails after write-back flushed only a prefix of the
 *       file's unforced writes, and the page cache marks them clean anyway (as Linux does): a
 *       second force would succeed while the data is gone. The node must stop.
 *   <li><b>Full disk</b> (ENOSPC): a write fails before changing anything.
 *   <li><b>Corruption</b>, on the one disk of a run that {@link #corrupts}: a write lands
 *       some sectors away from where it was aimed (a misdirected write: the intended place
 *       keeps what it held); a crash may flip a bit at rest in a file; a read may return a
 *       flipped bit that a second read does not. The node must never use damaged data: it
 *       recovers everything it acknowledged, or refuses to start naming the file and offset.
 * </ul>
 *
 * <p>How long a force takes is the simulator's business ({@link #fsyncLatencyNanos}): the
 * node's event loop is busy meanwhile.
 */
public final class SimDisk implements Disk {
  static final int SECTOR_BYTES = 512;

  /**
   * File content; names point at inodes. {@code data} is what reads see (the page cache over
   * the platter); the unforced writes keep what they overwrote, so that a crash can undo the
   * ones that never reached the platter without a second copy of every file.
   */
  private static final class Inode {
    byte[] data = new byte[0];
    int size;
    /** Writes since the last force, in order, with what they replaced. */
    final ArrayList<Undo> unforced = new ArrayList<>();
  }

  /**
   * How to take back one write: the bytes it overwrote ({@code replaced}, up to the old
   * size), its extent, and the file size before it. {@code doomed}: a failed fsync left it
   * in the page cache, marked clean; it is gone at the next crash whatever else survives.
   */
  private static final class Undo {
    final long position;
    final int length;
    final byte[] replaced;
    final int sizeBefore;
    boolean doomed;

    Undo(long position, int length, byte[] replaced, int sizeBefore) {
      this.position = position;
      this.length = length;
      this.replaced = replaced;
      this.sizeBefore = sizeBefore;
    }
  }

  /** A journaled change of names: {@code name} now refers to {@code inode} (null: removed). */
  private record NameChange(Path name, Inode inode) {}

  private final SimOptions.DiskOptions options;
  private final SimRandom random;
  /** Names as the running process sees them, and as a crash would leave them. */
  private final TreeMap<Path, Inode> names = new TreeMap<>();
  private final TreeMap<Path, Inode> durableNames = new TreeMap<>();
  /** Name changes not yet committed, in order; a rename is two changes committed together. */
  private final ArrayList<NameChange[]> journal = new ArrayList<>();
  private final List<Path> locked = new ArrayList<>();
  /** Whether writes and fsyncs may fail (off once the run heals every fault). */
  private boolean errors = true;
  /** Test-scope canary: a force that says yes and makes nothing durable. */
  boolean forceLies;
  /** Test-scope canary: directory syncs do nothing (the node "forgot" them). */
  boolean directorySyncLies;
  /**
   * Test-scope canary: the fsync of a file still under a temporary name (a snapshot's {@code
   * .tmp}, a pre-allocated spare segment) does nothing, as if the node renamed it unsynced.
   */
  boolean syncBeforeRenameLies;
  /** This disk corrupts data ({@link SimOptions.DiskOptions#corruption}), drawing from these. */
  private boolean corrupting;
  private SimRandom corruption;
  /** Whether data at rest was damaged (a misdirected write, a bit rotted). */
  private boolean damaged;
  /** The file of the last write made durable, and where it lies: rot most often hits it. */
  private Inode lastWritten;
  private long lastWriteEnd;
  private int lastWriteLength;
  /** Per crash, on a corrupting disk (one going bad): one more bit flips at rest. */
  static final double ROT_PER_CRASH = 1.0;
  /** Per whole-file read, on a corrupting disk: one bit of the copy returned flips. */
  static final double READ_FLIP = 0.2;

  public SimDisk(SimOptions.DiskOptions options, SimRandom random) {
    this.options = options;
    this.random = random;
  }

  /** How long the next fsync takes, in virtual nanoseconds. */
  long fsyncLatencyNanos() {
    return random.between(options.fsyncMinNanos(), options.fsyncMaxNanos());
  }

  /** From now on no write or fsync fails (the liveness phase heals every fault). */
  void heal() {
    errors = false;
  }

  /**
   * This disk corrupts data from now on, at its options' rate, drawing from {@code faults}
   * (a generator of its own: the disk's other draws, fsync latencies included, stay as they
   * would be on a sound disk).
   */
  void corrupts(SimRandom faults) {
    corrupting = options.corruption() > 0;
    corruption = faults;
  }

  /** Whether data at rest was ever damaged: only then may recovery refuse this disk. */
  boolean damaged() {
    return damaged;
  }

  /**
   * Flips one bit of a file's content: mostly in the last write made durable (the most
   * recent write is the most exposed; for a WAL, its last batch), otherwise in a random file,
   * mostly in its written (non-zero) part, sometimes anywhere (pre-allocated zeros included).
   */
  private void rot() {
    List<Inode> files = new ArrayList<>();
    for (Inode inode : durableNames.values()) {
      if (inode.size > 0) {
        files.add(inode);
      }
    }
    if (files.isEmpty()) {
      return;
    }
    boolean recent = lastWritten != null && files.contains(lastWritten)
        && corruption.chance(0.8);
    Inode inode = recent ? lastWritten : files.get(corruption.nextInt(files.size()));
    int written = inode.size;
    while (written > 0 && inode.data[written - 1] == 0) {
      written--;
    }
    int offset;
    if (recent && lastWriteEnd <= inode.size) {
      offset = (int) (lastWriteEnd - 1 - corruption.nextInt((int) Math.min(lastWriteLength,
          lastWriteEnd)));
    } else if (written == 0 || corruption.chance(0.2)) {
      offset = corruption.nextInt(inode.size);
    } else {
      offset = corruption.nextInt(written);
    }
    inode.data[offset] ^= (byte) (1 << corruption.nextInt(8));
    damaged = true;
  }

  /**
   * The process died: each file keeps what was forced plus a prefix of its unforced writes
   * (the last perhaps torn), and the names keep a prefix of the journal. Locks are released.
   */
  void crash() {
    locked.clear();
    for (Inode inode : inodes()) {
      writeBack(inode, true);
      // A failed fsync's writes stayed readable until now; they never reached the platter.
      List<Undo> unforced = inode.unforced;
      for (int i = unforced.size() - 1; i >= 0; i--) {
        Undo undo = unforced.get(i);
        if (undo.doomed) {
          undoFrom(inode, undo, 0);
        }
      }
      unforced.clear();
    }
    commitJournal(random.nextInt(journal.size() + 1));
    journal.clear();
    names.clear();
    names.putAll(durableNames);
    if (corrupting && errors && corruption.chance(ROT_PER_CRASH)) {
      rot();
    }
  }

  // ---------------------------------------------------------------- Disk

  @Override
  public File open(Path file) throws IOException {
    Inode found = names.get(file);
    if (found == null) {
      requireDirectory(file.getParent());
      found = new Inode();
      link(new NameChange(file, found));
    }
    Inode inode = found;
    return new File() {
      @Override
      public void write(ByteBuffer source, long position) throws IOException {
        if (errors && options.diskFull() > 0 && random.chance(options.diskFull())) {
          throw new IOException("No space left on device (simulated ENOSPC) writing " + file);
        }
        SimDisk.write(inode, source, misdirect(position));
      }

      @Override
      public int read(ByteBuffer target, long position) {
        if (position >= inode.size) {
          return -1;
        }
        int bytes = (int) Math.min(target.remaining(), inode.size - position);
        target.put(inode.data, (int) position, bytes);
        return bytes;
      }

      @Override
      public long size() {
        return inode.size;
      }

      @Override
      public void force() throws IOException {
        if (errors && options.fsyncFailure() > 0 && random.chance(options.fsyncFailure())) {
          writeBack(inode, false); // and the page cache now calls the rest clean
          throw new IOException("Input/output error (simulated EIO) on fsync of " + file);
        }
        boolean temporary = file.toString().endsWith(".tmp")
            || file.toString().endsWith(Disk.SPARE_SUFFIX);
        if (!forceLies && !(syncBeforeRenameLies && temporary)) {
          List<Undo> unforced = inode.unforced;
          if (!unforced.isEmpty() && !unforced.get(unforced.size() - 1).doomed) {
            Undo last = unforced.get(unforced.size() - 1);
            lastWritten = inode;
            lastWriteEnd = last.position + last.length;
            lastWriteLength = last.length;
          }
          unforced.removeIf(undo -> !undo.doomed);
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public byte[] readAll(Path file) throws IOException {
    Inode inode = existing(file);
    byte[] copy = Arrays.copyOf(inode.data, inode.size);
    if (corrupting && errors && copy.length > 0 && corruption.chance(READ_FLIP)) {
      copy[corruption.nextInt(copy.length)] ^= (byte) (1 << corruption.nextInt(8));
    }
    return copy;
  }

  /** Where a write aimed at {@code position} lands: now and then 1-8 sectors off. */
  private long misdirect(long position) {
    if (!corrupting || !errors || !corruption.chance(options.corruption())) {
      return position;
    }
    long sectors = 1 + corruption.nextInt(8);
    long shift = (corruption.chance(0.5) ? sectors : -sectors) * SECTOR_BYTES;
    long landed = Math.max(0, position + shift);
    damaged |= landed != position;
    return landed;
  }

  @Override
  public List<String> list(Path dir) throws IOException {
    requireDirectory(dir);
    List<String> found = new ArrayList<>();
    for (Path name : names.subMap(dir, false, dir.resolve("\uffff"), false).keySet()) {
      if (dir.equals(name.getParent())) {
        found.add(name.getFileName().toString());
      }
    }
    found.sort(null);
    return found;
  }

  @Override
  public boolean exists(Path file) {
    return names.containsKey(file);
  }

  /** The disk is lost for good and replaced by a blank one (after a crash). */
  void wipe() {
    names.clear();
    durableNames.clear();
    journal.clear();
    locked.clear();
    lastWritten = null;
  }

  @Override
  public void createDirectories(Path dir) {
    for (Path d = dir; d != null && !names.containsKey(d); d = d.getParent()) {
      // Directories are names without content; mkdir is journaled like any name.
      link(new NameChange(d, new Inode()));
    }
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    Inode inode = existing(source);
    requireDirectory(target.getParent());
    NameChange[] both = {new NameChange(source, null), new NameChange(target, inode)};
    journal.add(both);
    names.remove(source);
    names.put(target, inode);
  }

  @Override
  public void delete(Path file) {
    if (names.containsKey(file)) {
      link(new NameChange(file, null));
    }
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    requireDirectory(dir);
    if (directorySyncLies) {
      return;
    }
    // Like ext4, a directory's fsync commits the whole journal, other directories' changes too.
    commitJournal(journal.size());
    journal.clear();
  }

  @Override
  public Path allocate(Path dir, long bytes) throws IOException {
    requireDirectory(dir);
    Path spare = dir.resolve("spare" + Disk.SPARE_SUFFIX);
    Inode inode = new Inode();
    inode.data = new byte[(int) bytes]; // zero-filled and synced: no write to undo
    inode.size = (int) bytes;
    link(new NameChange(spare, inode));
    return spare;
  }

  @Override
  public AutoCloseable lock(Path dir) throws IOException {
    if (locked.contains(dir)) {
      throw new IOException(dir + " is already open in this process");
    }
    locked.add(dir);
    return () -> locked.remove(dir);
  }

  // ---------------------------------------------------------------- internals

  private void link(NameChange change) {
    journal.add(new NameChange[] {change});
    if (change.inode() == null) {
      names.remove(change.name());
    } else {
      names.put(change.name(), change.inode());
    }
  }

  private void commitJournal(int count) {
    for (int i = 0; i < count; i++) {
      for (NameChange change : journal.get(i)) {
        if (change.inode() == null) {
          durableNames.remove(change.name());
        } else {
          durableNames.put(change.name(), change.inode());
        }
      }
    }
  }

  /**
   * Background write-back reached the platter with a prefix of the unforced (not doomed)
   * writes. At a crash the others are undone, newest first, and the last one written back may
   * be torn at a sector boundary; at a failed fsync the others are doomed: still readable,
   * never durable. Afterwards only doomed writes remain unforced.
   */
  private void writeBack(Inode inode, boolean crash) {
    List<Undo> unforced = inode.unforced;
    int flushed = random.nextInt(unforced.size() + 1);
    for (int i = unforced.size() - 1; i >= flushed; i--) {
      Undo undo = unforced.get(i);
      if (!crash) {
        undo.doomed = true;
      } else if (!undo.doomed) {
        undoFrom(inode, undo, 0);
      }
    }
    if (crash && flushed > 0 && !unforced.get(flushed - 1).doomed
        && random.chance(options.tornWrite())) {
      Undo last = unforced.get(flushed - 1);
      long firstSectorEnd = (last.position / SECTOR_BYTES + 1) * SECTOR_BYTES;
      long end = last.position + last.length;
      if (end > firstSectorEnd) {
        long sectors = (end - firstSectorEnd + SECTOR_BYTES - 1) / SECTOR_BYTES;
        long tearAt = firstSectorEnd + random.nextLong(sectors) * SECTOR_BYTES;
        if (random.chance(0.5)) {
          // Torn at a sector boundary: the sectors before the tear reached the platter.
          undoFrom(inode, last, (int) (tearAt - last.position));
        } else {
          // Sectors land in any order: one sector before the tear never did; the rest, the
          // write's last sector too, reached the platter.
          long lost = tearAt - SECTOR_BYTES;
          undoRange(inode, last, (int) (Math.max(lost, last.position) - last.position),
              (int) (tearAt - last.position));
        }
      }
    }
    unforced.removeIf(undo -> !undo.doomed);
  }

  /** Writes {@code source} into the page cache, remembering how to take it back. */
  private static void write(Inode inode, ByteBuffer source, long position) {
    int length = source.remaining();
    int end = Math.toIntExact(position + length);
    int sizeBefore = inode.size;
    int overlap = (int) Math.max(0, Math.min(end, sizeBefore) - position);
    byte[] replaced = overlap > 0
        ? Arrays.copyOfRange(inode.data, (int) position, (int) position + overlap) : new byte[0];
    inode.unforced.add(new Undo(position, length, replaced, sizeBefore));
    if (end > inode.data.length) {
      inode.data = Arrays.copyOf(inode.data, Math.max(end, 2 * inode.data.length));
    }
    source.get(inode.data, (int) position, length);
    inode.size = Math.max(sizeBefore, end);
  }

  /** Takes back the part of {@code undo}'s write from {@code offset} on. */
  private static void undoFrom(Inode inode, Undo undo, int offset) {
    int from = (int) undo.position + offset;
    int end = (int) undo.position + undo.length;
    int restorable = Math.max(0, undo.replaced.length - offset);
    System.arraycopy(undo.replaced, offset < undo.replaced.length ? offset : 0, inode.data, from,
        restorable);
    // Bytes past the old end of the file were never there: zero them, and shrink the file.
    Arrays.fill(inode.data, from + restorable, end, (byte) 0);
    inode.size = offset == 0 ? undo.sizeBefore : Math.max(undo.sizeBefore, from);
  }

  /** Takes back the part of {@code undo}'s write in [from, to) (offsets into the write). */
  private static void undoRange(Inode inode, Undo undo, int from, int to) {
    int base = (int) undo.position;
    int restorable = Math.max(0, Math.min(to, undo.replaced.length) - from);
    if (restorable > 0) {
      System.arraycopy(undo.replaced, from, inode.data, base + from, restorable);
    }
    Arrays.fill(inode.data, base + from + restorable, base + to, (byte) 0);
  }

  private Inode existing(Path file) throws IOException {
    Inode inode = names.get(file);
    if (inode == null) {
      throw new java.nio.file.NoSuchFileException(file.toString());
    }
    return inode;
  }

  private void requireDirectory(Path dir) throws IOException {
    if (dir != null && !names.containsKey(dir)) {
      throw new java.nio.file.NoSuchFileException(dir.toString());
    }
  }

  /** Every inode a name refers to, now or after a crash, each once. */
  private List<Inode> inodes() {
    List<Inode> all = new ArrayList<>();
    java.util.Set<Inode> seen = java.util.Collections.newSetFromMap(
        new java.util.IdentityHashMap<>());
    for (Map<Path, Inode> map : List.of(names, durableNames)) {
      for (Inode inode : map.values()) {
        if (seen.add(inode)) {
          all.add(inode);
        }
      }
    }
    for (NameChange[] changes : journal) {
      for (NameChange change : changes) {
        if (change.inode() != null && seen.add(change.inode())) {
          all.add(change.inode());
        }
      }
    }
    return all;
  }
}
