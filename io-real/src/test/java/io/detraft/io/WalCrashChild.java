package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The process {@link WalCrashTest} kills. Appends batches of entries to group 1 forever and
 * tells its parent, on stdout, what it may treat as durable:
 *
 * <p>Each line ends with a period, so a line cut short by the kill is recognizable.
 *
 * <pre>
 * ready LAST             recovered up to LAST
 * written FILE OFFSET    bytes up to OFFSET of FILE are written (not yet synced)
 * synced LAST            entries up to LAST (and commit = LAST) are fsynced
 * compacting             a compaction (which syncs on its own) may be under way
 * </pre>
 */
public final class WalCrashChild {
  /** Entry content is a function of its index, so the parent can check every byte. */
  static byte[] data(long index) {
    byte[] data = new byte[(int) (index * 7 % 300)];
    for (int j = 0; j < data.length; j++) {
      data[j] = (byte) (index * 31 + j);
    }
    return data;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int segmentBytes = Integer.parseInt(args[1]);
    Random random = new Random(Long.parseLong(args[2]));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    try (WriteAheadLog wal = WriteAheadLog.open(dir, new WriteAheadLog.Options(segmentBytes))) {
      var group = wal.recovered().get(1L);
      long last = group == null ? 0 : group.compactedIndex() + group.entries().size();
      long compacted = group == null ? 0 : group.compactedIndex();
      out.println("ready " + last + ".");
      out.flush();
      for (int batch = 1; ; batch++) {
        int count = 1 + random.nextInt(20);
        List<Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          entries.add(Entry.normal(1, last + 1 + i, data(last + 1 + i)));
        }
        wal.append(1, entries);
        last += count;
        wal.saveHardState(1, new HardState(1, 1, last));
        wal.flush();
        out.println("written " + wal.currentSegment().getFileName() + " " + wal.writtenOffset()
            + ".");
        out.flush();
        wal.sync();
        out.println("synced " + last + ".");
        out.flush();
        if (batch % 40 == 0 && last - 200 > compacted) {
          out.println("compacting.");
          out.flush();
          compacted = last - 200;
          wal.compact(1, compacted, 1);
        }
      }
    }
  }
}
