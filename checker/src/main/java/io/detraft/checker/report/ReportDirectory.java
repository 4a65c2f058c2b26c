package io.detraft.checker.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The directory a {@code --report DIR} flag names, shared by every command that writes a
 * report (check, sim, bench). It is created if missing; a path that is a file, or a directory
 * this process cannot write, is refused with a message that says which and why. A report that
 * cannot be written never changes a run's verdict: callers print the message and go on.
 */
public final class ReportDirectory {
  private final Path dir;

  private ReportDirectory(Path dir) {
    this.dir = dir;
  }

  /** Why a report could not be written, in words fit for the command line. */
  public static final class ReportException extends Exception {
    public ReportException(String message) {
      super(message);
    }
  }

  /**
   * Checks (and creates) {@code path} before a run, so a bad path is reported at once rather
   * than after minutes of work. Probes writability with a real file: permission bits lie for
   * root and on read-only mounts.
   */
  public static ReportDirectory prepare(String path) throws ReportException {
    Path dir = Path.of(path);
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ReportException("report directory " + path + " is a file, not a directory");
    }
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw new ReportException("report directory " + path + " is a file, not a directory");
    } catch (IOException e) {
      throw new ReportException("cannot create report directory " + path + ": " + reason(e));
    }
    try {
      Path probe = Files.createTempFile(dir, ".probe-", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      throw new ReportException("report directory " + path + " is not writable: " + reason(e));
    }
    return new ReportDirectory(dir);
  }

  public Path path() {
    return dir;
  }

  /** Writes {@code name} in the directory (replacing it); returns its path. */
  public Path write(String name, String text) throws ReportException {
    return write(name, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code name} in the directory (replacing it); returns its path. */
  public Path write(String name, byte[] bytes) throws ReportException {
    Path file = dir.resolve(name);
    try {
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new ReportException("cannot write " + file + ": " + reason(e));
    }
    return file;
  }

  private static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
