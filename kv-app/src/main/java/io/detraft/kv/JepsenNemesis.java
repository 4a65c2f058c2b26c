package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;

/**
 * The faults of a {@code detraft test} run, drawn from the seed: a quiet spell, one fault, a
 * hold, its heal, and so on until the fault window closes; then everything is healed. One fault
 * at a time, so each heal is followed by a clean recovery that can be timed.
 *
 * <p>Each fault is recorded twice: in the history as a nemesis op ({@code :process :nemesis},
 * {@code :f :start-kill} then {@code :f :stop-kill}, as Jepsen's), and in the {@link Period}
 * list that the timeline, the plots and the recovery times read.
 */
final class JepsenNemesis {
  /**
   * One fault from start to heal (instant faults have end == start).
   *
   * @param family kill, pause, partition, member, transfer, snapshot or netem
   * @param what the variant and its targets, in words
   */
  record Period(String family, String what, long startNanos, long endNanos) {}

  /** Links between nodes that a partition cuts: namespaces' routes, or TCP relays. */
  interface Links {
    /** Drops what node {@code from} sends to node {@code to} (1-based), until healed. */
    void cut(int from, int to) throws IOException;

    /** Removes every cut. */
    void healPartitions() throws IOException;
  }

  private final JepsenNodes nodes;
  private final Links links;
  private final JepsenNet net;
  private final JepsenHistory history;
  private final PrintStream out;
  private final Random random;
  private final List<String> families;
  private final List<Period> periods = new ArrayList<>();
  private volatile String current = "none";
  private volatile boolean stopping;
  private Thread thread;

  /**
   * Fault families the machine cannot inject are left out, with a line saying so.
   *
   * @param links what a partition cuts (null: no partitions)
   * @param net the namespaces, for netem (null: no netem)
   */
  JepsenNemesis(JepsenOptions options, JepsenNodes nodes, Links links, JepsenNet net,
      JepsenHistory history, PrintStream out) throws IOException {
    this.nodes = nodes;
    this.links = links;
    this.net = net;
    this.history = history;
    this.out = out;
    this.random = new Random(options.seed());
    List<String> usable = new ArrayList<>();
    for (String family : options.nemeses()) {
      if (family.equals("partition") && links == null) {
        out.println("nemesis: partition skipped: no network to cut");
      } else if (family.equals("pause") && !killCommandWorks()) {
        out.println("nemesis: pause skipped: no `kill` command to send SIGSTOP (install procps)");
      } else if (family.equals("netem") && (net == null || !net.netemAvailable())) {
        out.println("nemesis: netem skipped: `tc qdisc ... netem` does not work here (no"
            + " sch_netem kernel module, or relays instead of namespaces); no delay or loss is"
            + " injected");
      } else {
        usable.add(family);
      }
    }
    this.families = List.copyOf(usable);
  }

  private static boolean killCommandWorks() {
    try {
      return JepsenNet.run(List.of("kill", "-0", String.valueOf(ProcessHandle.current().pid())))
          == 0;
    } catch (IOException e) {
      return false;
    }
  }

  List<String> families() {
    return families;
  }

  /** What is broken right now, for the progress lines. */
  String current() {
    return current;
  }

  synchronized List<Period> periods() {
    return List.copyOf(periods);
  }

