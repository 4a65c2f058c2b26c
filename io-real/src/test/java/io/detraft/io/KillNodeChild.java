package io.detraft.io;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * The node {@link KillNodeTest} runs in its own JVM and SIGKILLs: one node of a
 * {@link LocalCluster} whose other nodes run in the test's JVM.
 *
 * <p>Arguments: the cluster's root directory, the cluster size, this node's id, the tick in
 * milliseconds, then {@code ID=HOST:PORT} for every other node. Reads one command per line on
 * stdin and proposes it through this node; reports on stdout, each line ending with a period so
 * that a line cut short by the kill is recognizable:
 *
 * <pre>
 * port PORT                    listening on PORT of 127.0.0.1
 * ok COMMAND INDEX             COMMAND committed and applied here at INDEX
 * fail COMMAND REASON UNKNOWN  the proposal failed; UNKNOWN: whether it may still commit
 * </pre>
 */
public final class KillNodeChild {
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    int size = Integer.parseInt(args[1]);
    long id = Long.parseLong(args[2]);
    Duration tick = Duration.ofMillis(Long.parseLong(args[3]));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    LocalCluster cluster = new LocalCluster(root, size, tick, Set.of(id));
    for (int i = 4; i < args.length; i++) {
      String[] peer = args[i].split("[=:]");
      cluster.setAddress(Long.parseLong(peer[0]),
          new InetSocketAddress(peer[1], Integer.parseInt(peer[2])));
    }
    report(out, "port " + cluster.address(id).getPort());
    NodeRunner runner = cluster.runner(id);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
        StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String command = line;
      runner.propose(LocalCluster.GROUP, command.getBytes(StandardCharsets.UTF_8))
          .whenComplete((result, error) -> {
            if (error == null) {
              String answer = new String(result, StandardCharsets.UTF_8); // "ok:INDEX"
              report(out, "ok " + command + " " + answer.substring("ok:".length()));
            } else if (error instanceof ProposalException pe) {
              report(out, "fail " + command + " " + pe.reason() + " " + pe.outcomeUnknown());
            } else {
              report(out, "fail " + command + " " + error.getClass().getSimpleName() + " true");
            }
          });
    }
    cluster.close(); // stdin closed: the test is done with us (normally we are killed first)
  }

  private static void report(PrintStream out, String line) {
    synchronized (out) {
      out.println(line + ".");
      out.flush();
    }
  }
}
