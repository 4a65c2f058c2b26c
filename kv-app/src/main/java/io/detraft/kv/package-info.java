/**
 * detraft's replicated key/value store (multi-raft over Chronicle Map).
 *
 * <ul>
 *   <li>{@link io.detraft.kv.KvStateMachine}: one group's state machine (commands in
 *       {@link io.detraft.kv.KvCommand}, results in {@link io.detraft.kv.KvResult}) with
 *       exactly-once client sessions, over a {@link io.detraft.kv.KvStore}: a
 *       {@link io.detraft.kv.ChronicleKvStore} on disk or a {@link io.detraft.kv.MemoryKvStore}
 *       for the simulator and tests;
 *   <li>{@link io.detraft.kv.KvServer}: a node hosting every group, with the HTTP/JSON API;
 *       keys go to groups by {@link io.detraft.kv.Partitioner};
 *   <li>{@link io.detraft.kv.KvClient}: the Java client (leader discovery, retries, sessions);
 *   <li>{@link io.detraft.kv.Main}: the {@code detraft} command line.
 * </ul>
 *
 * <p>Everything else in this package is internal to those.
 */
package io.detraft.kv;