  /** Starts injecting faults until {@code faultWindowNanos} after the run's start. */
  void start(long faultWindowNanos) {
    thread = new Thread(() -> run(faultWindowNanos), "detraft-test-nemesis");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the schedule, heals whatever is broken; returns the heal's history time. */
  long stopAndHeal() throws InterruptedException {
    stopping = true;
    if (thread != null) {
      thread.interrupt();
      thread.join(60_000);
    }
    healEverything();
    return history.nemesis("heal-all", "every node running, no partition");
  }

  private void run(long faultWindowNanos) {
    try {
      while (!stopping && !families.isEmpty()) {
        Thread.sleep(2_000 + random.nextInt(3_000)); // quiet: the cluster works normally
        String family = families.get(random.nextInt(families.size()));
        long hold = 3_000 + random.nextInt(4_000);
        if (history.now() + hold * 1_000_000 > faultWindowNanos) {
          return;
        }
        inject(family, hold);
      }
    } catch (InterruptedException e) {
      // stopAndHeal: it heals.
    } catch (IOException | RuntimeException e) {
      out.println("nemesis: stopped by an error: " + e);
    }
  }

  private void inject(String family, long holdMillis) throws IOException, InterruptedException {
    switch (family) {
      case "kill" -> {
        List<Integer> victims = victims(random.nextInt(3));
        String what = (victims.size() > 1 ? "majority " : "node ") + victims;
        hold(family, what, holdMillis, () -> victims.forEach(nodes::kill), () -> {
          for (int v : victims) {
            nodes.restart(v);
          }
        });
      }
      case "pause" -> {
        List<Integer> victims = victims(random.nextInt(2)); // a leader or a random node
        hold(family, "node " + victims, holdMillis, () -> {
          for (int v : victims) {
            nodes.pause(v);
          }
        }, () -> {
          for (int v : victims) {
            nodes.resume(v);
          }
        });
      }
      case "partition" -> partition(holdMillis);
      case "member" -> {
        // A random node or a group's leader leaves the cluster and comes back as a new node.
        int node = victims(random.nextInt(2)).get(0);
        String what = "node " + node + " (id " + nodes.id(node) + ") removed, wiped, added"
            + " back as id " + nodes.nextId();
        hold(family, what, holdMillis,
            () -> out.println("nemesis: member: node " + node + " removed: "
                + nodes.removeMember(node)),
            () -> out.println("nemesis: member: node " + node + " added back: "
                + nodes.addBack(node)));
      }
      case "netem" -> {
        int node = 1 + random.nextInt(nodes.size());
        hold(family, "node " + node + " sends with 50±20 ms delay, 5% loss", holdMillis,
            () -> net.netem(node, 50, 20, 5), net::healNetem);
      }
      case "transfer" -> {
        long group = 1 + random.nextInt(groups());
        Integer leader = nodes.leaders().get(group);
        int to = 1 + random.nextInt(nodes.size());
        if (leader == null || leader == to) {
          return;
        }
        int status = nodes.admin(leader, "/v1/leader/transfer", "{\"group\":" + group
            + ",\"to\":" + nodes.id(to) + "}");
        instant(family, "group " + group + " from node " + leader + " to node " + to
            + " (HTTP " + status + ")");
      }
      case "snapshot" -> {
        int node = 1 + random.nextInt(nodes.size());
        instant(family, "node " + node + " snapshots every group (HTTP "
            + nodes.admin(node, "/v1/snapshot", "") + ")");
      }
      default -> throw new IllegalStateException("unknown fault " + family);
    }
  }

  /**
   * Majority/minority halves, a group's leader alone, a bridge (one node sees both halves,
   * which see only it) or one way (a node's packets to everyone else are dropped).
   */
  private void partition(long holdMillis) throws IOException, InterruptedException {
    int n = nodes.size();
    List<Integer> all = shuffled();
    int variant = random.nextInt(4);
    List<int[]> cuts = new ArrayList<>();
    String what;
    switch (variant) {
      case 0 -> {
        List<Integer> minority = all.subList(0, (n - 1) / 2);
        List<Integer> majority = all.subList((n - 1) / 2, n);
        both(cuts, minority, majority);
        what = "majority/minority " + minority + " | " + majority;
      }
      case 1 -> {
        int leader = leaderOrRandom();
        List<Integer> rest = new ArrayList<>(all);
        rest.remove(Integer.valueOf(leader));
        both(cuts, List.of(leader), rest);
        what = "leader isolated [" + leader + "] | " + rest;
      }
      case 2 -> {
        int bridge = all.get(0);
        List<Integer> left = all.subList(1, 1 + (n - 1) / 2);
        List<Integer> right = all.subList(1 + (n - 1) / 2, n);
        both(cuts, left, right);
        what = "bridge " + left + " <-> " + bridge + " <-> " + right;
      }
      default -> {
        int from = leaderOrRandom();
        for (int to : all) {
          if (to != from) {
            cuts.add(new int[] {from, to});
          }
        }
        what = "one-way: packets from node " + from + " to the others are dropped";
      }
    }
    hold("partition", what, holdMillis, () -> {
      for (int[] cut : cuts) {
        links.cut(cut[0], cut[1]);
      }
    }, links::healPartitions);
  }

  private static void both(List<int[]> cuts, List<Integer> a, List<Integer> b) {
    for (int x : a) {
      for (int y : b) {
        cuts.add(new int[] {x, y});
        cuts.add(new int[] {y, x});
      }
    }
  }

  /** 0: a random node; 1: a random group's leader; 2: a random majority. */
  private List<Integer> victims(int variant) {
    return switch (variant) {
      case 0 -> List.of(1 + random.nextInt(nodes.size()));
      case 1 -> List.of(leaderOrRandom());
      default -> List.copyOf(shuffled().subList(0, nodes.size() / 2 + 1));
    };
  }

  private int leaderOrRandom() {
    long group = 1 + random.nextInt(groups());
    int fallback = 1 + random.nextInt(nodes.size());
    Integer leader = nodes.leaders().get(group);
    return leader != null ? leader : fallback;
  }

  private int groups() {
    return Math.max(1, nodes.groups());
  }

  private List<Integer> shuffled() {
    List<Integer> all = new ArrayList<>();
    for (int i = 1; i <= nodes.size(); i++) {
      all.add(i);
    }
    Collections.shuffle(all, random);
    return all;
  }

  private interface Action {
    void run() throws IOException, InterruptedException;
  }

  private void hold(String family, String what, long holdMillis, Action start, Action heal)
      throws IOException, InterruptedException {
    long startNanos = history.nemesis("start-" + family, what);
    current = family + " " + what;
    out.println("nemesis: " + family + " " + what);
    try {
      start.run();
      Thread.sleep(holdMillis);
    } finally {
      heal.run();
      long endNanos = history.nemesis("stop-" + family, what);
      current = "none";
      synchronized (this) {
        periods.add(new Period(family, what, startNanos, endNanos));
      }
    }
  }

  private void instant(String family, String what) {
    long at = history.nemesis(family, what);
    out.println("nemesis: " + family + " " + what);
    synchronized (this) {
      periods.add(new Period(family, what, at, at));
    }
  }

  private void healEverything() {
    try {
      for (int node = 1; node <= nodes.size(); node++) {
        String added = nodes.addBack(node); // a member fault cut short: finish it
        if (added != null) {
          out.println("nemesis: member: node " + node + " added back: " + added);
        }
      }
      if (links != null) {
        links.healPartitions();
      }
      if (net != null) {
        net.healNetem();
      }
      for (int node : nodes.healAll()) {
        out.println("nemesis: node " + node + " had exited by itself (see n" + node
            + "/node.log); restarted");
      }
    } catch (IOException e) {
      out.println("nemesis: heal failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.println("nemesis: heal interrupted");
    }
    current = "none";
  }

  /** The timeline as text: one line per fault, times in seconds since the run started. */
  String timeline() {
    StringJoiner lines = new StringJoiner("\n", "", "\n");
    for (Period p : periods()) {
      lines.add(String.format(java.util.Locale.ROOT, "%8.3f %8.3f  %-9s %s",
          p.startNanos() / 1e9, p.endNanos() / 1e9, p.family(), p.what()));
    }
    return lines.toString();
  }

  /** Counts per family (for the results). */
  Map<String, Integer> counts() {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    for (Period p : periods()) {
      counts.merge(p.family(), 1, Integer::sum);
    }
    return counts;
  }
}
