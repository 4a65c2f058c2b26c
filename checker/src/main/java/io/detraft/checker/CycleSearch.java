package io.detraft.checker;

import static io.detraft.checker.AnomalyType.G0;
import static io.detraft.checker.AnomalyType.G1C;
import static io.detraft.checker.AnomalyType.G2_ITEM;
import static io.detraft.checker.AnomalyType.G_NONADJACENT;
import static io.detraft.checker.AnomalyType.G_SINGLE;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Finds and classifies dependency cycles (Elle, section 4): first the strongly connected
 * components of the whole graph; then, inside each, short cycles of each shape, the most
 * severe first.
 *
 * <p>Each component is searched in three tiers of edges: data dependencies only (ww, wr, rw),
 * then also process order, then also real-time order; in each tier, inside each component of
 * the tier's edges, for each of the shapes G0, G1c, G-single, G-nonadjacent, G2-item, as Elle
 * does: every class present is reported with one cycle, not only the most severe (a G0
 * component may also hold a G1c, a G-single and a G2-item cycle). A shape found in a lower
 * tier is not looked for again in a higher one: a G0-process cycle is reported only when the
 * component has no plain G0 cycle, and then it must use a process edge.
 *
 * <p>An edge whose mask has several kinds may play any of them; the search decides which
 * (e.g. the wr of a G1c seed edge) and path edges prefer ww, then wr, process, real-time, and
 * rw last, so that a cycle is named by its mildest reading. Searches for G0, G1c and G2-item
 * work inside sub-components, where a cycle through a seed edge always exists, and are linear.
 * G-single and G-nonadjacent searches may need a breadth-first search per rw edge; each such
 * search has a step budget, and the tiers whose searches ran out are reported.
 */
final class CycleSearch {
  /** Receives each cycle found: nodes T1..Tk and the edge from each to the next. */
  interface Sink {
    void cycle(int[] nodes, DependencyKind[] edges);
  }

  private static final int WW = DependencyKind.WW.bit();
  private static final int WR = DependencyKind.WR.bit();
  private static final int RW = DependencyKind.RW.bit();
  private static final int PROCESS = DependencyKind.PROCESS.bit();
  private static final int REALTIME = DependencyKind.REALTIME.bit();
  private static final int[] TIER_EXTRA = {0, PROCESS, PROCESS | REALTIME};
  private static final List<AnomalyType> SHAPES =
      List.of(G0, G1C, G_SINGLE, G_NONADJACENT, G2_ITEM);

  private final DependencyGraph graph;
  private final SccFinder finder;
  private final long maxSteps;
  /** Scratch, sized for the whole graph and reset per use: see {@link #clear()}. */
  private final int[] subLabel;
  private final int[] tierLabel;
  private final int[] topLabel;
  private int[] seen;
  private int[] parent;
  private int[] queue;
  private int stamp;
  private long steps;
  /** Per tier (data, +process, +real-time): whether a budgeted search there gave up. */
  private final boolean[] exhausted = new boolean[TIER_EXTRA.length];

  CycleSearch(DependencyGraph graph, long maxSteps) {
    this.graph = graph;
    this.finder = new SccFinder(graph);
    this.maxSteps = maxSteps;
    this.subLabel = new int[graph.nodeCount];
    this.tierLabel = new int[graph.nodeCount];
    this.topLabel = new int[graph.nodeCount];
    Arrays.fill(subLabel, -1);
    Arrays.fill(tierLabel, -1);
    Arrays.fill(topLabel, -1);
  }

  /**
   * The variants whose budgeted searches (G-single, G-nonadjacent) gave up somewhere: an
   * anomaly of that variant may have been missed, or reported as a weaker shape.
   */
  Set<AnomalyType.Variant> exhausted() {
    Set<AnomalyType.Variant> out = EnumSet.noneOf(AnomalyType.Variant.class);
    for (int tier = 0; tier < exhausted.length; tier++) {
      if (exhausted[tier]) {
        out.add(AnomalyType.Variant.values()[tier]);
      }
    }
    return out;
  }

