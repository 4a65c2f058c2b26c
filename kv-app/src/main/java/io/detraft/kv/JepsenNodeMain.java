package io.detraft.kv;

/**
 * How {@code detraft test} starts a server: {@link Main} with a watchdog that halts the JVM
 * once the test process is gone, so a test killed with SIGKILL leaves no server behind.
 */
final class JepsenNodeMain {
  /** System property: the pid of the test process to watch. */
  static final String PARENT_PROPERTY = "detraft.jepsen.parent";

  private JepsenNodeMain() {}

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
