package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The golden-file machinery itself: parsing, rewriting, and failing readably. */
class GoldenFileTest {
  static final String SAMPLE = """
      # A comment.

      add-nodes 1
      ----
      1: FOLLOWER term=0
      voters=[1] pre-vote=false check-quorum=false forward=true election=10 heartbeat=1 \
      max-append-bytes=1048576 max-inflight=256

      # Campaigning alone wins at once.
      campaign 1
      ----
        1: FOLLOWER term=0 -> LEADER term=1 leader=1

      status 1
      ----
      1: LEADER term=1 vote=1 leader=1 commit=0 applied=0 last=1@1
      """;

  @Test
  void parsesCommandsLinesAndExpectedOutput() {
    GoldenFile file = GoldenFile.parse("sample.txt", SAMPLE);
    assertEquals(3, file.cases.size());
    assertEquals("campaign 1", file.cases.get(1).command());
    assertEquals(9, file.cases.get(1).line());
    assertEquals(List.of("  1: FOLLOWER term=0 -> LEADER term=1 leader=1"),
        file.cases.get(1).expected());
  }

  @Test
  void renderingWithTheExpectedOutputReproducesTheFile() {
    GoldenFile file = GoldenFile.parse("sample.txt", SAMPLE);
    assertEquals(SAMPLE + "\n", file.render(GoldenFile.Case::expected));
    String rendered = file.render(GoldenFile.Case::expected);
    assertEquals(rendered, GoldenFile.parse("again.txt", rendered).render(
        GoldenFile.Case::expected));
  }

  @Test
  void aCommandWithoutSeparatorIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GoldenFile.parse("bad.txt", "campaign 1\nstatus 1\n"));
    assertTrue(e.getMessage().startsWith("bad.txt:2:"), e.getMessage());
  }

  @Test
  void diffMarksMissingAndExtraLines() {
    String diff = GoldenFile.diff(List.of("a", "b", "c"), List.of("a", "x", "c", "d"));
    assertEquals("    a\n  + x\n  - b\n    c\n  + d\n", diff);
  }

  @Test
  void theSampleRunsAndAMismatchNamesFileAndLine(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.txt");
    Files.writeString(good, SAMPLE);
    ScenarioTest.runScenario(good);

    Path bad = dir.resolve("bad.txt");
    Files.writeString(bad, SAMPLE.replace("LEADER term=1 leader=1\n", "LEADER term=2 leader=1\n"));
    AssertionError e = assertThrows(AssertionError.class, () -> ScenarioTest.runScenario(bad));
    assertTrue(e.getMessage().contains("scenarios/bad.txt:9: campaign 1"), e.getMessage());
    assertTrue(e.getMessage().contains("  - " + "  1: FOLLOWER term=0 -> LEADER term=2 leader=1"),
        e.getMessage());
    assertTrue(e.getMessage().contains("  + " + "  1: FOLLOWER term=0 -> LEADER term=1 leader=1"),
        e.getMessage());
  }
}
