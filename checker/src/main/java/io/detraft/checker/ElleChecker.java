package io.detraft.checker;

import java.util.Objects;

/**
 * Elle-style transactional anomaly detection (Kingsbury and Alvaro, "Elle: Inferring
 * Isolation Anomalies from Experimental Observations", VLDB 2020) for list-append and
 * rw-register histories in the shape of {@link Txn}.
 *
 * <p>From what the transactions read, the checker infers each key's version order and the
 * dependencies between transactions (ww, wr, rw), adds the process and real-time orders, and
 * looks for cycles (strongly connected components, then a short cycle of each kind inside),
 * which no serial order can explain. It also reports what needs no cycle: aborted and
 * intermediate reads, internal inconsistencies, garbage and duplicate reads, incompatible
 * orders, dirty and lost updates. Each anomaly rules out some {@link ConsistencyModel}s; the
 * history is invalid if one of them is the model asked for.
 *
 * <p>A simulator records transactions with a {@link HistoryBuilder} (see {@link Txn}) and
 * calls {@code ElleChecker.checkListAppend(history, ConsistencyModel.STRICT_SERIALIZABLE)}.
 *
 * <p>Cost is about linear in the size of the history: it keeps a few ints per transaction
 * and micro-op, one hash entry per appended element, and the graph's edges (a handful per
 * transaction).
 */
public final class ElleChecker {
  private ElleChecker() {}

  /**
   * With {@code -Ddetraft.checker.stages=true}, each check prints how long its stages took
   * to stderr: for measuring, not for tests.
   */
  private static final boolean PRINT_STAGES = Boolean.getBoolean("detraft.checker.stages");

  private static long stage(String name, long startNanos) {
    long now = System.nanoTime();
    if (PRINT_STAGES) {
      System.err.printf(java.util.Locale.ROOT, "stage %-10s %7.3f s%n", name,
          (now - startNanos) / 1e9);
    }
    return now;
  }

  /** Checks a list-append history against {@code consistency}, default options. */
  public static ElleResult checkListAppend(History history, ConsistencyModel consistency) {
    return checkListAppend(history, ElleOptions.of(consistency));
  }

  /**
   * Checks a list-append history.
   *
   * @throws HistoryFormatException if an operation is not a well-formed list-append
   *     transaction, or an element is appended to a key twice
   */
  public static ElleResult checkListAppend(History history, ElleOptions options) {
    Objects.requireNonNull(history, "history");
    Objects.requireNonNull(options, "options");
    long start = System.nanoTime();
    Transactions txns = Transactions.parse(history, Transactions.Workload.LIST_APPEND);
    start = stage("flatten", start);
    Findings findings = new Findings(txns, options);
    ListAppendAnalysis analysis = new ListAppendAnalysis(txns, findings);
    start = stage("analysis", start);
    DependencyGraph.Builder graph = new DependencyGraph.Builder(txns.count);
    analysis.addEdges(graph);
    stage("edges", start);
    return finish(txns, graph, analysis, findings, options);
  }

  /** Checks an rw-register history against {@code consistency}, default options. */
  public static ElleResult checkRwRegister(History history, ConsistencyModel consistency) {
    return checkRwRegister(history, ElleOptions.of(consistency));
  }

  /**
   * Checks an rw-register history; see {@link ElleOptions} for the optional sequential-keys
   * and linearizable-keys assumptions.
   *
   * @throws HistoryFormatException if an operation is not a well-formed rw-register
   *     transaction, or a value is written to a key twice
   */
  public static ElleResult checkRwRegister(History history, ElleOptions options) {
    Objects.requireNonNull(history, "history");
    Objects.requireNonNull(options, "options");
    Transactions txns = Transactions.parse(history, Transactions.Workload.RW_REGISTER);
    Findings findings = new Findings(txns, options);
    RwRegisterAnalysis analysis = new RwRegisterAnalysis(txns, findings, options);
    DependencyGraph.Builder graph = new DependencyGraph.Builder(txns.count);
    analysis.addEdges(graph);
    return finish(txns, graph, analysis, findings, options);
  }

  private static ElleResult finish(Transactions txns, DependencyGraph.Builder builder,
      Findings.EdgeExplainer explainer, Findings findings, ElleOptions options) {
    long start = System.nanoTime();
    OrderEdges.addProcessOrder(txns, builder);
    OrderEdges.addRealtimeOrder(txns, builder);
    DependencyGraph graph = builder.build();
    start = stage("graph", start);
    CycleSearch search = new CycleSearch(graph, options.maxSearchSteps());
    search.run((nodes, edges) -> findings.cycle(nodes, edges, explainer));
    start = stage("cycles", start);
    ElleResult result = findings.result(search.exhausted());
    stage("report", start);
    return result;
  }
}
