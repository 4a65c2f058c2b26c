package io.detraft.kv;

import io.detraft.checker.ConsistencyModel;
import io.detraft.checker.ElleChecker;
import io.detraft.checker.ElleResult;
import io.detraft.checker.History;
import io.detraft.checker.Kv;
import io.detraft.checker.LinearizabilityChecker;
import io.detraft.checker.Op;
import io.detraft.checker.OpType;
import io.detraft.checker.Txn;
import io.detraft.checker.Verdict;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The judgement of a {@code detraft test} run, once the faults are healed and the clients have
 * stopped: the checker's verdicts on the history (each register linearizable, the list-append
 * transactions strict-serializable) and the read-back, which reads every key through every node
 * and asks of each list: is every acknowledged append there (none lost), exactly once (none
 * applied twice), and nothing that was never sent or surely failed; of each register: do the
 * nodes agree, on a value some write may have written. Then each node's own copy (a stale read)
 * must converge to the same value.
 */
final class JepsenCheck {
  /** One part of the verdict. */
  record Part(String name, Verdict verdict, String explanation) {}

  /** Marks a read-back error that is only a missing answer (unknown, not invalid). */
  private static final String UNANSWERED = "no answer: ";

  private JepsenCheck() {}

  static Part registers(JepsenHistory history) {
    History h = history.clientHistory(Set.of(Kv.GET, Kv.PUT, Kv.CAS));
    LinearizabilityChecker.Result r = LinearizabilityChecker.check(h);
    return new Part("register (kv-linearizable per key)", r.verdict(), r.toString());
  }

  static Part listAppend(JepsenHistory history) {
    History h = history.clientHistory(Set.of(Txn.F));
    ElleResult r = ElleChecker.checkListAppend(h, ConsistencyModel.STRICT_SERIALIZABLE);
    return new Part("list-append (strict-serializable)", r.verdict(), r.toString().trim());
  }

  /**
   * Reads every key the workload used through every node and compares with the history.
   * Call with every node running and healed.
   */
  static Part readBack(JepsenHistory history, JepsenWorkload workload, JepsenNodes nodes,
      boolean registers, boolean lists) {
    List<String> errors = new ArrayList<>();
    int keys = 0;
    try (HttpPool http = new HttpPool(Duration.ofSeconds(3), 2)) {
      if (lists) {
        Map<Long, Set<Long>> acknowledged = new TreeMap<>();
        Map<Long, Set<Long>> attempted = new TreeMap<>();
        Map<Long, Set<Long>> failed = new TreeMap<>();
        appends(history, acknowledged, attempted, failed);
        for (long id = 0; id < workload.listsUsed(); id++) {
          keys++;
          String key = JepsenWorkload.listKey(id);
          List<Object> values = readEverywhere(http, nodes, key, errors);
          if (values == null) {
            continue;
          }
          List<Long> list = JepsenWorkload.elements(values.get(0));
          Set<Long> seen = new HashSet<>();
          for (long e : list) {
            if (!seen.add(e)) {
              errors.add("list " + id + ": element " + e + " applied twice");
            }
            if (!attempted.getOrDefault(id, Set.of()).contains(e)) {
              errors.add("list " + id + ": element " + e + " was never appended to it");
            }
            if (failed.getOrDefault(id, Set.of()).contains(e)) {
              errors.add("list " + id + ": element " + e + " is there, but its transaction"
                  + " failed");
            }
          }
          for (long e : acknowledged.getOrDefault(id, Set.of())) {
            if (!seen.contains(e)) {
              errors.add("list " + id + ": acknowledged element " + e + " was lost");
            }
          }
          converge(http, nodes, key, values.get(0), errors);
        }
      }
      if (registers) {
        Map<Long, Set<Object>> written = new TreeMap<>();
        for (Op op : history.clientHistory(Set.of(Kv.PUT, Kv.CAS)).ops()) {
          if (op.type() != OpType.FAIL && op.type() != OpType.INVOKE) {
            List<?> v = (List<?>) op.value();
            Object value = op.f().equals(Kv.CAS) ? ((List<?>) v.get(1)).get(1) : v.get(1);
            written.computeIfAbsent((Long) v.get(0), k -> new HashSet<>()).add(value);
          }
        }
        for (long id = 0; id < workload.registersUsed(); id++) {
          keys++;
          String key = JepsenWorkload.registerKey(id);
          List<Object> values = readEverywhere(http, nodes, key, errors);
          if (values == null) {
            continue;
          }
          Object value = values.get(0) == null ? null
              : JepsenWorkload.number(String.valueOf(values.get(0)));
          if (value != null && !written.getOrDefault(id, Set.of()).contains(value)) {
            errors.add("register " + id + ": holds " + value + ", which no write that"
                + " succeeded or may have succeeded wrote");
          }
          converge(http, nodes, key, values.get(0), errors);
        }
      }
    }
    String summary = keys + " keys read through each of " + nodes.size() + " nodes; "
        + (errors.isEmpty() ? "every acknowledged append found once, nodes agree"
            : errors.size() + " problems: " + String.join("; ", errors.subList(0,
                Math.min(20, errors.size()))));
    // A node that never answers is a liveness problem: nothing was seen lost, nor kept.
    boolean onlyUnanswered = errors.stream().allMatch(e -> e.startsWith(UNANSWERED));
    return new Part("read-back (none lost, none twice)", errors.isEmpty() ? Verdict.VALID
        : onlyUnanswered ? Verdict.UNKNOWN : Verdict.INVALID, summary);
  }