  void run(Sink sink) {
    int all = WW | WR | RW | PROCESS | REALTIME;
    List<int[]> components =
        finder.components(SccFinder.allNodes(graph.nodeCount), null, 0, all);
    if (components.isEmpty()) {
      return;
    }
    // Per-state arrays for the G-nonadjacent search: 4 states per node.
    seen = new int[4 * graph.nodeCount];
    parent = new int[4 * graph.nodeCount];
    queue = new int[4 * graph.nodeCount];
    for (int c = 0; c < components.size(); c++) {
      for (int v : components.get(c)) {
        topLabel[v] = c;
      }
      searchComponent(components.get(c), c, sink);
    }
  }

  private void searchComponent(int[] component, int componentId, Sink sink) {
    Set<AnomalyType> found = EnumSet.noneOf(AnomalyType.class);
    for (int tier = 0; tier < TIER_EXTRA.length; tier++) {
      int extra = TIER_EXTRA[tier];
      // A cycle of this tier lies inside one component of the tier's edges: searching only
      // there keeps, say, the data-only searches out of a component that only process and
      // real-time edges hold together (and out of their budget).
      boolean whole = tier == TIER_EXTRA.length - 1;
      List<int[]> scopes = whole ? List.of(component)
          : finder.components(component, topLabel, componentId, WW | WR | RW | extra);
      for (int s = 0; s < scopes.size(); s++) {
        for (int v : scopes.get(s)) {
          tierLabel[v] = whole ? -1 : s;
        }
      }
      for (int s = 0; s < scopes.size(); s++) {
        int[] label = whole ? topLabel : tierLabel;
        int labelId = whole ? componentId : s;
        searchScope(scopes.get(s), label, labelId, extra, tier, found, sink);
      }
      for (int[] scope : scopes) {
        for (int v : scope) {
          tierLabel[v] = -1;
        }
      }
    }
  }

  private void searchScope(int[] scope, int[] label, int labelId, int extra, int tier,
      Set<AnomalyType> found, Sink sink) {
    for (AnomalyType shape : SHAPES) {
      if (found.contains(shape)) {
        continue;
      }
      Cycle cycle = switch (shape) {
        case G0 -> viaSubComponent(scope, label, labelId, WW | extra, 0);
        case G1C -> viaSubComponent(scope, label, labelId, WW | WR | extra, WR);
        case G_SINGLE -> single(scope, label, labelId, WW | WR | extra, tier);
        case G_NONADJACENT -> nonadjacent(scope, label, labelId, WW | WR | extra, tier);
        default -> viaSubComponent(scope, label, labelId, WW | WR | RW | extra, RW);
      };
      // The G2-item search takes any cycle through an rw edge, which may turn out to have a
      // single rw edge: like Elle, report it only under a class not reported here yet.
      if (cycle != null) {
        cycle = simple(cycle);
      }
      if (cycle != null && found.add(classify(cycle.edges).base())) {
        sink.cycle(cycle.nodes, cycle.edges);
      }
    }
  }

  /** The name of a cycle from the roles of its edges. */
  static AnomalyType classify(DependencyKind[] edges) {
    int rw = 0;
    boolean wr = false;
    boolean adjacentRw = false;
    boolean process = false;
    boolean realtime = false;
    for (int i = 0; i < edges.length; i++) {
      DependencyKind kind = edges[i];
      rw += kind == DependencyKind.RW ? 1 : 0;
      wr |= kind == DependencyKind.WR;
      process |= kind == DependencyKind.PROCESS;
      realtime |= kind == DependencyKind.REALTIME;
      adjacentRw |= kind == DependencyKind.RW
          && edges[(i + 1) % edges.length] == DependencyKind.RW;
    }
    AnomalyType base = rw == 0 ? (wr ? G1C : G0)
        : rw == 1 ? G_SINGLE : adjacentRw ? G2_ITEM : G_NONADJACENT;
    AnomalyType.Variant variant = realtime ? AnomalyType.Variant.REALTIME
        : process ? AnomalyType.Variant.PROCESS : AnomalyType.Variant.NONE;
    return AnomalyType.cycle(base, variant);
  }

