package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS on the HTTP API ({@code --http-tls}), with mutual TLS and the token on the data
 * endpoints ({@code --auth-data}), over real sockets: the CLI, curl and HttpPool with the CA
 * get through; plaintext, another CA and a client without a certificate are refused; a
 * request without the token gets 401. And the flags' bad input, and a 3-node {@code cluster
 * --tls-dir} whose nodes forward writes to each other over HTTPS.
 */
@Timeout(180)
class HttpsTest {
  private static final String TOKEN = "let-me-in";
  @TempDir Path dir;
  private Path certs;
  private Path token;

  @BeforeEach
  void makeCertificates() throws IOException {
    certs = dir.resolve("certs");
    assertEquals(Main.OK, run("certs", "--dir", certs.toString(), "--nodes", "3").status);
    token = dir.resolve("token");
    Files.writeString(token, TOKEN + "\n");
  }

  private record Result(int status, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true), new PrintStream(err, true));
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private String file(String name) {
    return certs.resolve(name).toString();
  }

  private SSLContext clientTls() {
    return TlsFiles.clientContext(certs.resolve("ca.pem"), certs.resolve("client.pem"),
        certs.resolve("client.key"));
  }

  /** A one-node server started as the CLI starts it; stops when the test's body returns. */
  private interface Body {
    void run(int httpPort) throws Exception;
  }

  private void withServer(List<String> extra, Body body) throws Exception {
    int http = Ports.free();
    String raft = "127.0.0.1:" + Ports.free();
    List<String> args = new ArrayList<>(List.of("--id", "1", "--data-dir",
        dir.resolve("d1").toString(), "--raft", raft, "--http", "127.0.0.1:" + http, "--peers",
        "1=" + raft));
    args.addAll(extra);
    CountDownLatch stop = new CountDownLatch(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] status = {-1};
    Thread server = new Thread(() -> status[0] = Main.server(Main.serverFlags(
        args.toArray(new String[0]), 0), new PrintStream(out, true), System.err, stop));
    server.start();
    try {
      TestCluster.await("the server's start line", () -> out.toString().contains("node 1"));
      body.run(http);
    } finally {
      stop.countDown();
      server.join(60_000);
    }
    assertEquals(Main.OK, status[0]);
  }

  @Test
  void httpsWithMutualTlsAndTheTokenOnData() throws Exception {
    withServer(List.of("--http-tls", "--tls-cert", file("node-1.pem"), "--tls-key",
        file("node-1.key"), "--tls-client-ca", file("ca.pem"), "--auth-token-file",
        token.toString(), "--auth-data"), http -> {
          String endpoint = "127.0.0.1:" + http;
          String[] client = {"--endpoints", endpoint, "--tls-ca", file("ca.pem"), "--tls-cert",
              file("client.pem"), "--tls-key", file("client.key"), "--auth-token-file",
              token.toString()};
          // kv-app/README.md's HTTPS variant: the server's flags above, then put with the CA,
          // a client certificate and the token, and curl.
          TestCluster.await("a put over HTTPS", () -> run(concat(new String[] {"put", "hello",
              "world"}, client)).status == Main.OK);
          Result get = run(concat(new String[] {"get", "hello"}, client));
          assertEquals(new Result(Main.OK, "world\n", ""), get);
          Result status = run(concat(new String[] {"status"}, client));
          assertEquals(Main.OK, status.status, status.err);
          assertTrue(status.out.contains("\"leader\""), status.out);

          InetSocketAddress address = Peers.address(endpoint);
          Map<String, String> bearer = Map.of("Authorization", "Bearer " + TOKEN);
          try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1, clientTls())) {
            assertEquals("world", pool.send(address, "GET", "/v1/kv/hello", bearer, null)
                .text());
            // --auth-data: the data endpoints want the token too; admin ones as before.
            HttpPool.Response noToken = pool.send(address, "GET", "/v1/kv/hello", Map.of(),
                null);
            assertEquals(401, noToken.status());
            assertTrue(noToken.text().contains("unauthorized"), noToken.text());
            assertEquals(401, pool.send(address, "PUT", "/v1/kv/x", Map.of(),
                new byte[] {1}).status());
            assertEquals(401, pool.send(address, "POST", "/v1/sessions?group=1", Map.of(),
                new byte[0]).status());
            assertEquals(401, pool.send(address, "POST", "/v1/snapshot", Map.of(),
                new byte[0]).status());
            assertEquals(401, pool.send(address, "GET", "/v1/kv/hello", Map.of(
                "Authorization", "Bearer wrong"), null).status());
          }
          Result cliNoToken = run("get", "hello", "--endpoints", endpoint, "--tls-ca",
              file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key",
              file("client.key"));
          assertEquals(Main.FAILED, cliNoToken.status);
          assertTrue(cliNoToken.err.contains("unauthorized"), cliNoToken.err);

          // Refused: a client without a certificate (mutual TLS), one that trusts another
          // CA, and plain HTTP.
          SSLContext noCertificate = TlsFiles.clientContext(certs.resolve("ca.pem"), null,
              null);
          assertRefused(noCertificate, address);
          Path otherCa = dir.resolve("other");
          assertEquals(Main.OK, run("certs", "--dir", otherCa.toString(), "--nodes", "1")
              .status);
          assertRefused(TlsFiles.clientContext(otherCa.resolve("ca.pem"),
              otherCa.resolve("client.pem"), otherCa.resolve("client.key")), address);
          assertFalse(plaintextAnswer(http).startsWith("HTTP/"));
          assertRefused(null, address);

          if (curlInstalled()) {
            // README: curl with the CA and the client certificate.
            assertEquals("world", curl("--cacert", file("ca.pem"), "--cert",
                file("client.pem"), "--key", file("client.key"), "-H", "Authorization: Bearer "
                + TOKEN, "https://" + endpoint + "/v1/kv/hello"));
            assertEquals("", curl("--cacert", file("ca.pem"), "https://" + endpoint
                + "/v1/kv/hello"), "curl without a certificate");
          }
        });
  }

  private static void assertRefused(SSLContext tls, InetSocketAddress address) {
    try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1, tls)) {
      assertThrows(IOException.class, () -> pool.send(address, "GET", "/v1/status", Map.of(),
          null));
    }
  }

  /** What a plaintext request to the HTTPS port gets back before the connection closes. */
  private static String plaintextAnswer(int port) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    } catch (java.net.SocketException reset) {
      return "";
    }
  }

  @Test
  void badTlsFlagsAndFiles() throws IOException {
    String raft = "127.0.0.1:" + Ports.free();
    String[] base = {"server", "--id", "1", "--data-dir", dir.resolve("bad").toString(),
        "--raft", raft, "--http", "127.0.0.1:0", "--peers", "1=" + raft, "--http-tls",
        "--tls-client-ca", file("ca.pem")};
    // A certificate file that does not exist, and a key that is not a key: exit 1, named.
    Result missing = run(concat(base, new String[] {"--tls-cert", file("no-such.pem"),
        "--tls-key", file("node-1.key")}));
    assertEquals(Main.FAILED, missing.status);
    assertTrue(missing.err.contains("cannot start") && missing.err.contains("no-such.pem"),
        missing.err);
    Result wrongKey = run(concat(base, new String[] {"--tls-cert", file("node-1.pem"),
        "--tls-key", file("node-1.pem")}));
    assertEquals(Main.FAILED, wrongKey.status);
    assertTrue(wrongKey.err.contains("node-1.pem"), wrongKey.err);
    Path garbage = dir.resolve("garbage.pem");
    Files.writeString(garbage, "not a certificate\n");
    Result garbageCa = run((new String[] {"server", "--id", "1", "--data-dir",
        dir.resolve("bad").toString(), "--raft", raft, "--http", "127.0.0.1:0", "--peers",
        "1=" + raft, "--http-tls", "--tls-client-ca", garbage.toString(), "--tls-cert",
        file("node-1.pem"), "--tls-key", file("node-1.key")}));
    assertEquals(Main.FAILED, garbageCa.status);
    assertTrue(garbageCa.err.contains("garbage.pem"), garbageCa.err);
    // Flags that do not go together: exit 2 with the usage.
    assertUsage(run("server", "--data-dir", "x", "--http-tls"), "--http-tls needs --tls-cert");
    assertUsage(run("server", "--data-dir", "x", "--http-tls", "--tls-cert", "c", "--tls-key",
        "k"), "--http-tls needs --peer-tls-ca or --tls-client-ca");
    assertUsage(run("server", "--data-dir", "x", "--auth-data"),
        "--auth-data needs --auth-token-file");
    assertUsage(run("get", "k", "--tls-cert", "c", "--tls-key", "k"),
        "--tls-cert needs --tls-ca");
    assertUsage(run("get", "k", "--tls-ca", "c", "--tls-cert", "c"),
        "--tls-cert and --tls-key go together");
    // A client CA file that does not exist: exit 1, named.
    Result noCa = run("get", "k", "--endpoints", "127.0.0.1:1", "--tls-ca",
        file("no-such-ca.pem"));
    assertEquals(Main.FAILED, noCa.status);
    assertTrue(noCa.err.contains("no-such-ca.pem"), noCa.err);
  }

  private static void assertUsage(Result r, String message) {
    assertEquals(Main.USAGE, r.status, r.err);
    assertTrue(r.err.contains(message), r.err);
  }

  @Test
  void aTlsClusterForwardsOverHttps() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] status = {-1};
    // README.md: ./detraft cluster --nodes 3 --tls-dir certs (here on ephemeral ports).
    String[] args = {"--nodes", "3", "--tls-dir", certs.toString(), "--base-port", "0",
        "--data-dir", dir.resolve("c").toString()};
    Thread cluster = new Thread(() -> status[0] = Main.cluster(Main.clusterFlags(args, 0),
        new PrintStream(out, true), stop));
    cluster.start();
    try {
      // The last line it prints: the client commands for the TLS cluster.
      TestCluster.await("the cluster's endpoints", () -> out.toString().contains(
          "./detraft get hello --tls-ca"));
      String printed = out.toString();
      assertTrue(printed.contains("curl --cacert"), printed);
      List<InetSocketAddress> nodes = new ArrayList<>();
      for (String line : printed.split("\n")) {
        if (line.startsWith("node ")) {
          nodes.add(Peers.address(line.split("\\s+")[3]));
        }
      }
      assertEquals(3, nodes.size(), printed);
      // Keys of every group through every node: followers forward to leaders over HTTPS.
      try (HttpPool pool = new HttpPool(Duration.ofSeconds(10), 1, clientTls())) {
        for (InetSocketAddress node : nodes) {
          for (int k = 0; k < 16; k++) {
            String target = "/v1/kv/k" + k + "-" + node.getPort();
            TestCluster.await("a put through " + node, () -> {
              try {
                return pool.send(node, "PUT", target, Map.of(), new byte[] {'v'}).status()
                    == 200;
              } catch (IOException e) {
                return false;
              }
            });
          }
        }
      }
      assertRefused(null, nodes.get(0));
      // README.md's TLS variant (its ports are 8081-8083; here they are ephemeral).
      String endpoint = Peers.format(nodes.get(0));
      Result put = run("put", "hello", "world", "--endpoints", endpoint, "--tls-ca",
          file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.key"));
      assertEquals(new Result(Main.OK, "OK\n", ""), put);
      if (curlInstalled()) {
        assertEquals("world", curl("--cacert", file("ca.pem"), "--cert", file("client.pem"),
            "--key", file("client.key"), "https://" + endpoint + "/v1/kv/hello"));
      }
    } finally {
      stop.countDown();
      cluster.join(60_000);
    }
    assertEquals(Main.OK, status[0]);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static boolean curlInstalled() {
    try {
      return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start()
          .waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl"));
    command.addAll(List.of(args));
    // stdout only: curl's progress meter and errors go to stderr.
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl did not finish");
    return p.exitValue() == 0 ? output : "";
  }
}
