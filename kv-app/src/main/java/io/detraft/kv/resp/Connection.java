package io.detraft.kv.resp;

import io.detraft.kv.KvAccess;
import io.detraft.kv.KvCommand;
import io.detraft.kv.KvCommand.TxnOp;
import io.detraft.kv.KvResult;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One client connection: its state (protocol version, authentication, name, READONLY, a MULTI
 * being queued, WATCHed keys) and its commands, answered strictly in the order they came.
 *
 * <p><b>Pipelining.</b> Commands start as they arrive, without waiting for earlier answers, so
 * a pipeline's writes reach the Raft thread together and share its batches (one log append and
 * one fsync per batch). Order within a group is kept as Redis users expect of one connection: a
 * command on a group starts only after this connection's earlier writes on that group finished
 * (and a write after its earlier reads), so a GET after a SET sees it; reads in a row run
 * together. Groups are independent of each other.
 *
 * <p>Runs on its channel's event loop; only the futures of started commands complete elsewhere
 * (the Raft thread), and they hand the writing back to the event loop.
 */
final class Connection extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(Connection.class.getName());
  private static final AtomicLong IDS = new AtomicLong();
  /** Unanswered commands at which the connection stops reading (back-pressure). */
  private static final int MAX_PENDING = 1024;

  private record Pending(CompletableFuture<Reply> reply, int protocol, boolean close) {}

  /** This connection's order on one group (see the class comment). */
  private static final class GroupOrder {
    CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
    /** What the current run of reads waits for (the tail before it began). */
    CompletableFuture<?> readBase = tail;
    boolean reading;
  }

  private final KvAccess access;
  private final byte[] token;
  private final int port;
  private final long id = IDS.incrementAndGet();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final Map<Long, GroupOrder> orders = new HashMap<>();
  private ChannelHandlerContext ctx;
  private int protocol = 2;
  private boolean authenticated;
  private String name;
  private boolean stale;
  private boolean closing;
  /** The commands of an open MULTI, or null. */
  private List<DataCommands.Plan> queued;
  private boolean dirty;
  /** The group of the open transaction and WATCHed keys (0: none yet). */
  private long transactionGroup;
  private final List<Watched> watches = new ArrayList<>();

  /**
   * A WATCHed key and the check EXEC will carry: the key must still hold what this connection
   * last read of it, by the WATCH or by a later read (a GET before MULTI, as in the usual
   * WATCH, GET, MULTI, SET, EXEC). Detraft keeps no version per key, so WATCH compares values:
   * a key changed and changed back since that read does not abort EXEC (Redis would). EXEC
   * applies only where the value it was computed from still holds, so a compare-and-set
   * built this way is linearizable (RespWorkloadTest checks it).
   */
  private static final class Watched {
    final byte[] key;
    /** Set by the latest read of the key; read by EXEC, which runs after it (ordered). */
    volatile CompletableFuture<TxnOp> check = new CompletableFuture<>();

    Watched(byte[] key) {
      this.key = key;
    }
  }

  Connection(KvAccess access, byte[] token, int port) {
    this.access = access;
    this.token = token;
    this.port = port;
    this.authenticated = token == null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (closing) {
      return;
    }
    List<byte[]> args = (List<byte[]>) message;
    CompletableFuture<Reply> reply;
    boolean close = false;
    try {
      String command = DataCommands.lower(args.get(0));
      close = command.equals("quit");
      reply = dispatch(command, args);
    } catch (DataCommands.Refused e) {
      reply = CompletableFuture.completedFuture(Reply.error(e.getMessage()));
    }
    enqueue(reply, close);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    drain();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (closing) {
      return;
    }
    if (cause instanceof IOException) {
      ctx.close(); // the peer went away
      return;
    }
    Throwable c = cause instanceof DecoderException && cause.getCause() != null
        ? cause.getCause() : cause;
    if (c instanceof javax.net.ssl.SSLException) {
      // Plain text on a TLS port, a failed handshake, a client certificate the CA did not
      // sign: no reply can reach such a client, so close.
      closing = true;
      LOG.log(System.Logger.Level.INFO, "RESP client " + ctx.channel().remoteAddress()
          + " refused: " + c.getMessage());
      ctx.close();
      return;
    }
    String text = c instanceof CommandAggregator.ProtocolException ? c.getMessage()
        : c instanceof TooLongFrameException ? "ERR Protocol error: invalid bulk length"
        : "ERR Protocol error: " + c.getMessage();
    // Redis answers a protocol error and closes: the stream cannot be resynchronised.
    ctx.channel().config().setAutoRead(false);
    enqueue(CompletableFuture.completedFuture(Reply.error(text)), true);
    drain();
  }

  private void enqueue(CompletableFuture<Reply> reply, boolean close) {
    pending.add(new Pending(reply, protocol, close));
    if (close) {
      closing = true;
    }
    if (!reply.isDone()) {
      reply.whenComplete((r, e) -> ctx.executor().execute(this::drain));
    }
    if (pending.size() >= MAX_PENDING) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  /** Writes the answers that are ready, in order, and flushes. */
  private void drain() {
    boolean wrote = false;
    while (!pending.isEmpty() && pending.peek().reply().isDone()) {
      Pending p = pending.poll();
      Reply r;
      try {
        r = p.reply().join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        r = failure(e);
      }
      Reply.write(ctx, r, p.protocol());
      wrote = true;
      if (p.close()) {
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
            .addListener(ChannelFutureListener.CLOSE);
        pending.clear();
        return;
      }
    }
    if (wrote) {
      ctx.flush();
    }
    if (!closing && pending.size() < MAX_PENDING / 2 && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  // ------------------------------------------------------------------ commands

  private CompletableFuture<Reply> dispatch(String command, List<byte[]> args) {
    if (!ServerInfo.ARITY.containsKey(command)) {
      dirty |= queued != null;
      return done(unknown(command, args));
    }
    if (!ServerInfo.arityHolds(command, args.size())) {
      dirty |= queued != null;
      return done(Reply.error("ERR wrong number of arguments for '" + command + "' command"));
    }
    if (!authenticated && !command.equals("auth") && !command.equals("hello")
        && !command.equals("quit")) {
      return done(Reply.error("NOAUTH Authentication required."));
    }
    if (queued != null && !List.of("exec", "discard", "multi", "watch", "quit")
        .contains(command)) {
      return done(queue(command, args));
    }
    switch (command) {
      case "ping":
        return done(args.size() == 1 ? new Reply.Simple("PONG")
            : args.size() == 2 ? new Reply.Bulk(args.get(1))
            : Reply.error("ERR wrong number of arguments for 'ping' command"));
      case "echo":
        return done(new Reply.Bulk(args.get(1)));
      case "quit":
        return done(Reply.OK);
      case "select":
        return done(select(args.get(1)));
      case "auth":
        return done(auth(args.subList(1, args.size())));
      case "hello":
        return done(hello(args));
      case "client":
        return done(client(args));
      case "command":
        return done(ServerInfo.command(args));
      case "info":
        return done(ServerInfo.info(access, port, args));
      case "readonly":
      case "readwrite":
        stale = command.equals("readonly");
        return done(Reply.OK);
      case "multi":
        if (queued != null) {
          return done(Reply.error("ERR MULTI calls can not be nested"));
        }
        queued = new ArrayList<>();
        dirty = false;
        return done(Reply.OK);
      case "discard":
        if (queued == null) {
          return done(Reply.error("ERR DISCARD without MULTI"));
        }
        endTransaction();
        return done(Reply.OK);
      case "exec":
        return exec();
      case "watch":
        return watch(args.subList(1, args.size()));
      case "unwatch":
        endTransaction();
        return done(Reply.OK);
      default:
        return run(DataCommands.plan(command, args));
    }
  }

  private static Reply unknown(String command, List<byte[]> args) {
    StringBuilder text = new StringBuilder("ERR unknown command '")
        .append(new String(args.get(0), StandardCharsets.UTF_8))
        .append("', with args beginning with: ");
    for (byte[] a : args.subList(1, Math.min(args.size(), 17))) {
      text.append('\'').append(new String(a, StandardCharsets.UTF_8)).append("' ");
    }
    return Reply.error(text.toString());
  }

  private static Reply select(byte[] index) {
    long db = DataCommands.integer(index);
    return db == 0 ? Reply.OK : Reply.error("ERR DB index is out of range");
  }

  private Reply auth(List<byte[]> credentials) {
    if (token == null) {
      return Reply.error("ERR AUTH <password> called without any password configured for "
          + "the default user. Are you sure your configuration is correct?");
    }
    if (credentials.size() > 2) {
      return Reply.error("ERR syntax error");
    }
    boolean user = credentials.size() == 1
        || new String(credentials.get(0), StandardCharsets.UTF_8).equals("default");
    byte[] password = credentials.get(credentials.size() - 1);
    if (!user || !MessageDigest.isEqual(password, token)) {
      return Reply.error("WRONGPASS invalid username-password pair or user is disabled.");
    }
    authenticated = true;
    return Reply.OK;
  }

  /** HELLO [protover [AUTH username password] [SETNAME clientname]]. */
  private Reply hello(List<byte[]> args) {
    int version = protocol;
    if (args.size() > 1) {
      long v;
      try {
        v = DataCommands.integer(args.get(1));
      } catch (DataCommands.Refused e) {
        return Reply.error("ERR Protocol version is not an integer or out of range");
      }
      if (v != 2 && v != 3) {
        return Reply.error("NOPROTO unsupported protocol version");
      }
      version = (int) v;
    }
    String newName = name;
    for (int i = 2; i < args.size(); i++) {
      String option = DataCommands.lower(args.get(i));
      if (option.equals("auth") && i + 2 < args.size()) {
        Reply r = auth(args.subList(i + 1, i + 3));
        if (r instanceof Reply.Error) {
          return r;
        }
        i += 2;
      } else if (option.equals("setname") && i + 1 < args.size()) {
        newName = new String(args.get(++i), StandardCharsets.UTF_8);
      } else {
        return Reply.error("ERR Syntax error in HELLO option '" + option + "'");
      }
    }
    if (!authenticated) {
      return Reply.error("NOAUTH HELLO must be called with the client already authenticated, "
          + "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate "
          + "the client and select the RESP protocol version at the same time");
    }
    protocol = version;
    name = newName;
    return ServerInfo.hello(id, protocol);
  }

  private Reply client(List<byte[]> args) {
    String sub = DataCommands.lower(args.get(1));
    switch (sub) {
      case "id":
        return new Reply.Int(id);
      case "getname":
        return name == null ? Reply.NIL : Reply.bulk(name);
      case "setname": {
        if (args.size() != 3) {
          break;
        }
        String n = new String(args.get(2), StandardCharsets.UTF_8);
        if (!n.chars().allMatch(c -> c > ' ' && c <= '~')) {
          return Reply.error("ERR Client names cannot contain spaces, newlines or special "
              + "characters.");
        }
        name = n.isEmpty() ? null : n;
        return Reply.OK;
      }
      case "setinfo":
        return args.size() == 4 ? Reply.OK : Reply.error("ERR syntax error");
      default:
        break;
    }
    return Reply.error("ERR unknown subcommand or wrong number of arguments for '" + sub
        + "'. Try CLIENT HELP.");
  }

  // ------------------------------------------------------------------ data

  private CompletableFuture<Reply> run(DataCommands.Plan plan) {
    DataCommands.checkSizes(plan);
    long group = groupOf(plan.ops());
    boolean readStale = stale;
    List<Watched> watched = List.copyOf(watches);
    return ordered(group, plan.write(), () -> execute(plan, readStale, watched));
  }

  private CompletableFuture<Reply> execute(DataCommands.Plan plan, boolean readStale,
      List<Watched> watched) {
    if (!plan.write()) {
      List<byte[]> keys = new ArrayList<>();
      plan.ops().forEach(op -> keys.add(op.key()));
      return access.read(keys, readStale).thenApply(results -> {
        for (Watched w : watched) {
          for (int i = 0; i < keys.size(); i++) {
            if (java.util.Arrays.equals(w.key, keys.get(i))) {
              w.check = CompletableFuture.completedFuture(DataCommands.check(w.key,
                  results.get(i)));
            }
          }
        }
        return plan.render().apply(new DataCommands.Results(results, false));
      }).exceptionally(Connection::failure);
    }
    return access.write(DataCommands.command(plan.ops())).thenApply(r -> {
      if (r.status() == KvResult.Status.ERROR) {
        return Reply.error(errorText(r.error()));
      }
      boolean failed = r.status() == KvResult.Status.CAS_FAILED;
      List<KvResult> each = plan.ops().size() == 1 ? List.of(r) : r.txn();
      return plan.render().apply(new DataCommands.Results(each, failed));
    }).exceptionally(Connection::failure);
  }

  /**
   * Starts {@code start} in this connection's order on {@code group}: after earlier writes,
   * and (if it writes) after earlier reads.
   */
  private CompletableFuture<Reply> ordered(long group, boolean write,
      Supplier<CompletableFuture<Reply>> start) {
    GroupOrder o = orders.computeIfAbsent(group, g -> new GroupOrder());
    CompletableFuture<?> after;
    if (!write && o.reading) {
      after = o.readBase;
    } else {
      after = o.tail;
      o.readBase = o.tail;
      o.reading = !write;
    }
    CompletableFuture<Reply> result = after.isDone() ? start.get()
        : after.handle((x, e) -> null).thenCompose(x -> start.get());
    o.tail = write || o.tail.isDone() ? result : CompletableFuture.allOf(o.tail, result);
    return result;
  }

  private long groupOf(List<TxnOp> ops) {
    long group = access.groupOf(ops.get(0).key());
    for (TxnOp op : ops) {
      if (access.groupOf(op.key()) != group) {
        throw new DataCommands.Refused(DataCommands.CROSSSLOT);
      }
    }
    return group;
  }

  // ------------------------------------------------------------------ MULTI and WATCH

  private Reply queue(String command, List<byte[]> args) {
    if (!DataCommands.isDataCommand(command)) {
      dirty = true;
      return Reply.error("ERR " + command.toUpperCase(java.util.Locale.ROOT)
          + " is not supported inside MULTI");
    }
    try {
      DataCommands.Plan plan = DataCommands.plan(command, args);
      DataCommands.checkSizes(plan);
      for (TxnOp op : plan.ops()) {
        if (op.op() == KvCommand.SET && (op.value()[0] & 3) != 0) {
          // A failed condition would abort the whole transaction, which Redis does not do.
          throw new DataCommands.Refused("ERR SET NX/XX and MSETNX are not supported inside "
              + "MULTI (use WATCH)");
        }
      }
      long group = groupOf(plan.ops());
      if (transactionGroup != 0 && group != transactionGroup) {
        throw new DataCommands.Refused(DataCommands.CROSSSLOT);
      }
      transactionGroup = group;
      queued.add(plan);
      return Reply.QUEUED;
    } catch (DataCommands.Refused e) {
      dirty = true;
      return Reply.error(e.getMessage());
    }
  }

  private CompletableFuture<Reply> watch(List<byte[]> keys) {
    if (queued != null) {
      return done(Reply.error("ERR WATCH inside MULTI is not allowed"));
    }
    List<TxnOp> reads = new ArrayList<>();
    keys.forEach(k -> reads.add(TxnOp.read(k)));
    long group = groupOf(reads);
    if (transactionGroup != 0 && group != transactionGroup) {
      return done(Reply.error(DataCommands.CROSSSLOT));
    }
    transactionGroup = group;
    boolean readStale = stale;
    for (byte[] key : keys) {
      Watched w = new Watched(key);
      CompletableFuture<TxnOp> check = w.check;
      watches.add(w);
      ordered(group, false, () -> access.read(List.of(key), readStale).handle((r, e) -> {
        if (e != null) {
          check.completeExceptionally(e);
        } else {
          check.complete(DataCommands.check(key, r.get(0)));
        }
        return Reply.OK;
      }));
    }
    return done(Reply.OK);
  }

  /** EXEC: the WATCH checks and the queued commands as one transaction of their group. */
  private CompletableFuture<Reply> exec() {
    if (queued == null) {
      return done(Reply.error("ERR EXEC without MULTI"));
    }
    List<DataCommands.Plan> plans = queued;
    List<Watched> checks = List.copyOf(watches);
    long group = transactionGroup;
    boolean wasDirty = dirty;
    endTransaction();
    if (wasDirty) {
      return done(Reply.error("EXECABORT Transaction discarded because of previous errors."));
    }
    if (plans.isEmpty() && checks.isEmpty()) {
      return done(new Reply.Array(List.of()));
    }
    return ordered(group, true, () -> {
      // Runs after this connection's earlier reads of the group: each check is the latest.
      List<CompletableFuture<TxnOp>> latest = new ArrayList<>();
      checks.forEach(w -> latest.add(w.check));
      return CompletableFuture.allOf(latest.toArray(new CompletableFuture<?>[0]))
          .thenCompose(v -> {
            List<TxnOp> watched = new ArrayList<>();
            latest.forEach(c -> watched.add(c.join()));
            return access.write(DataCommands.exec(watched, plans));
          }).thenApply(r -> execReply(r, checks.size(), plans))
          .exceptionally(Connection::failure);
    });
  }

  private static Reply execReply(KvResult r, int checks, List<DataCommands.Plan> plans) {
    if (r.status() == KvResult.Status.CAS_FAILED) {
      return Reply.NIL_ARRAY; // a WATCHed key changed
    }
    if (r.status() == KvResult.Status.ERROR) {
      return Reply.error("EXECABORT Transaction discarded, nothing applied: "
          + errorText(r.error()));
    }
    List<Reply> out = new ArrayList<>();
    int at = checks;
    for (DataCommands.Plan p : plans) {
      List<KvResult> slice = r.txn().subList(at, at + p.ops().size());
      at += p.ops().size();
      out.add(p.render().apply(new DataCommands.Results(slice, false)));
    }
    return new Reply.Array(out);
  }

  private void endTransaction() {
    queued = null;
    dirty = false;
    watches.clear();
    transactionGroup = 0;
  }

  // ------------------------------------------------------------------ errors

  private static CompletableFuture<Reply> done(Reply reply) {
    return CompletableFuture.completedFuture(reply);
  }

  /** The state machine's error as a Redis error: its own code when it has one, else ERR. */
  static String errorText(String error) {
    String e = error.replaceFirst("^transaction op \\d+: ", "");
    return e.startsWith("ERR ") || e.startsWith("WRONGTYPE ") ? e : "ERR " + e;
  }

  /**
   * A failed command as a Redis error: TRYAGAIN when nothing applied and a retry may succeed
   * (leadership moving), "ERR outcome_unknown"/"ERR timeout" when it may still apply.
   */
  static Reply failure(Throwable e) {
    Throwable c = e;
    while ((c instanceof CompletionException || c instanceof java.util.concurrent
        .ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof DataCommands.Refused r) {
      return Reply.error(r.getMessage());
    }
    if (c instanceof KvAccess.Failure f) {
      return Reply.error((f.retryable() ? "TRYAGAIN " : "ERR ") + f.code() + ": "
          + f.getMessage());
    }
    return Reply.error("ERR internal: " + c);
  }
}