  /** A cycle, rotated to start at its lowest-numbered (earliest invoked) transaction. */
  private record Cycle(int[] nodes, DependencyKind[] edges) {
    Cycle {
      int first = 0;
      for (int i = 1; i < nodes.length; i++) {
        first = nodes[i] < nodes[first] ? i : first;
      }
      int[] rotatedNodes = new int[nodes.length];
      DependencyKind[] rotatedEdges = new DependencyKind[edges.length];
      for (int i = 0; i < nodes.length; i++) {
        rotatedNodes[i] = nodes[(first + i) % nodes.length];
        rotatedEdges[i] = edges[(first + i) % edges.length];
      }
      nodes = rotatedNodes;
      edges = rotatedEdges;
    }
  }

  /**
   * A cycle inside a sub-component of the edges {@code allowed}: through a seed edge whose
   * mask has {@code seedKind} (the seed plays that role), or any cycle if seedKind is 0.
   */
  private Cycle viaSubComponent(int[] scope, int[] label, int labelId, int allowed,
      int seedKind) {
    List<int[]> subs = finder.components(scope, label, labelId, allowed);
    try {
      for (int s = 0; s < subs.size(); s++) {
        for (int v : subs.get(s)) {
          subLabel[v] = s;
        }
      }
      for (int s = 0; s < subs.size(); s++) {
        for (int u : subs.get(s)) {
          for (int e = graph.start(u); e < graph.end(u); e++) {
            int v = graph.target(e);
            boolean seed = seedKind == 0 ? (graph.mask(e) & allowed) != 0
                : (graph.mask(e) & seedKind) != 0;
            if (!seed || subLabel[v] != s) {
              continue;
            }
            DependencyKind role = seedKind == 0 ? roleOf(graph.mask(e) & allowed)
                : kindOf(seedKind);
            Cycle cycle = closeCycle(u, v, role, allowed, subLabel, s, Long.MAX_VALUE);
            if (cycle != null) {
              return cycle;
            }
          }
        }
      }
      return null;
    } finally {
      for (int[] sub : subs) {
        for (int v : sub) {
          subLabel[v] = -1;
        }
      }
    }
  }

  /** A cycle with exactly one rw edge: an rw edge u -> v and a path v ~> u without rw. */
  private Cycle single(int[] scope, int[] label, int labelId, int dependencies, int tier) {
    // Cheap first: rw edges inside one sub-component of the dependency edges.
    List<int[]> subs = finder.components(scope, label, labelId, dependencies);
    try {
      for (int s = 0; s < subs.size(); s++) {
        for (int v : subs.get(s)) {
          subLabel[v] = s;
        }
      }
      for (int u : scope) {
        for (int e = graph.start(u); e < graph.end(u); e++) {
          int v = graph.target(e);
          if ((graph.mask(e) & RW) != 0 && subLabel[u] >= 0 && subLabel[v] == subLabel[u]) {
            return closeCycle(u, v, DependencyKind.RW, dependencies, subLabel, subLabel[u],
                Long.MAX_VALUE);
          }
        }
      }
    } finally {
      for (int[] sub : subs) {
        for (int v : sub) {
          subLabel[v] = -1;
        }
      }
    }
    // Then a breadth-first search per rw edge, across sub-components, on a budget.
    steps = 0;
    for (int u : scope) {
      for (int e = graph.start(u); e < graph.end(u); e++) {
        int v = graph.target(e);
        if ((graph.mask(e) & RW) == 0 || label[v] != labelId) {
          continue;
        }
        Cycle cycle = closeCycle(u, v, DependencyKind.RW, dependencies, label, labelId,
            maxSteps);
        if (cycle != null || steps >= maxSteps) {
          exhausted[tier] |= steps >= maxSteps;
          return cycle;
        }
      }
    }
    return null;
  }

