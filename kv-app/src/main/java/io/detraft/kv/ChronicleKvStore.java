package io.detraft.kv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiConsumer;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * A {@link KvStore} persisted in a Chronicle Map file ({@code NAME.cm}).
 *
 * <p>Chronicle Map writes through a memory mapping and never fsyncs by itself, so what it
 * holds survives a process crash (the page cache keeps every completed write) but not an
 * operating-system crash, which may leave any mix of old and new pages. A small state file
 * ({@code NAME.state}) tells the two apart: it records the kernel's boot id and whether the
 * map was closed cleanly. A map left dirty by an earlier boot is deleted on open, and the
 * node rebuilds it from its snapshot and log ({@link #recovered()} is false).
 *
 * <p>{@link #replaceAll} writes a fresh map next to the old one, fsyncs it and renames it
 * over the old one, so an install is all or nothing.
 */
public final class ChronicleKvStore implements KvStore {
  private static final System.Logger LOG = System.getLogger(ChronicleKvStore.class.getName());
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  /**
   * Sizing of the map. Chronicle Map pre-sizes its segments from these; the file is sparse,
   * so a generous {@code entries} costs address space, not disk.
   *
   * @param entries expected number of entries
   * @param averageKeyBytes expected key size (the state machine adds a prefix byte)
   * @param averageValueBytes expected value size
   * @param maxBloatFactor how far beyond {@code entries} the map may grow (1 to 1000)
   */
  public record Sizing(long entries, int averageKeyBytes, int averageValueBytes,
      double maxBloatFactor) {
    public Sizing {
      if (entries < 1 || averageKeyBytes < 1 || averageValueBytes < 1
          || maxBloatFactor < 1 || maxBloatFactor > 1000) {
        throw new IllegalArgumentException("invalid sizing: " + this);
      }
    }

    /**
     * 100,000 32-byte keys with 64-byte values per group, growing up to 100 times that. Not
     * larger: iterating a map (for a snapshot) visits every slot it was sized for.
     */
    public static Sizing defaults() {
      return new Sizing(100_000, 32, 64, 100);
    }

    /**
     * This sizing as it applies to each of {@code groups} maps on one node: as given up to 8
     * groups (the default count); beyond, the node's total for 8 is shared among them, down to
     * 1,000 entries a map (each still grows by {@code maxBloatFactor}). Chronicle writes a
     * map's segment tiers out in full (13 MB for the defaults), so 1,000 groups sized each
     * for 100,000 entries would take 13 GB of disk a node before the first write.
     */
    public Sizing perGroupOf(long groups) {
      if (groups <= 8) {
        return this;
      }
      return new Sizing(Math.max(Math.min(entries, 1_000), entries * 8 / groups),
          averageKeyBytes, averageValueBytes, maxBloatFactor);
    }

    /** Small maps for tests. */
    public static Sizing small() {
      return new Sizing(10_000, 32, 64, 50);
    }
  }

  private final Path file;
  private final Path stateFile;
  private final Sizing sizing;
  private final boolean recovered;
  /** Readers share; swapping or closing the map is exclusive. */
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private ChronicleMap<byte[], byte[]> map;
  private boolean closed;

  private ChronicleKvStore(Path file, Sizing sizing, boolean recovered, boolean clean)
      throws IOException {
    this.file = file;
    this.stateFile = file.resolveSibling(file.getFileName() + ".state");
    this.sizing = sizing;
    this.recovered = recovered;
    if (recovered && !clean) {
      LOG.log(System.Logger.Level.INFO, file + " was open when the process died; recovering "
          + "it (Chronicle Map recovery)");
    }
    this.map = openMap(file, sizing, recovered && !clean);
  }

  /**
   * Opens (or creates) the store at {@code dir/NAME.cm}; a map an operating-system crash may
   * have torn is discarded first.
   */
  public static ChronicleKvStore open(Path dir, String name, Sizing sizing) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".cm");
      Path stateFile = dir.resolve(name + ".cm.state");
      boolean trusted = false;
      boolean clean = false;
      if (Files.exists(file)) {
        trusted = trusted(stateFile);
        clean = trusted && Files.readString(stateFile).trim().endsWith(" clean");
        if (!trusted) {
          LOG.log(System.Logger.Level.WARNING, file + " was not closed cleanly before the last "
              + "reboot; discarding it to rebuild from the snapshot and the log");
          Files.delete(file);
        }
      }
      ChronicleKvStore store = new ChronicleKvStore(file, sizing, trusted, clean);
      store.writeState(false);
      return store;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean trusted(Path stateFile) throws IOException {
    if (!Files.exists(stateFile)) {
      return false;
    }
    String[] state = Files.readString(stateFile, StandardCharsets.UTF_8).trim().split(" ");
    if (state.length == 2 && state[1].equals("clean")) {
      return true;
    }
    // Dirty: only a process crash in this same boot leaves every completed write in place.
    String bootId = bootId();
    return state.length == 2 && bootId != null && state[0].equals(bootId);
  }

  private static String bootId() {
    try {
      return Files.readString(BOOT_ID, StandardCharsets.UTF_8).trim();
    } catch (IOException | UnsupportedOperationException e) {
      return null; // not Linux: treat every unclean shutdown as an OS crash
    }
  }

  private void writeState(boolean clean) throws IOException {
    String bootId = bootId();
    String text = (bootId == null ? "unknown" : bootId) + " " + (clean ? "clean" : "dirty");
    DurableFiles.replace(stateFile, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * @param recover the process died with the map open: a segment lock may still be held and
   *     an entry half written, which Chronicle's recovery repairs
   */
  private static ChronicleMap<byte[], byte[]> openMap(Path file, Sizing sizing, boolean recover)
      throws IOException {
    ChronicleMapBuilder<byte[], byte[]> builder = ChronicleMapBuilder.of(byte[].class,
            byte[].class)
        .name(file.getFileName().toString())
        .entries(sizing.entries())
        .averageKeySize(sizing.averageKeyBytes())
        .averageValueSize(sizing.averageValueBytes())
        .maxBloatFactor(sizing.maxBloatFactor())
        // KvStore's put and remove return nothing: spare the map copying out the old value.
        .putReturnsNull(true)
        .removeReturnsNull(true);
    return recover ? builder.recoverPersistedTo(file.toFile(), false)
        : builder.createPersistedTo(file.toFile());
  }

  @Override
  public byte[] get(byte[] key) {
    lock.readLock().lock();
    try {
      checkOpen();
      return map.get(key);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void put(byte[] key, byte[] value) {
    lock.readLock().lock(); // the map itself is thread-safe; the lock only fences swaps
    try {
      checkOpen();
      map.put(key, value);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void remove(byte[] key) {
    lock.readLock().lock();
    try {
      checkOpen();
      map.remove(key);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void forEach(BiConsumer<byte[], byte[]> action) {
    lock.readLock().lock();
    try {
      checkOpen();
      // Chronicle may reuse the arrays it hands to the callback: copy before they escape.
      map.forEach((k, v) -> action.accept(k.clone(), v.clone()));
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public long size() {
    lock.readLock().lock();
    try {
      checkOpen();
      return map.longSize();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void replaceAll(Iterable<byte[][]> entries) {
    Path fresh = file.resolveSibling(file.getFileName() + ".restore");
    try {
      Files.deleteIfExists(fresh);
      try (ChronicleMap<byte[], byte[]> next = openMap(fresh, sizing, false)) {
        for (byte[][] e : entries) {
          next.put(e[0], e[1]);
        }
      }
      force(fresh);
      lock.writeLock().lock();
      try {
        checkOpen();
        map.close();
        Files.move(fresh, file, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        DurableFiles.syncDirectory(file.getParent());
        map = openMap(file, sizing, false);
      } finally {
        lock.writeLock().unlock();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("replacing " + file, e);
    }
  }

  @Override
  public boolean recovered() {
    return recovered;
  }

  /** Closes the map, fsyncs it and marks it clean, so the next open trusts it. */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      map.close();
      force(file);
      writeState(true);
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + file, e);
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("store " + file + " is closed");
    }
  }

  private static void force(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

}
