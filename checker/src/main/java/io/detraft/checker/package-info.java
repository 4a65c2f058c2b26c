/**
 * Histories of client operations and checkers that decide whether they are correct.
 *
 * <p>A {@link io.detraft.checker.History} is a list of {@link io.detraft.checker.Op}s in
 * Jepsen's shape, usually recorded with a {@link io.detraft.checker.HistoryBuilder}, or read
 * from Jepsen EDN ({@link io.detraft.checker.EdnHistory}) or elle-cli JSON ({@link
 * io.detraft.checker.JsonHistory}).
 *
 * <ul>
 *   <li>{@link io.detraft.checker.LinearizabilityChecker} decides whether a key/value history
 *       (operations named in {@link io.detraft.checker.Kv}) is linearizable.
 *   <li>{@link io.detraft.checker.ElleChecker} finds transactional anomalies in list-append
 *       and rw-register histories (operations shaped as in {@link io.detraft.checker.Txn}),
 *       explains them, and says which {@link io.detraft.checker.ConsistencyModel}s they rule
 *       out.
 *   <li>{@link io.detraft.checker.Main} is the command line ({@code check --model ...}).
 * </ul>
 *
 * <p>This package depends on the JDK, and on Clojure for EDN only ({@link
 * io.detraft.checker.EdnHistory} loads it on first use). Package {@code
 * io.detraft.checker.bench} holds history generators and the benchmark.
 */
package io.detraft.checker;