  /**
   * The cycle {@code u -role-> v ~> u}, where the path is a shortest one over edges {@code
   * allowed} inside the nodes labelled {@code labelId}; null if there is none (or the budget
   * ran out). Path edges take their mildest role.
   */
  private Cycle closeCycle(int u, int v, DependencyKind role, int allowed, int[] label,
      int labelId, long budget) {
    stamp++;
    int head = 0;
    int tail = 0;
    queue[tail++] = v;
    seen[v] = stamp;
    parent[v] = -1;
    boolean reached = v == u;
    while (head < tail && !reached) {
      int x = queue[head++];
      for (int e = graph.start(x); e < graph.end(x); e++) {
        if (++steps > budget) {
          return null;
        }
        int y = graph.target(e);
        if ((graph.mask(e) & allowed) == 0 || label[y] != labelId || seen[y] == stamp) {
          continue;
        }
        seen[y] = stamp;
        parent[y] = x;
        queue[tail++] = y;
        if (y == u) {
          reached = true;
          break;
        }
      }
    }
    if (!reached) {
      return null;
    }
    int length = 1;
    for (int x = u; x != v; x = parent[x]) {
      length++;
    }
    int[] nodes = new int[length];
    DependencyKind[] edges = new DependencyKind[length];
    nodes[0] = u;
    edges[0] = role;
    int i = length - 1;
    for (int x = u; x != v; x = parent[x], i--) {
      nodes[i] = parent[x];
      edges[i] = roleOf(graph.mask(parent[x], x) & allowed);
    }
    return new Cycle(nodes, edges);
  }

  /**
   * A cycle with at least two rw edges, no two adjacent: an rw edge u -> v, then a path v ~> u
   * that starts and ends with a non-rw edge, holds at least one rw edge and never two in a
   * row. Breadth-first over states (node, last edge was rw, has seen rw).
   */
  private Cycle nonadjacent(int[] scope, int[] label, int labelId, int dependencies,
      int tier) {
    steps = 0;
    int allowed = dependencies | RW;
    for (int u : scope) {
      for (int e = graph.start(u); e < graph.end(u); e++) {
        int v = graph.target(e);
        if ((graph.mask(e) & RW) == 0 || label[v] != labelId) {
          continue;
        }
        stamp++;
        int head = 0;
        int tail = 0;
        int start = state(v, true, false);
        queue[tail++] = start;
        seen[start] = stamp;
        int goal = state(u, false, true);
        while (head < tail && seen[goal] != stamp) {
          int s = queue[head++];
          int x = s >>> 2;
          boolean lastRw = (s & 2) != 0;
          boolean hasRw = (s & 1) != 0;
          for (int f = graph.start(x); f < graph.end(x); f++) {
            if (++steps > maxSteps) {
              exhausted[tier] = true;
              return null;
            }
            int y = graph.target(f);
            int mask = graph.mask(f) & allowed;
            if (mask == 0 || label[y] != labelId) {
              continue;
            }
            if ((mask & dependencies) != 0) {
              tail = enqueue(state(y, false, hasRw), s, tail);
            }
            if ((mask & RW) != 0 && !lastRw) {
              tail = enqueue(state(y, true, true), s, tail);
            }
          }
        }
        if (seen[goal] == stamp) {
          return nonadjacentCycle(u, v, goal, start, dependencies);
        }
      }
    }
    return null;
  }

