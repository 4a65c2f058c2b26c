package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The small data and admin commands of the CLI: put, get, del, status, members. */
final class Commands {
  /** HTTPS ({@code --tls-ca}, for mutual TLS {@code --tls-cert}, {@code --tls-key}), token. */
  static final Set<String> TLS_FLAGS = Set.of("tls-ca", "tls-cert", "tls-key",
      "auth-token-file");

  private Commands() {}

  /**
   * The client options the flags ask for.
   *
   * @throws IllegalStateException naming a file that cannot be used
   */
  static KvClient.Options options(Flags f) {
    if (f.has("tls-cert") != f.has("tls-key")) {
      throw new Flags.UsageException("--tls-cert and --tls-key go together");
    }
    if (f.has("tls-cert") && !f.has("tls-ca")) {
      throw new Flags.UsageException("--tls-cert needs --tls-ca");
    }
    KvClient.Options options = KvClient.Options.defaults();
    if (f.has("tls-ca")) {
      options = options.withTls(TlsFiles.clientContext(Path.of(f.get("tls-ca")),
          f.has("tls-cert") ? Path.of(f.get("tls-cert")) : null,
          f.has("tls-key") ? Path.of(f.get("tls-key")) : null));
    }
    if (f.has("auth-token-file")) {
      options = options.withAuthToken(Resp.token(Path.of(f.get("auth-token-file"))));
    }
    return options;
  }

  static List<String> endpoints(Flags f) {
    String spec = f.get("endpoints", System.getenv().getOrDefault("DETRAFT_ENDPOINTS",
        "127.0.0.1:8081"));
    List<String> endpoints = Arrays.stream(spec.split(",")).map(String::trim)
        .filter(s -> !s.isEmpty()).toList();
    try {
      endpoints.forEach(Peers::address);
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException("--endpoints: " + e.getMessage());
    }
    if (endpoints.isEmpty()) {
      throw new Flags.UsageException("--endpoints is empty");
    }
    return endpoints;
  }

  static int run(String command, Flags f, PrintStream out, PrintStream err) {
    List<String> endpoints = endpoints(f);
    List<String> args = f.positional();
    switch (command) {
      case "put" -> f.expectPositional(2, "put KEY VALUE");
      case "get", "del" -> f.expectPositional(1, command + " KEY");
      default -> f.expectPositional(0, command + " takes no arguments");
    }
    KvClient.Options options;
    try {
      options = options(f);
    } catch (IllegalStateException e) {
      err.println("detraft: " + e.getMessage());
      return Main.FAILED;
    }
    if (command.equals("status") || command.equals("members")) {
      return admin(endpoints, command.equals("status") ? "/v1/status" : "/v1/members", options,
          out, err);
    }
    try (KvClient client = KvClient.connect(endpoints, options)) {
      byte[] key = args.get(0).getBytes(StandardCharsets.UTF_8);
      switch (command) {
        case "put" -> {
          client.put(key, args.get(1).getBytes(StandardCharsets.UTF_8));
          out.println("OK");
        }
        case "get" -> {
          Optional<byte[]> value = client.get(key, f.has("stale"));
          if (value.isEmpty()) {
            err.println("not found");
            return Main.FAILED;
          }
          out.println(new String(value.get(), StandardCharsets.UTF_8));
        }
        default -> {
          if (!client.delete(key)) {
            err.println("not found");
            return Main.FAILED;
          }
          out.println("OK");
        }
      }
      return Main.OK;
    } catch (KvClientException e) {
      err.println("detraft: " + e.getMessage());
      return Main.FAILED;
    }
  }

  /** Prints the first answer any endpoint gives. */
  private static int admin(List<String> endpoints, String path, KvClient.Options options,
      PrintStream out, PrintStream err) {
    Map<String, String> headers = new AdminToken(options.authToken()).headers();
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(5), 1, options.tls())) {
      IOException last = null;
      for (String e : endpoints) {
        try {
          HttpPool.Response r = pool.send(Peers.address(e), "GET", path, headers, null);
          (r.status() == 200 ? out : err).println(r.text());
          return r.status() == 200 ? Main.OK : Main.FAILED;
        } catch (IOException ex) {
          last = ex;
        }
      }
      err.println("detraft: no endpoint answered: " + last);
      return Main.FAILED;
    }
  }
}
