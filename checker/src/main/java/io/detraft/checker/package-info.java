/**
 * Histories of client operations and checkers that decide whether they are correct.
 *
 * <p>A {@link io.detraft.checker.History} is a list of {@link io.detraft.checker.Op}s in
 * Jepsen's shape, usually recorded with a {@link io.detraft.checker.HistoryBuilder}. {@link
 * io.detraft.checker.LinearizabilityChecker} decides whether a key/value history (operations
 * named in {@link io.detraft.checker.Kv}) is linearizable.
 *
 * <p>This package depends on nothing but the JDK.
 */
package io.detraft.checker;