  /** The appended elements per list: acknowledged (ok), attempted (not failed), failed. */
  private static void appends(JepsenHistory history, Map<Long, Set<Long>> acknowledged,
      Map<Long, Set<Long>> attempted, Map<Long, Set<Long>> failed) {
    for (Op op : history.clientHistory(Set.of(Txn.F)).ops()) {
      for (Object o : (List<?>) op.value()) {
        List<?> micro = (List<?>) o;
        if (!micro.get(0).equals(Txn.APPEND)) {
          continue;
        }
        long key = (Long) micro.get(1);
        long element = (Long) micro.get(2);
        Map<Long, Set<Long>> into = switch (op.type()) {
          case OK -> acknowledged;
          case FAIL -> failed;
          default -> attempted;
        };
        into.computeIfAbsent(key, k -> new HashSet<>()).add(element);
        if (op.type() == OpType.OK) {
          attempted.computeIfAbsent(key, k -> new HashSet<>()).add(element);
        }
      }
    }
  }

  /**
   * Linearizable reads of {@code key} through each node (retried for a while: the cluster has
   * just healed). The values, one per node (a list's JSON value or a register's text, null if
   * absent), or null (and an error) if a node would not answer or they differ.
   */
  private static List<Object> readEverywhere(HttpPool http, JepsenNodes nodes, String key,
      List<String> errors) {
    List<Object> values = new ArrayList<>();
    for (int node = 1; node <= nodes.size(); node++) {
      Object[] value = read(http, Peers.address(nodes.http(node)), key, false, 20_000);
      if (value == null) {
        errors.add(UNANSWERED + key + ": node " + node + " gave no linearizable read within"
            + " 20 s");
        return null;
      }
      values.add(value[0]);
    }
    for (int i = 1; i < values.size(); i++) {
      if (!Objects.equals(values.get(0), values.get(i))) {
        errors.add(key + ": node 1 reads " + values.get(0) + " but node " + (i + 1) + " reads "
            + values.get(i));
        return null;
      }
    }
    return values;
  }

