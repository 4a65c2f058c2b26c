package io.detraft.checker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tarjan's strongly connected components, iterative (a recursive version would overflow the
 * stack on a long chain of a million transactions), over a subgraph: only the given nodes, and
 * only edges whose mask shares a bit with {@code allowed}. The scratch arrays are sized for the
 * whole graph once and reset after each call, so the many small searches inside one component
 * cost in proportion to that component, not to the graph.
 */
final class SccFinder {
  private final DependencyGraph graph;
  private final int[] index;
  private final int[] low;
  private final boolean[] onStack;
  private final int[] stack;
  private final int[] callNode;
  private final int[] callEdge;
  private final int[] visited;

  SccFinder(DependencyGraph graph) {
    int n = graph.nodeCount;
    this.graph = graph;
    this.index = new int[n];
    this.low = new int[n];
    this.onStack = new boolean[n];
    this.stack = new int[n];
    this.callNode = new int[n];
    this.callEdge = new int[n];
    this.visited = new int[n];
    Arrays.fill(index, -1);
  }

  /**
   * The components of more than one node, each as an array of its nodes.
   *
   * @param nodes the nodes of the subgraph
   * @param scope if not null, a node {@code w} is in the subgraph only if {@code scope[w] ==
   *     scopeId}; {@code nodes} must all be in it
   * @param allowed the edge kinds the subgraph keeps (a mask of {@link DependencyKind} bits)
   */
  List<int[]> components(int[] nodes, int[] scope, int scopeId, int allowed) {
    List<int[]> components = new ArrayList<>();
    int counter = 0;
    int visitedCount = 0;
    int stackSize = 0;
    for (int root : nodes) {
      if (index[root] != -1) {
        continue;
      }
      int depth = 0;
      index[root] = low[root] = counter++;
      visited[visitedCount++] = root;
      stack[stackSize++] = root;
      onStack[root] = true;
      callNode[depth] = root;
      callEdge[depth++] = graph.start(root);
      while (depth > 0) {
        int v = callNode[depth - 1];
        int e = callEdge[depth - 1];
        if (e < graph.end(v)) {
          callEdge[depth - 1]++;
          if ((graph.mask(e) & allowed) == 0) {
            continue;
          }
          int w = graph.target(e);
          if (scope != null && scope[w] != scopeId) {
            continue;
          }
          if (index[w] == -1) {
            index[w] = low[w] = counter++;
            visited[visitedCount++] = w;
            stack[stackSize++] = w;
            onStack[w] = true;
            callNode[depth] = w;
            callEdge[depth++] = graph.start(w);
          } else if (onStack[w]) {
            low[v] = Math.min(low[v], index[w]);
          }
          continue;
        }
        depth--;
        if (depth > 0) {
          int parent = callNode[depth - 1];
          low[parent] = Math.min(low[parent], low[v]);
        }
        if (low[v] == index[v]) {
          int bottom = stackSize;
          do {
            bottom--;
            onStack[stack[bottom]] = false;
          } while (stack[bottom] != v);
          if (stackSize - bottom > 1) {
            int[] component = Arrays.copyOfRange(stack, bottom, stackSize);
            Arrays.sort(component);
            components.add(component);
          }
          stackSize = bottom;
        }
      }
    }
    for (int i = 0; i < visitedCount; i++) {
      index[visited[i]] = -1;
    }
    return components;
  }

  /** All nodes 0..n-1, for a search over the whole graph. */
  static int[] allNodes(int n) {
    int[] nodes = new int[n];
    Arrays.setAll(nodes, i -> i);
    return nodes;
  }
}
