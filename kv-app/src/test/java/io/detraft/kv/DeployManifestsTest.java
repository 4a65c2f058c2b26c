package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/'s Kubernetes Indexed Job, its merge Job and the GitHub Actions workflow cannot run
 * here, so their command lines run locally, exactly as written, for a tiny range: each
 * shard's script in {@code sh -c} (Kubernetes) or bash (GitHub) with the index variable
 * ({@code JOB_COMPLETION_INDEX}, {@code ${{ matrix.shard }}}) set, then the merge command.
 * Only the seed range, the shard count (the same in the manifest's list and its variable,
 * which the test checks first) and the volume's mount path are replaced. The {@code detraft}
 * they call is a script that runs kv-app's Main on the test class path (the jar is packaged
 * after the tests). The merged summary must be the unsharded sweep's.
 */
@Timeout(300)
class DeployManifestsTest {
  private static final Path DEPLOY = Path.of("").toAbsolutePath().getParent().resolve("deploy");
  private static final String SEEDS = "1..6";
  private static final int SHARDS = 3;

  @TempDir Path dir;

  private record Run(int status, String out) {}

  /** A {@code detraft} launcher in {@link #dir}: on the PATH, and {@code ./detraft} there. */
  private void launcher() throws IOException {
    Path script = dir.resolve("detraft");
    Files.writeString(script, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"),
        "bin", "java") + "' -Xmx256m -XX:TieredStopAtLevel=1 -cp '"
        + System.getProperty("java.class.path") + "' io.detraft.kv.Main \"$@\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Run shell(String shell, String script, Map<String, String> env)
      throws IOException, InterruptedException {
    // Standard output only: the summary (the node layer may log warnings on stderr).
    ProcessBuilder builder = new ProcessBuilder(shell, "-c", script).directory(dir.toFile())
        .redirectError(dir.resolve("errors.txt").toFile())
        .redirectOutput(dir.resolve("output.txt").toFile());
    builder.environment().putAll(env);
    builder.environment().put("PATH", dir + ":" + System.getenv("PATH"));
    Process process = builder.start();
    try {
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), script + " did not finish");
    } finally {
      process.destroyForcibly();
    }
    String out = Files.readString(dir.resolve("output.txt"), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      out += "\nstderr:\n" + Files.readString(dir.resolve("errors.txt"), StandardCharsets.UTF_8);
    }
    return new Run(process.exitValue(), out);
  }

  /** The summary lines that must agree: all but the header and the speed figures. */
  private static List<String> summary(String out) {
    return out.lines().filter(line -> !line.startsWith("detraft-sim: seeds "))
        .filter(line -> !line.startsWith("simulated ") && !line.startsWith("per core: "))
        .toList();
  }

  /** The unsharded sweep's summary, run once for all tests. */
  private static List<String> unsharded;

  private List<String> unsharded() throws IOException, InterruptedException {
    if (unsharded != null) {
      return unsharded;
    }
    Run whole = shell("sh", "detraft sim --seeds " + SEEDS + " --quiet", Map.of());
    assertEquals(0, whole.status(), whole.out());
    assertTrue(whole.out().contains("seeds: 6 passed, 0 failed, 0 unknown (of 6)"),
        whole.out());
    unsharded = summary(whole.out());
    return unsharded;
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, Object... path) {
    Object value = node;
    for (Object key : path) {
      value = key instanceof Integer index ? ((List<Object>) value).get(index)
          : ((Map<Object, Object>) value).get(key);
      if (value == null) {
        throw new AssertionError("no " + key + " in " + List.of(path));
      }
    }
    return (T) value;
  }

  private static List<Object> documents(String file) throws IOException {
    List<Object> documents = new ArrayList<>();
    new Yaml().loadAll(Files.readString(DEPLOY.resolve(file))).forEach(documents::add);
    return documents;
  }

  private static Map<String, String> env(Object container) {
    Map<String, String> env = new HashMap<>();
    for (Object variable : DeployManifestsTest.<List<Object>>at(container, "env")) {
      env.put(at(variable, "name"), at(variable, "value"));
    }
    return env;
  }

  @Test
  void theIndexedJobAndItsMergeRunAsWritten() throws Exception {
    launcher();
    List<Object> sweep = documents("k8s/sweep-job.yaml");
    Object job = sweep.stream().filter(d -> "Job".equals(at(d, "kind"))).findFirst()
        .orElseThrow();
    assertEquals("Indexed", at(job, "spec", "completionMode"));
    Object container = at(job, "spec", "template", "spec", "containers", 0);
    Map<String, String> env = env(container);
    assertEquals(String.valueOf(DeployManifestsTest.<Integer>at(job, "spec", "completions")),
        env.get("SHARDS"), "SHARDS must equal completions");
    String mount = at(container, "volumeMounts", 0, "mountPath");
    String claim = at(job, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim",
        "claimName");
    assertTrue(sweep.stream().anyMatch(d -> "PersistentVolumeClaim".equals(at(d, "kind"))
        && claim.equals(at(d, "metadata", "name"))), "the volume's claim is in the file");
    assertEquals(List.of("sh", "-c"), at(container, "command"));
    String script = at(container, "args", 0);
    assertTrue(script.contains("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\""), script);
    assertTrue(script.contains("--json \"" + mount + "/"), script);

    Path results = Files.createDirectory(dir.resolve("results"));
    env.put("SEEDS", SEEDS);
    env.put("SHARDS", Integer.toString(SHARDS));
    for (int index = 0; index < SHARDS; index++) {
      env.put("JOB_COMPLETION_INDEX", Integer.toString(index));
      Run shard = shell("sh", script.replace(mount, results.toString()), env);
      assertEquals(0, shard.status(), shard.out());
    }
    assertEquals(SHARDS, results.toFile().list().length);

    Object merge = documents("k8s/merge-job.yaml").get(0);
    Object mergeContainer = at(merge, "spec", "template", "spec", "containers", 0);
    assertEquals(mount, at(mergeContainer, "volumeMounts", 0, "mountPath"));
    assertEquals(claim, at(merge, "spec", "template", "spec", "volumes", 0,
        "persistentVolumeClaim", "claimName"));
    String mergeScript = at(mergeContainer, "args", 0);
    Run merged = shell("sh", mergeScript.replace(mount, results.toString()), Map.of());
    assertEquals(0, merged.status(), merged.out());
    assertTrue(merged.out().startsWith("detraft-sim: seeds " + SEEDS + " (6), merged from "
        + SHARDS + " shard(s)"), merged.out());
    assertEquals(unsharded(), summary(merged.out()));
  }

  @Test
  void theGitHubWorkflowsShardsAndMergeRunAsWritten() throws Exception {
    launcher();
    Object workflow = documents("github-actions/sim-sweep.yml").get(0);
    Map<String, String> env = new HashMap<>(at(workflow, "env"));
    int shards = Integer.parseInt(env.get("SHARDS"));
    assertEquals(IntStream.range(0, shards).boxed().toList(),
        at(workflow, "jobs", "sweep", "strategy", "matrix", "shard"),
        "the matrix must list shards 0..SHARDS-1");
    List<String> scripts = new ArrayList<>();
    for (Object step : DeployManifestsTest.<List<Object>>at(workflow, "jobs", "sweep",
        "steps")) {
      Object run = ((Map<?, ?>) step).get("run");
      if (run instanceof String script && script.contains("detraft sim")) {
        scripts.add(script);
      }
    }
    assertEquals(1, scripts.size(), "one step runs the shard");
    env.put("SEEDS", SEEDS);
    env.put("SHARDS", Integer.toString(SHARDS));
    for (int index = 0; index < SHARDS; index++) {
      // GitHub runs `run:` scripts with bash -e.
      Run shard = shell("bash", "set -e\n" + scripts.get(0).replace("${{ matrix.shard }}",
          Integer.toString(index)), env);
      assertEquals(0, shard.status(), shard.out());
    }
    assertEquals(SHARDS, dir.resolve("results").toFile().list().length);
    assertEquals(List.of("sweep"), List.of(DeployManifestsTest.<String>at(workflow, "jobs",
        "merge", "needs")));
    String mergeScript = null;
    for (Object step : DeployManifestsTest.<List<Object>>at(workflow, "jobs", "merge",
        "steps")) {
      Object run = ((Map<?, ?>) step).get("run");
      if (run instanceof String script && script.contains("detraft sim merge")) {
        mergeScript = script;
      }
      Object with = ((Map<?, ?>) step).get("with");
      if (with instanceof Map<?, ?> options && options.containsKey("merge-multiple")) {
        assertEquals("results", options.get("path"), "artifacts go where the merge reads");
      }
    }
    Run merged = shell("bash", "set -e\n" + mergeScript, env);
    assertEquals(0, merged.status(), merged.out());
    assertEquals(unsharded(), summary(merged.out()));
  }

  /** The README's two-shard commands, as written but for the range (1..1000 there). */
  @Test
  void theReadmeShardCommandsRunAsWritten() throws Exception {
    launcher();
    String readme = Files.readString(DEPLOY.getParent().resolve("README.md"));
    String section = readme.substring(readme.indexOf("## Sweeps on many machines"));
    int start = section.indexOf("```\n./detraft sim --seeds 1..1000 --shard 0/2");
    assertTrue(start > 0, "the README's shard commands");
    String block = section.substring(start + 4, section.indexOf("```", start + 4));
    Run run = shell("sh", block.replace("1..1000", SEEDS), Map.of());
    assertEquals(0, run.status(), run.out());
    // Each shard prints its own summary, then the merge prints the whole range's.
    String merged = run.out().substring(run.out().indexOf("detraft-sim: seeds " + SEEDS
        + " (6), merged from 2 shard(s)\n"));
    assertEquals(unsharded(), summary(merged));
  }

  @Test
  void theContainerRunsTheDetraftJarOnJdk17() throws IOException {
    List<String> lines = Files.readAllLines(DEPLOY.resolve("Dockerfile"));
    List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertTrue(from.stream().allMatch(l -> l.contains("temurin-17") || l.contains(":17-")),
        from.toString());
    assertTrue(lines.contains("COPY --from=build /src/kv-app/target/detraft.jar"
        + " /opt/detraft/kv-app/target/detraft.jar"), "the launcher's jar path");
    assertTrue(lines.contains("ENTRYPOINT [\"detraft\"]"));
    // The launcher the image copies is the repository's, which runs that jar.
    assertTrue(Files.readString(DEPLOY.getParent().resolve("detraft"))
        .contains("JAR=\"$DIR/kv-app/target/detraft.jar\""));
  }
}
