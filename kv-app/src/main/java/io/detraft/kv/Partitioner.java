package io.detraft.kv;

import java.util.zip.CRC32C;

/**
 * Keys to groups: CRC32C of the key bytes, modulo the group count, plus one (group ids start
 * at 1). The count is fixed when the cluster is created; every node and client computes the
 * same group for a key.
 *
 * <p>Hash tags, as in Redis Cluster: if a key contains {@code {...}} with something between the
 * braces, only that part is hashed, so {@code {user7}:name} and {@code {user7}:cart} share a
 * group and may meet in one transaction.
 */
public final class Partitioner {
  /** Groups of a new cluster unless told otherwise. */
  public static final int DEFAULT_GROUPS = 8;

  private final int groups;

  public Partitioner(int groups) {
    if (groups < 1 || groups > 1024) {
      throw new IllegalArgumentException("groups must be 1 to 1024: " + groups);
    }
    this.groups = groups;
  }

  public int groups() {
    return groups;
  }

  /** The group of {@code key}, in {@code [1, groups]}. */
  public long groupOf(byte[] key) {
    int from = 0;
    int to = key.length;
    int open = indexOf(key, (byte) '{', 0);
    if (open >= 0) {
      int close = indexOf(key, (byte) '}', open + 1);
      if (close > open + 1) {
        from = open + 1;
        to = close;
      }
    }
    CRC32C crc = new CRC32C();
    crc.update(key, from, to - from);
    return crc.getValue() % groups + 1;
  }

  private static int indexOf(byte[] b, byte c, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }
}
