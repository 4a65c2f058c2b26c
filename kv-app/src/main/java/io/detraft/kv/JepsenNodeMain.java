package io.detraft.kv;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@code detraft test} and {@code detraft bench --against} start a server: {@link Main}
 * with a watchdog that halts the JVM once the process that started it is gone, so a run
 * killed with SIGKILL leaves no server behind.
 */
final class JepsenNodeMain {
  /** System property: the pid of the test process to watch. */
  static final String PARENT_PROPERTY = "detraft.jepsen.parent";

  private JepsenNodeMain() {}

  /**
   * The command that starts a server from this JVM (its java and class path), watching this
   * process: {@code jvmFlags}, then what Chronicle Map needs (as the launcher gives it), up to
   * the main class; the caller adds the server's arguments.
   */
  static List<String> command(List<String> jvmFlags) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of(
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true",
        "-D" + PARENT_PROPERTY + "=" + ProcessHandle.current().pid(),
        "-cp", System.getProperty("java.class.path"), JepsenNodeMain.class.getName()));
    return cmd;
  }

  public static void main(String[] args) {
    String parent = System.getProperty(PARENT_PROPERTY);
    if (parent != null) {
      long pid = Long.parseLong(parent);
      Thread watchdog = new Thread(() -> {
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
        }
        Runtime.getRuntime().halt(3);
      }, "detraft-test-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    if (PlantedBug.STALE_READS) {
      System.err.println("detraft: PLANTED BUG: linearizable reads are served without ReadIndex");
    }
    Main.main(args);
  }
}
