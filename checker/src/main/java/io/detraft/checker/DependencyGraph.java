package io.detraft.checker;

import java.util.Arrays;

/**
 * A directed graph over transactions 0..n-1 whose edges carry a mask of {@link
 * DependencyKind} bits; parallel edges are merged by or-ing their masks. Built once, then
 * read-only, stored in compressed-sparse-row form: the targets of {@code v} are {@code
 * target(e)} for {@code e} in {@code start(v) .. start(v+1)-1}, in increasing order.
 *
 * <p>Int arrays instead of edge objects: realistic histories give several edges per
 * transaction and we check millions of transactions.
 */
final class DependencyGraph {
  /** Each edge packs its target and its mask as {@code target << KIND_BITS | mask}. */
  private static final int KIND_BITS = 5;
  private static final int KIND_MASK = (1 << KIND_BITS) - 1;
  static final int MAX_NODES = 1 << (31 - KIND_BITS);

  final int nodeCount;
  private final int[] start;
  private final int[] packed;

  private DependencyGraph(int nodeCount, int[] start, int[] packed) {
    this.nodeCount = nodeCount;
    this.start = start;
    this.packed = packed;
  }

  int start(int node) {
    return start[node];
  }

  int end(int node) {
    return start[node + 1];
  }

  int target(int edge) {
    return packed[edge] >>> KIND_BITS;
  }

  int mask(int edge) {
    return packed[edge] & KIND_MASK;
  }

  int edgeCount() {
    return start[nodeCount];
  }

  /** The mask of the edge from {@code from} to {@code to}, or 0 if there is none. */
  int mask(int from, int to) {
    int lo = start[from];
    int hi = start[from + 1] - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int t = target(mid);
      if (t == to) {
        return mask(mid);
      } else if (t < to) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return 0;
  }

  /** Collects edges in any order; {@link #build()} sorts and merges them. */
  static final class Builder {
    private final int nodeCount;
    private int[] from = new int[1024];
    private int[] packedTo = new int[1024];
    private int size;

    Builder(int nodeCount) {
      if (nodeCount > MAX_NODES) {
        throw new IllegalArgumentException("at most " + MAX_NODES + " transactions, got "
            + nodeCount);
      }
      this.nodeCount = nodeCount;
    }

    /** Adds an edge; self-edges are dropped (a transaction never depends on itself). */
    void add(int source, int target, DependencyKind kind) {
      if (source == target) {
        return;
      }
      if (size == from.length) {
        from = Arrays.copyOf(from, size * 2);
        packedTo = Arrays.copyOf(packedTo, size * 2);
      }
      from[size] = source;
      packedTo[size] = target << KIND_BITS | kind.bit();
      size++;
    }

    /** How many edges were added so far (before merging). */
    int size() {
      return size;
    }

    /** The source of the {@code i}-th edge added. */
    int sourceAt(int i) {
      return from[i];
    }

    DependencyGraph build() {
      // Counting sort by source, then sort each adjacency list and merge equal targets.
      int[] start = new int[nodeCount + 1];
      for (int i = 0; i < size; i++) {
        start[from[i] + 1]++;
      }
      for (int v = 0; v < nodeCount; v++) {
        start[v + 1] += start[v];
      }
      int[] fill = Arrays.copyOf(start, nodeCount);
      int[] packed = new int[size];
      for (int i = 0; i < size; i++) {
        packed[fill[from[i]]++] = packedTo[i];
      }
      from = null;
      packedTo = null;
      int out = 0;
      int[] merged = new int[nodeCount + 1];
      for (int v = 0; v < nodeCount; v++) {
        int lo = start[v];
        int hi = start[v + 1];
        Arrays.sort(packed, lo, hi);
        merged[v] = out;
        for (int e = lo; e < hi; e++) {
          int target = packed[e] >>> KIND_BITS;
          if (out > merged[v] && (packed[out - 1] >>> KIND_BITS) == target) {
            packed[out - 1] |= packed[e] & KIND_MASK;
          } else {
            packed[out++] = packed[e];
          }
        }
      }
      merged[nodeCount] = out;
      return new DependencyGraph(nodeCount, merged, Arrays.copyOf(packed, out));
    }
  }
}
