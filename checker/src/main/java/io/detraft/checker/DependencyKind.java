package io.detraft.checker;

/**
 * Why one transaction must precede another in every serial order that explains a history
 * (Adya's dependencies, plus Elle's process and real-time orders).
 */
public enum DependencyKind {
  /** Write-write: T2 overwrote (appended after) a version T1 installed. */
  WW("ww"),
  /** Write-read: T2 read a version T1 installed. */
  WR("wr"),
  /** Read-write (anti-dependency): T1 read a version that T2's write later replaced. */
  RW("rw"),
  /** Process order: the same process ran T1, then T2. */
  PROCESS("process"),
  /** Real-time order: T1 completed before T2 was invoked. */
  REALTIME("rt");

  private final String shortName;

  DependencyKind(String shortName) {
    this.shortName = shortName;
  }

  /** The name in explanations: {@code ww}, {@code wr}, {@code rw}, {@code process}, {@code rt}. */
  public String shortName() {
    return shortName;
  }

  /** One bit per kind, for edge masks. */
  int bit() {
    return 1 << ordinal();
  }
}
