package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.PlantedBug;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Any failure replays from what the sweep printed: in each mode (the default mix, every
 * nemesis on, pinned voters) the first failing seed of a planted bug is run again by the very
 * command its {@code replay:} note gives, and fails the same way with the same fingerprint.
 * (Once, a seed found with {@code --all-nemeses} printed a replay without that flag and passed.)
 */
class ReplayTest {
  private static final SimHooks BUG = PlantedFaults.coreBug(PlantedBug.READ_INDEX_WITHOUT_QUORUM);
  private static final String JAR = "java -jar sim/target/detraft-sim.jar ";
  private static final Pattern FAILED = Pattern.compile(
      "seed=(\\d+) FAIL fingerprint=([0-9a-f]+).*\\[replay: (.*)]");

  private static String run(List<String> args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Main.run(args.toArray(String[]::new), out, out, BUG);
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void everyModesFailingSeedReplaysAsPrinted() {
    for (List<String> mode : List.of(List.<String>of(), List.of("--all-nemeses"),
        List.of("--voters", "5"), List.of("--voters", "3", "--all-nemeses"))) {
      List<String> sweep = new ArrayList<>(List.of("--seeds", "1..60", "--parallel", "2"));
      sweep.addAll(mode);
      String output = run(sweep);
      Matcher failed = FAILED.matcher(output);
      assertTrue(failed.find(), "no seed failed in " + mode + ":\n" + output);
      String command = failed.group(3);
      assertTrue(command.startsWith(JAR), command);
      for (String flag : mode) {
        assertTrue(List.of(command.split(" ")).contains(flag), command + " lacks " + flag);
      }
      String replay = replays(command, failed.group(1), failed.group(2));
      // The report of the replayed run prints a replay line of its own (the shortest flags
      // that make the same options): it reproduces the run too.
      Matcher again = Pattern.compile("replay: (.*)\n").matcher(replay);
      assertTrue(again.find(), replay);
      replays(again.group(1), failed.group(1), failed.group(2));
    }
  }

  /** Runs {@code command}; asserts seed {@code seed} fails with {@code fingerprint}. */
  private static String replays(String command, String seed, String fingerprint) {
    assertTrue(command.startsWith(JAR), command);
    String replay = run(List.of(command.substring(JAR.length()).split(" ")));
    assertTrue(replay.contains("seed " + seed + " FAIL"), replay);
    assertTrue(replay.contains("fingerprint: " + fingerprint), replay);
    return replay;
  }

  @Test
  void optionsNoCommandLineMakesSayHowToReplay() {
    SimOptions tuned = PlantedFaults.partitionHeavy(3, 2);
    assertEquals(null, Main.replayCommand(tuned));
    SimOptions plain = Main.optionsFor(3, -1, 5, true);
    assertNotNull(Main.replayCommand(plain));
    assertEquals(plain, Main.optionsFor(3, -1, 5, true));
  }
}
