package io.detraft.core;

/** What a log entry carries. */
public enum EntryType {
  /** Application data, or empty: the no-op a new leader appends to commit its term. */
  NORMAL,
  /** A membership change. */
  CONFIG_CHANGE
}