  /** Each node's own copy (a stale read) must come to equal {@code expected}. */
  private static void converge(HttpPool http, JepsenNodes nodes, String key, Object expected,
      List<String> errors) {
    for (int node = 1; node <= nodes.size(); node++) {
      long deadline = System.nanoTime() + 30_000_000_000L;
      Object[] value;
      do {
        value = read(http, Peers.address(nodes.http(node)), key, true, 5_000);
      } while ((value == null || !Objects.equals(value[0], expected))
          && System.nanoTime() < deadline && pause());
      if (value == null || !Objects.equals(value[0], expected)) {
        errors.add(key + ": node " + node + "'s copy holds " + (value == null ? "?" : value[0])
            + ", not " + expected + ", 30 s after healing");
      }
    }
  }

  /** One value read, boxed (so null means absent); null if no answer within the time. */
  private static Object[] read(HttpPool http, InetSocketAddress node, String key, boolean stale,
      long withinMillis) {
    long deadline = System.nanoTime() + withinMillis * 1_000_000;
    do {
      try {
        HttpPool.Response r = http.send(node, "GET", "/v1/kv/" + Http.percentEncode(
            JepsenWorkload.bytes(key)) + (stale ? "?consistency=stale" : ""), Map.of(), null);
        if (r.status() == 404) {
          return new Object[] {null};
        }
        if (r.status() == 200) {
          String text = r.text();
          if (key.startsWith(JepsenWorkload.LIST_TAG)) {
            return new Object[] {Json.parse(text)}; // a JSON array of the elements

          }
          return new Object[] {text.trim()};
        }
      } catch (IOException | Json.ParseException | RuntimeException e) {
        // Retry until the deadline.
      }
    } while (System.nanoTime() < deadline && pause());
    return null;
  }

  private static boolean pause() {
    try {
      Thread.sleep(100);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The worst of the parts: invalid over unknown over valid. */
  static Verdict overall(List<Part> parts) {
    Verdict worst = Verdict.VALID;
    for (Part p : parts) {
      if (p.verdict() == Verdict.INVALID) {
        return Verdict.INVALID;
      }
      if (p.verdict() == Verdict.UNKNOWN) {
        worst = Verdict.UNKNOWN;
      }
    }
    return worst;
  }

  /**
   * Milliseconds from each held fault's heal until every group in use acknowledged a write
   * invoked after the heal; a heal after which some group did not, before the next fault
   * started (or the load stopped), counts in {@code unrecovered} instead.
   */
  static Map<String, Object> recovery(List<JepsenNemesis.Period> periods, long finalHealNanos,
      long loadEndNanos, List<JepsenHistory.Sample> samples, Set<Long> groups) {
    List<Long> heals = new ArrayList<>();
    List<Long> limits = new ArrayList<>();
    List<JepsenNemesis.Period> held = periods.stream().filter(p -> p.endNanos() > p
        .startNanos()).toList();
    for (int i = 0; i < held.size(); i++) {
      heals.add(held.get(i).endNanos());
      limits.add(i + 1 < held.size() ? held.get(i + 1).startNanos() : finalHealNanos);
    }
    heals.add(finalHealNanos);
    limits.add(loadEndNanos);
    List<Long> millis = new ArrayList<>();
    int unrecovered = 0;
    for (int i = 0; i < heals.size(); i++) {
      long heal = heals.get(i);
      Map<Long, Long> first = new HashMap<>();
      for (JepsenHistory.Sample s : samples) {
        if (s.write() && s.type() == OpType.OK && s.invokeNanos() >= heal
            && groups.contains(s.group())) {
          first.merge(s.group(), s.endNanos(), Math::min);
        }
      }
      long worst = first.values().stream().mapToLong(Long::longValue).max().orElse(-1);
      if (first.keySet().containsAll(groups) && worst <= limits.get(i)) {
        millis.add((worst - heal) / 1_000_000);
      } else {
        unrecovered++;
      }
    }
    millis.sort(null);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("heals", (long) heals.size());
    out.put("measured", (long) millis.size());
    out.put("unrecovered", (long) unrecovered);
    out.put("p50-ms", millis.isEmpty() ? null : millis.get((millis.size() - 1) / 2));
    out.put("max-ms", millis.isEmpty() ? null : millis.get(millis.size() - 1));
    return out;
  }
}
