package io.detraft.checker;

import static io.detraft.checker.DependencyKind.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The graph layer alone: components, and which cycle each shape search finds. */
class CycleSearchTest {
  private record Found(int[] nodes, DependencyKind[] edges) {
    AnomalyType type() {
      return CycleSearch.classify(edges);
    }
  }

  private static List<Found> search(int n, long budget, Object... edges) {
    DependencyGraph.Builder builder = new DependencyGraph.Builder(n);
    for (int i = 0; i < edges.length; i += 3) {
      builder.add((Integer) edges[i], (Integer) edges[i + 2], (DependencyKind) edges[i + 1]);
    }
    List<Found> found = new ArrayList<>();
    new CycleSearch(builder.build(), budget).run((nodes, kinds) ->
        found.add(new Found(nodes, kinds)));
    return found;
  }

  @Test
  void parallelEdgesMergeAndSelfEdgesDrop() {
    DependencyGraph.Builder builder = new DependencyGraph.Builder(3);
    builder.add(0, 1, WW);
    builder.add(0, 1, RW);
    builder.add(2, 2, WW);
    builder.add(0, 2, REALTIME);
    DependencyGraph graph = builder.build();
    assertEquals(2, graph.edgeCount());
    assertEquals(WW.bit() | RW.bit(), graph.mask(0, 1));
    assertEquals(0, graph.mask(2, 2));
    assertEquals(0, graph.mask(1, 0));
  }

  @Test
  void componentsOfALongChainDoNotOverflowTheStack() {
    int n = 200_000;
    DependencyGraph.Builder builder = new DependencyGraph.Builder(n);
    for (int i = 0; i + 1 < n; i++) {
      builder.add(i, i + 1, WW);
    }
    builder.add(n - 1, 0, WW);
    DependencyGraph graph = builder.build();
    List<int[]> components = new SccFinder(graph)
        .components(SccFinder.allNodes(n), null, 0, WW.bit());
    assertEquals(1, components.size());
    assertEquals(n, components.get(0).length);
  }

  @Test
  void findsTheMostSevereShapesOfAComponent() {
    // 0 ww-> 1 ww-> 0 (G0), and 1 rw-> 2 wr-> 1 (G-single), all one component.
    List<Found> found = search(3, 1000, 0, WW, 1, 1, WW, 0, 1, RW, 2, 2, WR, 1);
    assertEquals(2, found.size());
    assertEquals(AnomalyType.G0, found.get(0).type());
    assertArrayEquals(new int[] {0, 1}, found.get(0).nodes());
    assertEquals(AnomalyType.G_SINGLE, found.get(1).type());
    assertArrayEquals(new int[] {1, 2}, found.get(1).nodes());
    assertArrayEquals(new DependencyKind[] {RW, WR}, found.get(1).edges());
  }

  @Test
  void anEdgeOfSeveralKindsPlaysEachRole() {
    // 0 -> 1 is both ww and rw: with 1 ww-> 0 it closes a G0, and also a G-single.
    List<Found> found = search(2, 1000, 0, WW, 1, 0, RW, 1, 1, WW, 0);
    assertEquals(2, found.size());
    assertEquals(AnomalyType.G0, found.get(0).type());
    assertArrayEquals(new DependencyKind[] {WW, WW}, found.get(0).edges());
    assertEquals(AnomalyType.G_SINGLE, found.get(1).type());
    assertArrayEquals(new DependencyKind[] {RW, WW}, found.get(1).edges());
  }

  @Test
  void nonadjacentNeedsAlternation() {
    // 0 rw-> 1 wr-> 2 rw-> 3 ww-> 0: G-nonadjacent. 0 rw-> 4 rw-> 0 also: adjacent, G2-item,
    // implied by the G-nonadjacent in the same component and so not reported.
    List<Found> found = search(5, 1000, 0, RW, 1, 1, WR, 2, 2, RW, 3, 3, WW, 0,
        0, RW, 4, 4, RW, 0);
    assertEquals(1, found.size(), () -> found.get(1).type().toString());
    assertEquals(AnomalyType.G_NONADJACENT, found.get(0).type());
    assertArrayEquals(new int[] {0, 1, 2, 3}, found.get(0).nodes());
  }

  @Test
  void processAndRealtimeVariantsOnlyWhenNeeded() {
    // 0 rw-> 1, 1 process-> 0: G-single-process; 2 ww-> 3 rt-> 2: G0-realtime.
    List<Found> found = search(4, 1000, 0, RW, 1, 1, PROCESS, 0, 2, WW, 3, 3, REALTIME, 2,
        1, REALTIME, 0);
    assertEquals(2, found.size());
    assertEquals(AnomalyType.G_SINGLE_PROCESS, found.get(0).type());
    assertEquals(AnomalyType.G0_REALTIME, found.get(1).type());
  }

  @Test
  void aSmallBudgetFallsBackToAWeakerShape() {
    // 0 rw-> 1 wr-> 0 is a G-single, found only by breadth-first search; also 0 rw-> 2 rw-> 0.
    List<Found> full = search(3, 1000, 0, RW, 1, 1, WR, 0, 0, RW, 2, 2, RW, 0);
    assertEquals(AnomalyType.G_SINGLE, full.get(0).type());
    assertEquals(1, full.size());
    DependencyGraph.Builder builder = new DependencyGraph.Builder(3);
    builder.add(0, 1, RW);
    builder.add(1, 0, WR);
    builder.add(0, 2, RW);
    builder.add(2, 0, RW);
    CycleSearch search = new CycleSearch(builder.build(), 1);
    List<AnomalyType> types = new ArrayList<>();
    search.run((nodes, edges) -> types.add(CycleSearch.classify(edges)));
    assertFalse(search.exhausted().isEmpty());
    assertTrue(types.contains(AnomalyType.G2_ITEM) || types.contains(AnomalyType.G_SINGLE),
        types::toString);
  }
}
