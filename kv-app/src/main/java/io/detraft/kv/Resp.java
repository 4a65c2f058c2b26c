package io.detraft.kv;

import io.detraft.kv.resp.RespServer;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The RESP front end's side of the command line: its flags ({@link #FLAGS}) made into {@link
 * RespServer.Options}, and a node's RESP server started so that it closes with the node.
 */
final class Resp {
  /** {@code --auth-token-file}, {@code --tls-cert}, {@code --tls-key}, {@code --tls-client-ca}. */
  static final Set<String> FLAGS = Set.of("auth-token-file", "tls-cert", "tls-key",
      "tls-client-ca", "peer-tls-ca");

  private Resp() {}

  /**
   * The options the flags ask for: AUTH's token from the token file (its first line); TLS with
   * {@code --tls-cert} and {@code --tls-key} (PEM); with {@code --tls-client-ca} too, mutual
   * TLS: a client must show a certificate that CA signed.
   *
   * @throws IllegalStateException naming the file that cannot be used, and why
   */
  static RespServer.Options options(Flags f) {
    RespServer.Options options = RespServer.Options.defaults();
    if (f.has("auth-token-file")) {
      options = options.withAuthToken(token(Path.of(f.get("auth-token-file"))));
    }
    if (f.has("tls-cert") != f.has("tls-key")) {
      throw new Flags.UsageException("--tls-cert and --tls-key go together");
    }
    for (String flag : new String[] {"tls-client-ca", "peer-tls-ca"}) {
      if (f.has(flag) && !f.has("tls-cert")) {
        throw new Flags.UsageException("--" + flag + " needs --tls-cert and --tls-key");
      }
    }
    if (f.has("tls-cert")) {
      options = options.withTls(tls(Path.of(f.get("tls-cert")), Path.of(f.get("tls-key")),
          f.has("tls-client-ca") ? Path.of(f.get("tls-client-ca")) : null));
    }
    return options;
  }

  /**
   * With {@code --peer-tls-ca}: mutual TLS between nodes, each showing its {@code --tls-cert}
   * (which must name its node id) and trusting the CA; null without it.
   */
  static javax.net.ssl.SSLContext peerTls(Flags f) {
    return f.has("peer-tls-ca") ? TlsFiles.context(Path.of(f.get("peer-tls-ca")),
        Path.of(f.get("tls-cert")), Path.of(f.get("tls-key"))) : null;
  }

  /** HTTPS for the HTTP API ({@code --http-tls}): as RESP's TLS, from the same flags. */
  static SslContext httpTls(Flags f) {
    return tls(Path.of(f.get("tls-cert")), Path.of(f.get("tls-key")),
        f.has("tls-client-ca") ? Path.of(f.get("tls-client-ca")) : null);
  }

  /**
   * How a node with {@code --http-tls} reaches the others' HTTPS API (forwarded writes):
   * trusting {@code --peer-tls-ca} (else {@code --tls-client-ca}), showing its certificate.
   */
  static javax.net.ssl.SSLContext forwardingTls(Flags f) {
    return TlsFiles.context(Path.of(f.get(f.has("peer-tls-ca") ? "peer-tls-ca"
        : "tls-client-ca")), Path.of(f.get("tls-cert")), Path.of(f.get("tls-key")));
  }

  /** A token file's first line, which must not be empty. */
  static byte[] token(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the token file " + file + ": " + e);
    }
    String line = text.lines().findFirst().orElse("").strip();
    if (line.isEmpty()) {
      throw new IllegalStateException("the token file " + file + " is empty");
    }
    return line.getBytes(StandardCharsets.UTF_8);
  }

  /** A server's TLS context; {@code clientCa} non-null: clients must show a certificate. */
  static SslContext tls(Path certificate, Path key, Path clientCa) {
    try {
      SslContextBuilder b = SslContextBuilder.forServer(certificate.toFile(), key.toFile());
      if (clientCa != null) {
        b.trustManager(clientCa.toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot use the TLS certificate " + certificate
          + " and key " + key + (clientCa == null ? "" : " and CA " + clientCa) + ": "
          + e.getMessage());
    }
  }

  /** Serves RESP on {@code hostPort} for {@code server}; returns the bound address. */
  static InetSocketAddress serve(KvServer server, String hostPort,
      RespServer.Options options) {
    RespServer resp = RespServer.start(server.access(), Peers.address(hostPort), options);
    server.closeWith(resp);
    return resp.address();
  }
}
