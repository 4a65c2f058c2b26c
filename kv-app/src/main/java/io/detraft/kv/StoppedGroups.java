package io.detraft.kv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The groups whose replica an operator stopped on this node ({@code DELETE /v1/groups/G}),
 * kept in {@code stopped-groups} in the data directory: a stop is the operator's decision,
 * so it outlives a restart of the process until {@code POST /v1/groups} starts the replica
 * again. One group id per line; written to a temporary file, synced and renamed.
 */
final class StoppedGroups {
  static final String FILE = "stopped-groups";

  private final Path dataDir;
  private final TreeSet<Long> stopped = new TreeSet<>();

  private StoppedGroups(Path dataDir) {
    this.dataDir = dataDir;
  }

  static StoppedGroups load(Path dataDir) {
    StoppedGroups groups = new StoppedGroups(dataDir);
    Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      try {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.isBlank() && !line.startsWith("#")) {
            groups.stopped.add(Long.parseLong(line.strip()));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      } catch (NumberFormatException e) {
        throw new IllegalStateException(file + " is damaged: " + e.getMessage()
            + " (one group id per line)");
      }
    }
    return groups;
  }

  synchronized boolean contains(long group) {
    return stopped.contains(group);
  }

  /** Records {@code group} as stopped (durably) before the replica stops. */
  synchronized void add(long group) {
    if (stopped.add(group)) {
      write();
    }
  }

  /** Records {@code group} as running again (durably). */
  synchronized void remove(long group) {
    if (stopped.remove(group)) {
      write();
    }
  }

  synchronized List<Long> list() {
    return new ArrayList<>(stopped);
  }

  private void write() {
    StringBuilder text = new StringBuilder("# groups stopped on this node (DELETE /v1/groups/G)\n");
    for (long g : stopped) {
      text.append(g).append('\n');
    }
    try {
      DurableFiles.replace(dataDir.resolve(FILE), text.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
    }
  }
}
