package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.SessionStateMachine;
import io.detraft.core.StateMachine;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** One seed, one run: the same seed gives the same trace fingerprint, in one JVM or two. */
class DeterminismTest {
  static final double SAFETY_SECONDS = 5;

  /** The first seed from 1 whose options satisfy {@code wanted}. */
  static long firstSeed(Predicate<SimOptions> wanted) {
    long seed = 1;
    while (!wanted.test(SimOptions.derive(seed))) {
      seed++;
    }
    return seed;
  }

  @Test
  void sameSeedSameFingerprintInProcess() {
    long multiGroup = firstSeed(o -> o.cluster().groups() > 1 && o.process().crashes());
    long churn = firstSeed(o -> o.protocol().churnEveryNanos() > 0
        && o.protocol().transferEveryNanos() > 0 && o.protocol().snapshotThreshold() > 0
        && o.cluster().leaseReads());
    long replays = firstSeed(o -> o.network().replay() > 0 && !o.network().reorder());
    List<SimOptions> runs = new ArrayList<>();
    for (long seed : new long[] {3, 17, -5, multiGroup, churn, replays}) {
      runs.add(Main.optionsFor(seed, SAFETY_SECONDS));
    }
    runs.add(Main.optionsFor(3, SAFETY_SECONDS, 0, true));
    for (SimOptions options : runs) {
      long seed = options.seed();
      SimResult first = new Simulation(options).run();
      SimResult second = new Simulation(options).run();
      assertEquals(first.fingerprintHex(), second.fingerprintHex(), "seed " + seed);
      assertEquals(first.line(), second.line(), "seed " + seed);
      assertEquals(first.stats(), second.stats(), "seed " + seed);
      assertEquals(first.marks().table(null), second.marks().table(null), "seed " + seed);
    }
  }

  /**
   * {@link SimHooks#sessionsInStateMachine}: hosting core's session layer as if it were the
   * application's own gives the very same run, event for event, as the host's session layer
   * over the bare machine; so the option changes who keeps the sessions and nothing else
   * (envelopes in, results out, reads, snapshots, the oracles' reference, the marks).
   */
  @Test
  void sessionsInTheStateMachineGiveTheSameRun() {
    long expired = 0;
    for (long seed : new long[] {3, firstSeed(o -> o.workload().sessionTimeoutEntries() < 100),
        firstSeed(o -> o.cluster().groups() > 1)}) {
      SimOptions options = Main.optionsFor(seed, SAFETY_SECONDS);
      long timeout = options.workload().sessionTimeoutEntries();
      SimHooks own = SimHooks.defaults().withSessionsInStateMachine(true)
          .withStateMachineFactory(node -> new OwnSessions(timeout));
      SimResult host = new Simulation(options).run();
      SimResult hosted = new Simulation(options, own).run();
      assertEquals(host.fingerprintHex(), hosted.fingerprintHex(), "seed " + seed);
      assertEquals(host.line(), hosted.line(), "seed " + seed);
      assertEquals(host.marks().table(null), hosted.marks().table(null), "seed " + seed);
      expired += hosted.marks().hits(SimMark.SESSION_EXPIRED);
    }
    assertTrue(expired > 0, "no session expired: the ExpiredSessions count went unchecked");
  }

  /** Core's session layer over the KV machine, posing as an application with its own. */
  private static final class OwnSessions implements StateMachine, SimHooks.ExpiredSessions {
    private final SessionStateMachine sessions;

    OwnSessions(long timeout) {
      sessions = new SessionStateMachine(new KvStateMachine(), timeout);
    }

    @Override
    public byte[] apply(long index, byte[] command) {
      return sessions.apply(index, command);
    }

    @Override
    public byte[] snapshot() {
      return sessions.snapshot();
    }

    @Override
    public void restore(byte[] snapshot) {
      sessions.restore(snapshot);
    }

    @Override
    public long expiredSessions() {
      return sessions.expiredCount();
    }
  }

  @Test
  void differentSeedsDifferentRuns() {
    SimResult a = new Simulation(Main.optionsFor(1, SAFETY_SECONDS)).run();
    SimResult b = new Simulation(Main.optionsFor(2, SAFETY_SECONDS)).run();
    assertNotEquals(a.fingerprint(), b.fingerprint());
    assertNotEquals(a.options().describe(), b.options().describe());
  }

  @Test
  void optionsAreAFunctionOfTheSeed() {
    assertEquals(SimOptions.derive(99).describe(), SimOptions.derive(99).describe());
    assertTrue(SimOptions.derive(99).describe().startsWith("seed=99 cluster{n="));
  }

  /** A child JVM running the CLI reports the fingerprint this JVM computes. */
  @Test
  void sameFingerprintAcrossJvms() throws Exception {
    long seed = 11;
    SimResult here = new Simulation(Main.optionsFor(seed, SAFETY_SECONDS)).run();
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    String classpath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>(List.of(java, "-cp", classpath,
        "io.detraft.sim.Main", "--seed", Long.toString(seed), "--safety-seconds",
        Double.toString(SAFETY_SECONDS)));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    StringBuilder output = new StringBuilder();
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        output.append(line).append('\n');
      }
    }
    assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
    assertEquals(here.failed() ? 1 : 0, child.exitValue(), output::toString);
    Matcher fingerprint = Pattern.compile("fingerprint=([0-9a-f]{16})").matcher(output);
    assertTrue(fingerprint.find(), () -> "no fingerprint in:\n" + output);
    assertEquals(here.fingerprintHex(), fingerprint.group(1), output::toString);
    assertTrue(output.toString().contains("options: " + here.options().describe()),
        output::toString);
  }
}
