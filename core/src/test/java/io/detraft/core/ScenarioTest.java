package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every golden-file scenario in {@code src/test/resources/scenarios/*.txt} through an
 * {@link InteractionEnv} and compares each command's output with the expected block.
 *
 * <p>To regenerate the expected output after an intended change, run
 * {@code mvn -pl core test -Dtest=ScenarioTest -Dgolden.rewrite=true} (or set the environment
 * variable {@code GOLDEN_REWRITE=1}), then read the diff: a golden file asserts correct Raft
 * behaviour only if someone checked it.
 */
class ScenarioTest {

  static Path scenarioDirectory() {
    // Surefire runs tests in the module directory and sets "basedir"; read the sources, not
    // the copies in target/, so that a rewrite lands in the files under version control.
    String base = System.getProperty("basedir", System.getProperty("user.dir"));
    return Path.of(base, "src", "test", "resources", "scenarios");
  }

  static boolean rewrite() {
    return Boolean.getBoolean("golden.rewrite") || "1".equals(System.getenv("GOLDEN_REWRITE"));
  }

  @TestFactory
  Stream<DynamicTest> scenarios() throws IOException {
    Path dir = scenarioDirectory();
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
    }
    assertFalse(files.isEmpty(), "no scenarios in " + dir);
    return files.stream().map(file -> DynamicTest.dynamicTest(
        file.getFileName().toString(), file.toUri(), () -> runScenario(file)));
  }

  static void runScenario(Path file) throws IOException {
    String name = "src/test/resources/scenarios/" + file.getFileName();
    GoldenFile golden = GoldenFile.parse(name, Files.readString(file, StandardCharsets.UTF_8));
    InteractionEnv env = new InteractionEnv();
    Map<GoldenFile.Case, List<String>> actual = new HashMap<>();
    List<String> mismatches = new ArrayList<>();
    for (GoldenFile.Case c : golden.cases) {
      List<String> output;
      try {
        output = env.run(c.command());
      } catch (RuntimeException e) {
        throw new AssertionError(name + ":" + c.line() + ": '" + c.command() + "' threw " + e, e);
      }
      actual.put(c, output);
      if (!output.equals(c.expected())) {
        mismatches.add(name + ":" + c.line() + ": " + c.command() + "\n"
            + GoldenFile.diff(c.expected(), output));
      }
    }
    if (rewrite()) {
      String rendered = golden.render(actual::get);
      Files.writeString(file, rendered, StandardCharsets.UTF_8);
      return;
    }
    if (!mismatches.isEmpty()) {
      StringBuilder message = new StringBuilder(mismatches.size() + " command(s) in " + name
          + " printed something else (- expected, + actual); rewrite with"
          + " -Dgolden.rewrite=true once the new output is checked:\n");
      mismatches.stream().limit(5).forEach(message::append);
      if (mismatches.size() > 5) {
        message.append("... and ").append(mismatches.size() - 5).append(" more\n");
      }
      fail(message.toString());
    }
  }
}