  /**
   * A simple cycle inside a closed walk that has no two (cyclically) adjacent rw edges, with
   * that property still. The G-nonadjacent search walks over states, so its walk may pass a
   * transaction twice. Cut at a repeated transaction, the walk falls into two closed walks;
   * the two new junctions cannot both join rw to rw (in the whole walk those four edges
   * would have given two adjacent rw edges), so one part keeps the property. Repeat.
   * Other searches give simple cycles, returned as they are.
   */
  private static Cycle simple(Cycle walk) {
    int[] nodes = walk.nodes;
    DependencyKind[] edges = walk.edges;
    while (true) {
      int first = -1;
      int second = -1;
      for (int i = 0; i < nodes.length && first < 0; i++) {
        for (int j = i + 1; j < nodes.length && first < 0; j++) {
          if (nodes[i] == nodes[j]) {
            first = i;
            second = j;
          }
        }
      }
      if (first < 0) {
        return new Cycle(nodes, edges);
      }
      // Part a: nodes[first..second-1]; part b: nodes[second..] + nodes[..first-1].
      int[] a = Arrays.copyOfRange(nodes, first, second);
      DependencyKind[] aEdges = Arrays.copyOfRange(edges, first, second);
      int[] b = new int[nodes.length - a.length];
      DependencyKind[] bEdges = new DependencyKind[b.length];
      for (int i = 0; i < b.length; i++) {
        b[i] = nodes[(second + i) % nodes.length];
        bEdges[i] = edges[(second + i) % nodes.length];
      }
      boolean aKeeps = !adjacentRw(aEdges);
      nodes = aKeeps ? a : b;
      edges = aKeeps ? aEdges : bEdges;
    }
  }

  private static boolean adjacentRw(DependencyKind[] edges) {
    for (int i = 0; i < edges.length; i++) {
      if (edges[i] == DependencyKind.RW && edges[(i + 1) % edges.length] == DependencyKind.RW) {
        return true;
      }
    }
    return false;
  }

  /** Queues {@code state}, reached from {@code from}, unless seen; returns the new tail. */
  private int enqueue(int state, int from, int tail) {
    if (seen[state] == stamp) {
      return tail;
    }
    seen[state] = stamp;
    parent[state] = from;
    queue[tail] = state;
    return tail + 1;
  }

  private static int state(int node, boolean lastRw, boolean hasRw) {
    return node << 2 | (lastRw ? 2 : 0) | (hasRw ? 1 : 0);
  }

  private Cycle nonadjacentCycle(int u, int v, int goal, int start, int dependencies) {
    int length = 1;
    for (int s = goal; s != start; s = parent[s]) {
      length++;
    }
    int[] nodes = new int[length];
    DependencyKind[] edges = new DependencyKind[length];
    nodes[0] = u;
    edges[0] = DependencyKind.RW;
    int i = length - 1;
    for (int s = goal; s != start; s = parent[s], i--) {
      int from = parent[s] >>> 2;
      nodes[i] = from;
      // The state records whether the edge into it played rw.
      edges[i] = (s & 2) != 0 ? DependencyKind.RW
          : roleOf(graph.mask(from, s >>> 2) & dependencies);
    }
    if (nodes[0] != u || (length > 1 && nodes[1] != v)) {
      throw new IllegalStateException("G-nonadjacent path does not start at the seed edge");
    }
    return new Cycle(nodes, edges);
  }

  /** The mildest role of an edge: ww, then wr, process, real-time, rw. */
  private static DependencyKind roleOf(int mask) {
    if ((mask & WW) != 0) {
      return DependencyKind.WW;
    } else if ((mask & WR) != 0) {
      return DependencyKind.WR;
    } else if ((mask & PROCESS) != 0) {
      return DependencyKind.PROCESS;
    } else if ((mask & REALTIME) != 0) {
      return DependencyKind.REALTIME;
    } else if ((mask & RW) != 0) {
      return DependencyKind.RW;
    }
    throw new IllegalStateException("empty edge mask");
  }

  private static DependencyKind kindOf(int bit) {
    return DependencyKind.values()[Integer.numberOfTrailingZeros(bit)];
  }
}
