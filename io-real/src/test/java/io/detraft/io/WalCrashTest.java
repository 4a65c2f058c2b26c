package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency with a real process and real files: a child JVM ({@link WalCrashChild})
 * appends to the WAL and reports each fsync; the test SIGKILLs it at random points, sometimes
 * also damages the bytes it wrote after its last possible fsync (what a power cut may do to
 * unsynced pages: lose a suffix, or lose sectors in the middle), then recovers. Every record
 * reported synced must be there, intact; nothing damaged may be used; recovery must never
 * refuse.
 */
class WalCrashTest {
  private static final int ROUNDS = Integer.getInteger("detraft.walCrashRounds", 16);
  private static final int SEGMENT_BYTES = 64 * 1024; // small, so crashes hit rollovers too

  @TempDir Path dir;

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void everyReportedSyncSurvivesSigkillAndDamagedUnsyncedBytes() throws Exception {
    long seed = Long.getLong("detraft.seed", System.nanoTime());
    System.out.println("WalCrashTest seed " + seed + " (replay with -Ddetraft.seed=" + seed + ")");
    Random random = new Random(seed);
    long maxSynced = 0;
    int tornTails = 0;
    for (int round = 0; round < ROUNDS; round++) {
      ChildRun run = runAndKill(random.nextLong(), 30 + random.nextInt(400));
      assertTrue(run.ready >= maxSynced,
          "round " + round + ": child recovered " + run.ready + " < synced " + maxSynced);
      maxSynced = Math.max(maxSynced, run.maxSynced);
      int mode = random.nextInt(3);
      if (mode > 0 && run.mayDamageAfterWritten) {
        damageUnsyncedBytes(run, mode, random);
      }
      try (WriteAheadLog wal = WriteAheadLog.open(dir, new WriteAheadLog.Options(SEGMENT_BYTES))) {
        if (wal.tornTail().isPresent()) {
          tornTails++;
        }
        check(wal, maxSynced, round);
      }
    }
    System.out.println("WalCrashTest: " + ROUNDS + " rounds, " + maxSynced
        + " entries synced, " + tornTails + " torn tails recovered");
    assertTrue(maxSynced > 0, "the child never synced anything");
  }

  /** What one child reported before it was killed. */
  private static final class ChildRun {
    long ready = -1;
    long maxSynced;
    /** The last "written" line: no fsync covered anything after it. */
    String writtenFile;
    long writtenOffset;
    /** False when a compaction (which syncs unannounced) may have run after the last report. */
    boolean mayDamageAfterWritten;
  }

  private ChildRun runAndKill(long childSeed, int runMillis) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // The child reports into a file, read once it is dead: reading its stdout through a pipe
    // loses the last lines when the JDK closes the pipe on exit under a blocked reader
    // ("Stream closed"), and a lost "written" line would make us damage synced bytes.
    Path report = Files.createTempFile("walcrash", ".out");
    try {
      Process process = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1",
          "-cp", System.getProperty("java.class.path"), WalCrashChild.class.getName(),
          dir.toString(), Integer.toString(SEGMENT_BYTES), Long.toString(childSeed))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(report.toFile())
          .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (Files.size(report) == 0 && process.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Thread.sleep(runMillis);
      process.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "child did not die");
      return parse(Files.readAllLines(report, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(report);
    }
  }

  private static ChildRun parse(List<String> lines) {
    ChildRun run = new ChildRun();
    for (String line : lines) {
      if (!line.endsWith(".")) {
        break; // cut short by the kill
      }
      String[] words = line.substring(0, line.length() - 1).split(" ");
      switch (words[0]) {
        case "ready" -> run.ready = Long.parseLong(words[1]);
        case "synced" -> run.maxSynced = Long.parseLong(words[1]);
        case "written" -> {
          run.writtenFile = words[1];
          run.writtenOffset = Long.parseLong(words[2]);
          run.mayDamageAfterWritten = true;
        }
        case "compacting" -> run.mayDamageAfterWritten = false;
        default -> throw new AssertionError("unexpected child output: " + line);
      }
    }
    assertTrue(run.ready >= 0, "child never became ready; output: " + lines);
    return run;
  }

  /**
   * Damages only bytes that no fsync has covered: in the last segment, after the last
   * announced write (or after the header of a segment the child rolled into since).
   */
  private void damageUnsyncedBytes(ChildRun run, int mode, Random random) throws IOException {
    List<Path> segments = WalRecovery.segmentFiles(new RealDisk(), dir);
    Path last = segments.get(segments.size() - 1);
    long from = last.getFileName().toString().equals(run.writtenFile)
        ? run.writtenOffset : WalFormat.SEGMENT_HEADER_BYTES;
    ByteBuffer content = ByteBuffer.wrap(Files.readAllBytes(last));
    long to = WalFormat.endOfNonZero(content, (int) from);
    if (to <= from) {
      return; // nothing unsynced was written
    }
    try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
      if (mode == 1) {
        long cut = from + random.nextInt((int) (to - from));
        channel.write(ByteBuffer.allocate((int) (to - cut)), cut); // a lost suffix
      } else {
        // Sectors persisted out of order: a few never landed and still hold the zeros the
        // segment was pre-allocated with, while later ones (the end marker too) did.
        for (int i = 0; i < 2; i++) {
          long sector = (from + random.nextInt((int) (to - from))) / 512 * 512;
          long start = Math.max(sector, from); // the part before was synced by earlier batches
          channel.write(ByteBuffer.allocate((int) (Math.min(sector + 512, to) - start)), start);
        }
      }
    }
  }

  private static void check(WriteAheadLog wal, long maxSynced, int round) {
    var group = wal.recovered().get(1L);
    if (maxSynced == 0 && group == null) {
      return;
    }
    long index = group.compactedIndex();
    for (Entry entry : group.entries()) {
      index++;
      assertEquals(index, entry.index(), "round " + round);
      assertEquals(1, entry.term(), "round " + round);
      assertArrayEquals(WalCrashChild.data(index), entry.data(), "round " + round + " entry "
          + index);
    }
    assertTrue(index >= maxSynced, "round " + round + ": lost synced entries: log ends at "
        + index + ", child reported " + maxSynced + " synced");
    assertTrue(group.hardState().commit() >= maxSynced, "round " + round + ": commit "
        + group.hardState().commit() + " < synced " + maxSynced);
    assertTrue(group.hardState().commit() <= index);
  }
}
