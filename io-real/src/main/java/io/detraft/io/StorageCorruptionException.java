package io.detraft.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Durable data failed its checks where a crash cannot explain it, so using it could lose or
 * invent committed state. The node must not start; an operator decides (restore the file, or
 * wipe this replica and let it catch up from its peers).
 */
public final class StorageCorruptionException extends IOException {
  private final Path file;
  private final long offset;

  public StorageCorruptionException(Path file, long offset, String reason) {
    super(file + " at offset " + offset + ": " + reason);
    this.file = file;
    this.offset = offset;
  }

  /** The damaged file. */
  public Path file() {
    return file;
  }

  /** The byte offset in {@link #file()} where the damage starts. */
  public long offset() {
    return offset;
  }
}
