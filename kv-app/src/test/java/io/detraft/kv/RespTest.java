package io.detraft.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.kv.resp.RespServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.SetParams;

/**
 * The RESP front end of a real 3-node cluster on loopback, driven by real clients: Jedis,
 * {@code redis-cli} (Debian's redis-tools; those tests are skipped, saying so, where it is
 * not installed) and raw sockets for what no client sends (malformed input, plain text to the
 * TLS port).
 */
@Timeout(180)
class RespTest {
  @TempDir static Path dir;
  private static TestCluster cluster;
  /** Plain RESP on every node, by node id (index 0 unused). */
  private static final int[] PORTS = new int[4];
  private static final List<RespServer> EXTRA = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    cluster = new TestCluster(dir.resolve("cluster"), 3);
    for (long id = 1; id <= 3; id++) {
      PORTS[(int) id] = Resp.serve(cluster.servers.get(id), "127.0.0.1:0",
          RespServer.Options.defaults()).getPort();
    }
    cluster.awaitLeaders();
  }

  @AfterAll
  static void stop() {
    EXTRA.forEach(RespServer::close);
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Jedis jedis(long node) {
    return new Jedis("127.0.0.1", PORTS[(int) node], 30_000);
  }

  @Test
  void jedisStringsCountersListsAndErrors() {
    try (Jedis one = jedis(1); Jedis two = jedis(2); Jedis three = jedis(3)) {
      assertEquals("PONG", one.ping());
      assertEquals("hi", one.echo("hi"));
      // A write on any node (a follower forwards it), read linearizably on every node.
      assertEquals("OK", two.set("greeting", "hello"));
      for (Jedis j : List.of(one, two, three)) {
        assertEquals("hello", j.get("greeting"));
      }
      assertNull(one.get("absent"));
      assertNull(one.set("greeting", "x", SetParams.setParams().nx()));
      assertEquals("OK", one.set("greeting", "hey", SetParams.setParams().xx()));
      assertNull(one.set("absent", "x", SetParams.setParams().xx()));
      assertEquals("hey", new String((byte[]) one.sendCommand(Protocol.Command.SET,
          "greeting", "hola", "GET"), StandardCharsets.UTF_8));
      assertEquals("hola", new String((byte[]) three.sendCommand(Protocol.Command.GETSET,
          "greeting", "salut"), StandardCharsets.UTF_8));
      assertEquals(1L, one.incr("n"));
      assertEquals(11L, two.incrBy("n", 10));
      assertEquals(10L, three.decr("n"));
      assertEquals(-5L, one.decrBy("n", 15));
      assertEquals(5L, one.append("{c}s", "abcde"));
      assertEquals(7L, one.append("{c}s", "fg"));
      assertEquals(7L, one.strlen("{c}s"));
      assertEquals(1L, one.incr("{c}n"));
      assertEquals(2L, one.exists("{c}s", "{c}n", "{c}absent"));
      assertEquals(1L, one.del("{c}s", "{c}absent"));
      JedisDataException notNumber = assertThrows(JedisDataException.class,
          () -> one.incr("greeting"));
      assertEquals("ERR value is not an integer or out of range", notNumber.getMessage());

      // MSET/MGET/MSETNX within one hash tag, CROSSSLOT across groups.
      assertEquals("OK", one.mset("{u1}:name", "ann", "{u1}:age", "33"));
      assertEquals(List.of("ann", "33"), two.mget("{u1}:name", "{u1}:age"));
      assertEquals(0L, one.msetnx("{u1}:name", "bob", "{u1}:city", "oslo"));
      assertNull(one.get("{u1}:city")); // all or nothing
      assertEquals(1L, one.msetnx("{u1}:city", "oslo", "{u1}:zip", "0150"));
      JedisDataException crossSlot = assertThrows(JedisDataException.class,
          () -> one.mset(keysInTwoGroups()));
      assertTrue(crossSlot.getMessage().startsWith("CROSSSLOT"), crossSlot.getMessage());

      assertEquals(2L, one.rpush("list", "b", "c"));
      assertEquals(3L, two.lpush("list", "a"));
      assertEquals(List.of("a", "b", "c"), three.lrange("list", 0, -1));
      assertEquals(List.of("b", "c"), three.lrange("list", -2, 10));
      assertEquals(3L, one.llen("list"));
      JedisDataException wrongType = assertThrows(JedisDataException.class,
          () -> one.get("list"));
      assertTrue(wrongType.getMessage().startsWith("WRONGTYPE"), wrongType.getMessage());

      JedisDataException unknown = assertThrows(JedisDataException.class,
          () -> one.sendCommand(() -> "FLUSHALL".getBytes(StandardCharsets.UTF_8)));
      assertTrue(unknown.getMessage().startsWith("ERR unknown command 'FLUSHALL'"),
          unknown.getMessage());
      JedisDataException arity = assertThrows(JedisDataException.class,
          () -> one.sendCommand(Protocol.Command.GET));
      assertEquals("ERR wrong number of arguments for 'get' command", arity.getMessage());
      assertEquals("OK", one.select(0));
      assertThrows(JedisDataException.class, () -> one.select(1));
      assertEquals("OK", one.clientSetname("tester"));
      assertEquals("tester", one.clientGetname());
      assertTrue(one.info("replication").contains("group1:role="), one.info("replication"));
      assertEquals("PONG", one.ping()); // the connection still serves after every error
    }
  }

  /** Two keys (with values) that hash to different groups. */
  private static String[] keysInTwoGroups() {
    Partitioner p = new Partitioner(TestCluster.GROUPS);
    for (int i = 1; ; i++) {
      if (p.groupOf(("k" + i).getBytes(StandardCharsets.UTF_8))
          != p.groupOf("k0".getBytes(StandardCharsets.UTF_8))) {
        return new String[] {"k0", "a", "k" + i, "b"};
      }
    }
  }

  @Test
  void multiExecAndWatch() {
    try (Jedis one = jedis(1); Jedis two = jedis(2)) {
      Transaction t = one.multi();
      t.set("{tx}a", "1");
      t.incrBy("{tx}b", 5);
      t.rpush("{tx}l", "x");
      t.get("{tx}a");
      assertEquals(List.of("OK", 5L, 1L, "1"), t.exec());

      // WATCH: a change by another client between WATCH and EXEC aborts the transaction.
      one.watch("{tx}a");
      assertEquals("OK", two.set("{tx}a", "changed"));
      Transaction aborted = one.multi();
      aborted.set("{tx}a", "mine");
      assertNull(aborted.exec());
      assertEquals("changed", two.get("{tx}a"));
      // Unchanged: it applies.
      one.watch("{tx}a");
      Transaction applied = one.multi();
      applied.set("{tx}a", "mine");
      assertEquals(List.of("OK"), applied.exec());
      assertEquals("mine", two.get("{tx}a"));

      // A command with an error while queueing discards the whole transaction.
      Transaction bad = one.multi();
      bad.set("{tx}a", "never");
      assertThrows(JedisDataException.class, () -> {
        bad.set("{other}z", "1"); // another group: CROSSSLOT, queued as an error
        bad.exec();
      });
      assertEquals("mine", two.get("{tx}a"));
    }
  }

  @Test
  void pipelinedCommandsAnswerInOrderAndReadonlyReadsStale() {
    try (Jedis two = jedis(2); Jedis three = jedis(3)) {
      redis.clients.jedis.Pipeline p = two.pipelined();
      List<redis.clients.jedis.Response<String>> gets = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        p.set("p" + i, "v" + i); // keys of every group: some proposed here, some forwarded
        gets.add(p.get("p" + i)); // each GET after its SET: this connection's order holds
      }
      p.sync();
      for (int i = 0; i < 500; i++) {
        assertEquals("v" + i, gets.get(i).get());
      }
      assertEquals("OK", three.readonly()); // stale reads from here on, as in Redis Cluster
      TestCluster.await("a stale read catching up", () -> "v499".equals(three.get("p499")));
      assertEquals("OK", three.readwrite());
      assertEquals("v0", three.get("p0"));
    }
  }

  @Test
  void resp3AfterHello() throws Exception {
    try (Socket s = socket(PORTS[1])) {
      String reply = exchange(s, "HELLO 3\r\nGET absent-key\r\nHELLO 2\r\nGET absent-key\r\n",
          "$-1\r\n");
      assertTrue(reply.startsWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), reply);
      assertTrue(reply.contains("$5\r\nproto\r\n:3\r\n"), reply);
      assertTrue(reply.contains("\r\n_\r\n"), reply); // RESP3 null
      assertTrue(reply.contains("\r\n*14\r\n$6\r\nserver\r\n"), reply); // HELLO 2: an array
      assertTrue(reply.endsWith("$-1\r\n"), reply); // RESP2 null again after HELLO 2
    }
  }

  @Test
  void badInputGetsAnErrorOrAClosedConnectionAndOthersAreStillServed() throws Exception {
    try (Jedis bystander = jedis(1)) {
      assertEquals("PONG", bystander.ping());
      // Malformed: a bulk length that is not a number.
      assertProtocolErrorThenClosed("*1\r\n$x\r\nPING\r\n");
      // A bulk length of 2^31.
      assertProtocolErrorThenClosed("*1\r\n$2147483648\r\n");
      // A multi-bulk announcing 600 million arguments.
      assertProtocolErrorThenClosed("*600000000\r\n");
      // A 600 MB multi-bulk of 1 MB arguments: refused once past the per-command limit
      // (16 MB), long before 600 MB arrive.
      try (Socket s = socket(PORTS[1])) {
        OutputStream out = s.getOutputStream();
        out.write("*600\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] bulk = new byte[1 << 20];
        byte[] header = ("$" + bulk.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
        int sent = 0;
        try {
          for (; sent < 600; sent++) {
            out.write(header);
            out.write(bulk);
            out.write('\r');
            out.write('\n');
          }
        } catch (IOException closedByServer) {
          // expected: the server closed the connection after its error reply
        }
        assertTrue(sent < 600, "the server took all 600 MB");
        String reply = readAll(s);
        assertTrue(reply.startsWith("-ERR Protocol error"), reply);
      }
      // An inline line longer than the decoder's limit (64 KiB) without a newline.
      assertProtocolErrorThenClosed("x".repeat(100_000));
      // Unknown commands and wrong arity: an error reply, the connection stays.
      try (Socket s = socket(PORTS[1])) {
        String reply = exchange(s, "NOSUCH a b\r\nGET\r\nPING\r\n", "+PONG\r\n");
        assertEquals("-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
            + "-ERR wrong number of arguments for 'get' command\r\n+PONG\r\n", reply);
      }
      // A value over the store's limit is refused before it is proposed.
      JedisDataException big = assertThrows(JedisDataException.class,
          () -> bystander.set("big", "v".repeat(KvCommand.MAX_STORED_VALUE_BYTES + 1)));
      assertEquals("ERR the value has " + (KvCommand.MAX_STORED_VALUE_BYTES + 1)
          + " bytes; the limit is " + KvCommand.MAX_STORED_VALUE_BYTES, big.getMessage());
      assertEquals("PONG", bystander.ping());
    }
  }

  private static void assertProtocolErrorThenClosed(String input) throws IOException {
    try (Socket s = socket(PORTS[1])) {
      s.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
      String reply = readAll(s);
      assertTrue(reply.startsWith("-ERR Protocol error"), () -> "for " + abbreviate(input)
          + ": " + reply);
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  @Test
  void authToken() throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, "s3cret\n");
    RespServer guarded = RespServer.start(cluster.servers.get(1L).access(),
        new InetSocketAddress("127.0.0.1", 0),
        RespServer.Options.defaults().withAuthToken(Resp.token(tokenFile)));
    EXTRA.add(guarded);
    try (Jedis j = new Jedis("127.0.0.1", guarded.address().getPort(), 30_000)) {
      JedisDataException noAuth = assertThrows(JedisDataException.class, () -> j.get("k"));
      assertEquals("NOAUTH Authentication required.", noAuth.getMessage());
      JedisDataException wrong = assertThrows(JedisDataException.class, () -> j.auth("nope"));
      assertTrue(wrong.getMessage().startsWith("WRONGPASS"), wrong.getMessage());
      assertThrows(JedisDataException.class, () -> j.set("k", "v"));
      assertEquals("OK", j.auth("s3cret"));
      assertEquals("OK", j.set("authed", "yes"));
      assertEquals("yes", j.get("authed"));
    }
    // HELLO 3 AUTH in one step, as RESP3 clients do.
    try (Socket s = socket(guarded.address().getPort())) {
      String reply = exchange(s, "HELLO 3 AUTH default s3cret\r\nGET authed\r\n",
          "$3\r\nyes\r\n");
      assertTrue(reply.startsWith("%7\r\n"), reply);
    }
    // An empty token file is refused with its name.
    Path empty = dir.resolve("empty-token");
    Files.writeString(empty, "\n");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Resp.token(empty));
    assertTrue(e.getMessage().contains("empty-token"), e.getMessage());
  }

  @Test
  void mutualTlsWithGeneratedCertificates() throws Exception {
    Path certs = dir.resolve("certs");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(Main.OK, Main.run(new String[] {"certs", "--dir", certs.toString(),
        "--nodes", "3"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)), err::toString);
    // Never overwrites.
    assertEquals(Main.FAILED, Main.run(new String[] {"certs", "--dir", certs.toString()},
        new PrintStream(out, true), new PrintStream(err, true)));
    RespServer tls = RespServer.start(cluster.servers.get(1L).access(),
        new InetSocketAddress("127.0.0.1", 0), RespServer.Options.defaults().withTls(
            Resp.tls(certs.resolve("node-1.pem"), certs.resolve("node-1.key"),
                certs.resolve("ca.pem"))));
    EXTRA.add(tls);
    int port = tls.address().getPort();

    // A client with the CA's client certificate is served.
    javax.net.ssl.SSLContext context = TlsFiles.clientContext(certs.resolve("ca.pem"),
        certs.resolve("client.pem"), certs.resolve("client.key"));
    try (Socket s = context.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      assertEquals("+OK\r\n$3\r\ntls\r\n", exchange(s, "SET over tls\r\nGET over\r\n",
          "$3\r\ntls\r\n"));
    }
    // Without a client certificate: the handshake fails, nothing is served.
    javax.net.ssl.SSLContext anonymous = TlsFiles.clientContext(certs.resolve("ca.pem"), null,
        null);
    try (Socket s = anonymous.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      assertThrows(IOException.class, () -> {
        s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        if (s.getInputStream().read() < 0) {
          throw new IOException("closed");
        }
      });
    }
    // Plain text to the TLS port: closed without a reply.
    try (Socket s = socket(port)) {
      s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      assertEquals("", readAll(s));
    }
    // redis-cli over mutual TLS, when installed.
    if (redisCliInstalled()) {
      String cli = run(List.of("redis-cli", "-p", String.valueOf(port), "--tls", "--cacert",
          certs.resolve("ca.pem").toString(), "--cert", certs.resolve("client.pem").toString(),
          "--key", certs.resolve("client.key").toString(), "GET", "over"), "");
      assertEquals("tls\n", cli);
    }
    assertEquals("PONG", new Jedis("127.0.0.1", PORTS[1], 30_000).ping());
  }

  @Test
  void redisCliScriptedSession() throws Exception {
    Assumptions.assumeTrue(redisCliInstalled(),
        "redis-cli is not installed (Debian: apt-get install redis-tools); skipped");
    String script = String.join("\n", "PING", "SET cli:greeting hello",
        "GET cli:greeting", "INCR cli:n", "INCRBY cli:n 41", "RPUSH cli:list a b c",
        "LRANGE cli:list 0 -1", "MSET {cli}a 1 {cli}b 2", "MGET {cli}a {cli}b",
        "DEL cli:greeting", "EXISTS cli:greeting", "SELECT 0", "NOSUCHCOMMAND") + "\n";
    String output = run(List.of("redis-cli", "-p", String.valueOf(PORTS[2])), script);
    assertEquals(String.join("\n", "PONG", "OK", "hello", "1", "42", "3", "a", "b", "c", "OK",
        "1", "2", "1", "0", "OK",
        "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ") + "\n\n", output);
    // (redis-cli prints an error with a blank line after it, against redis-server too.)
    // redis-cli's own start-up (COMMAND DOCS) and INFO work too.
    String info = run(List.of("redis-cli", "-p", String.valueOf(PORTS[3]), "INFO",
        "replication"), "");
    assertTrue(info.contains("# Replication") && info.contains("group1:role="), info);
  }

  /**
   * kv-app/README.md's TLS variant as written, with ephemeral ports: {@code detraft certs},
   * then {@code detraft server ... --resp --auth-token-file --tls-cert --tls-key
   * --tls-client-ca}, then redis-cli over mutual TLS with the token.
   */
  @Test
  void readmeTlsServerCommands() throws Exception {
    Path base = dir.resolve("readme");
    Path certs = base.resolve("certs");
    assertEquals(Main.OK, Main.run(new String[] {"certs", "--dir", certs.toString(), "--nodes",
        "3", "--cluster", "prod"}, new PrintStream(new ByteArrayOutputStream()), System.err));
    Path token = base.resolve("token");
    Files.writeString(token, "let-me-in\n");
    int respPort = Ports.free();
    String raft = "127.0.0.1:" + Ports.free();
    String[] args = {"--id", "1", "--data-dir", base.resolve("d1").toString(), "--raft",
        raft, "--http", "127.0.0.1:0", "--peers", "1=" + raft, "--resp", "127.0.0.1:" + respPort,
        "--auth-token-file", token.toString(), "--tls-cert", certs.resolve("node-1.pem")
            .toString(), "--tls-key", certs.resolve("node-1.key").toString(),
        "--tls-client-ca", certs.resolve("ca.pem").toString()};
    java.util.Set<String> flags = new java.util.HashSet<>(java.util.Set.of("id", "data-dir",
        "raft", "http", "peers", "join", "groups", "resp"));
    flags.addAll(Resp.FLAGS);
    java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] status = {-1};
    Thread server = new Thread(() -> status[0] = Main.server(new Flags(args, 0, flags,
        java.util.Set.of()), new PrintStream(out, true), System.err, stop));
    server.start();
    try {
      TestCluster.await("the server's start line", () -> out.toString().contains("resp "));
      assertTrue(out.toString().contains("resp 127.0.0.1:" + respPort), out.toString());
      if (redisCliInstalled()) {
        List<String> cli = List.of("redis-cli", "-p", String.valueOf(respPort), "--tls",
            "--cacert", certs.resolve("ca.pem").toString(), "--cert", certs.resolve(
                "client.pem").toString(), "--key", certs.resolve("client.key").toString(),
            "-a", "let-me-in", "--no-auth-warning");
        List<String> set = new ArrayList<>(cli);
        set.addAll(List.of("SET", "hello", "world"));
        // A single-node cluster elects itself: retry while it has no leader yet.
        TestCluster.await("SET over TLS", () -> {
          try {
            return run(set, "").equals("OK\n");
          } catch (Exception e) {
            return false;
          }
        });
        List<String> get = new ArrayList<>(cli);
        get.addAll(List.of("GET", "hello"));
        assertEquals("world\n", run(get, ""));
        List<String> noToken = new ArrayList<>(cli.subList(0, cli.size() - 3));
        noToken.addAll(List.of("GET", "hello"));
        assertEquals("NOAUTH Authentication required.\n\n", run(noToken, ""));
      }
    } finally {
      stop.countDown();
      server.join(60_000);
    }
    assertEquals(Main.OK, status[0]);
    // A token file that does not exist: exit 1, naming it.
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] missing = args.clone();
    missing[13] = base.resolve("no-such-token").toString();
    assertEquals(Main.FAILED, Main.server(new Flags(missing, 0, flags, java.util.Set.of()),
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true), stop));
    assertTrue(err.toString().contains("no-such-token"), err.toString());
    // --tls-cert without --tls-key: a usage error.
    assertEquals(Main.USAGE, Main.run(new String[] {"server", "--data-dir", base.toString(),
        "--resp", "127.0.0.1:0", "--tls-cert", "x.pem"}, new PrintStream(
        new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream())));
  }

  // ------------------------------------------------------------------ helpers

  static boolean redisCliInstalled() {
    try {
      return new ProcessBuilder("redis-cli", "--version").redirectErrorStream(true).start()
          .waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String run(List<String> command, String stdin) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "redis-cli did not finish");
    return output;
  }

  private static Socket socket(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(30_000);
    return s;
  }

  /** Sends {@code request} and reads until the answer ends with {@code lastReply}. */
  private static String exchange(Socket s, String request, String lastReply)
      throws IOException {
    s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    while (!got.toString(StandardCharsets.UTF_8).endsWith(lastReply)) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      got.write(b);
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  /** Everything until the server closes the connection (a timeout fails the test). */
  private static String readAll(Socket s) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = s.getInputStream().read(buffer)) >= 0; ) {
        got.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server did not close the connection; read so far: "
          + got.toString(StandardCharsets.UTF_8));
    } catch (IOException reset) {
      // a reset after the reply: the server closed with our bytes unread
    }
    return got.toString(StandardCharsets.UTF_8);
  }
}
