package io.detraft.checker;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The checker's command line:
 *
 * <pre>
 * check --model list-append|rw-register|kv-linearizable [--consistency MODEL]
 *       [--format edn|json] [--skip-nemesis] [--sequential-keys] [--linearizable-keys]
 *       [--max-anomalies N] [--max-search-steps N] [--report DIR] FILE
 * </pre>
 *
 * <p>Prints the verdict on the first line, then the anomalies explained. Exit status: 0 valid,
 * 1 invalid, 2 unknown (a search gave up), 3 unreadable input (missing file, bad syntax, an op
 * or transaction that does not fit the model), 64 usage error (as sysexits' EX_USAGE: a bad
 * or missing flag, so scripts can tell "you called me wrong" from "your history is bad").
 */
public final class Main {
  static final int VALID = 0;
  static final int INVALID = 1;
  static final int UNKNOWN = 2;
  static final int UNREADABLE = 3;
  static final int USAGE = 64;

  private static final String USAGE_TEXT = String.join("\n",
      "usage: check --model list-append|rw-register|kv-linearizable [options] FILE",
      "  FILE is a Jepsen history in EDN (op maps, one per line, or a vector) or JSON",
      "  (an array of op objects, elle-cli's shape).",
      "options:",
      "  --consistency MODEL  list-append, rw-register: the model to check (default",
      "                       strict-serializable); one of:",
      modelNames(),
      "  --format edn|json    default: by the file's extension, else by its content",
      "  --skip-nemesis       leave out ops whose process is not an integer (:nemesis)",
      "  --sequential-keys    rw-register: assume each key is sequentially consistent",
      "  --linearizable-keys  rw-register: assume each key is linearizable",
      "  --max-anomalies N    anomalies explained per type (default "
          + ElleOptions.DEFAULT_MAX_REPORTS_PER_TYPE + ")",
      "  --max-search-steps N budget of one constrained cycle search (default "
          + ElleOptions.DEFAULT_MAX_SEARCH_STEPS + ")",
      "  --report DIR         also write DIR/NAME.html (NAME: FILE's name without its",
      "                       extension): the verdict, each anomaly's cycle as a graph, and",
      "                       the operations per process on a timeline",
      "  -h, --help           this text",
      "kv-linearizable reads get/put/cas/delete ops (Jepsen's read/write are accepted as",
      "get/put) with values [key value].",
      "exit status: 0 valid, 1 invalid, 2 unknown, 3 unreadable input, 64 usage error");

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    Arguments arguments;
    try {
      arguments = Arguments.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("check: " + e.getMessage());
      err.println(USAGE_TEXT);
      return USAGE;
    }
    if (arguments == null) {
      out.println(USAGE_TEXT);
      return VALID;
    }
    History history;
    try {
      long start = System.nanoTime();
      history = read(arguments);
      if (Boolean.getBoolean("detraft.checker.stages")) {
        err.printf(Locale.ROOT, "stage read       %7.3f s%n", (System.nanoTime() - start) / 1e9);
      }
    } catch (NoSuchFileException e) {
      err.println("check: no such file: " + arguments.file);
      return UNREADABLE;
    } catch (IOException e) {
      err.println("check: cannot read " + arguments.file + ": " + e.getMessage());
      return UNREADABLE;
    } catch (IllegalArgumentException e) {
      err.println("check: " + arguments.file + ": " + e.getMessage());
      return UNREADABLE;
    }
    // A report directory that cannot be used is said at once; the check still runs.
    io.detraft.checker.report.ReportDirectory reportDir = null;
    if (arguments.report != null) {
      try {
        reportDir = io.detraft.checker.report.ReportDirectory.prepare(arguments.report);
      } catch (io.detraft.checker.report.ReportDirectory.ReportException e) {
        err.println("check: no report: " + e.getMessage());
      }
    }
    try {
      return check(arguments, history, out, err, reportDir);
    } catch (IllegalArgumentException e) {
      // A history that reads, but does not fit the model (a malformed transaction...).
      err.println("check: " + arguments.file + ": " + e.getMessage());
      return UNREADABLE;
    }
  }

  private static int check(Arguments arguments, History history, PrintStream out,
      PrintStream err, io.detraft.checker.report.ReportDirectory reportDir) {
    if (arguments.model.equals("kv-linearizable")) {
      LinearizabilityChecker.Result result = LinearizabilityChecker.check(jepsenKvNames(history));
      out.println(result);
      if (reportDir != null) {
        CheckReports.write(reportDir, arguments.file, out, err, () ->
            io.detraft.checker.report.CheckReport.html(arguments.file.toString(), history,
                result));
      }
      return exitStatus(result.verdict());
    }
    ElleOptions options = new ElleOptions(arguments.consistency, arguments.sequentialKeys,
        arguments.linearizableKeys, arguments.maxSearchSteps, arguments.maxAnomalies);
    ElleResult result = arguments.model.equals("list-append")
        ? ElleChecker.checkListAppend(history, options)
        : ElleChecker.checkRwRegister(history, options);
    out.print(result);
    out.println();
    if (reportDir != null) {
      CheckReports.write(reportDir, arguments.file, out, err, () ->
          io.detraft.checker.report.CheckReport.html(arguments.file.toString(), arguments.model,
              history, result));
    }
    return exitStatus(result.verdict());
  }

  private static int exitStatus(Verdict verdict) {
    return switch (verdict) {
      case VALID -> VALID;
      case INVALID -> INVALID;
      case UNKNOWN -> UNKNOWN;
    };
  }

  private static History read(Arguments arguments) throws IOException {
    byte[] bytes = Files.readAllBytes(arguments.file);
    // EDN is read from the bytes (FastEdnReader); the text is decoded only where needed.
    String format = arguments.format != null ? arguments.format
        : arguments.file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".edn")
            ? "edn" : formatOf(arguments.file, utf8(bytes));
    return format.equals("json") ? JsonHistory.parse(utf8(bytes), arguments.skipNemesis)
        : EdnHistory.parse(bytes, arguments.skipNemesis);
  }

  /** The text of a file's bytes; throws (an IOException) if they are not UTF-8. */
  private static String utf8(byte[] bytes) throws IOException {
    return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes))
        .toString();
  }

  /** By extension; else JSON if the first map's first key is a quoted string. */
  static String formatOf(Path file, String text) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json") || name.endsWith(".jsonl")) {
      return "json";
    }
    if (name.endsWith(".edn")) {
      return "edn";
    }
    int brace = text.indexOf('{');
    int i = brace + 1;
    while (brace >= 0 && i < text.length() && Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return brace >= 0 && i < text.length() && text.charAt(i) == '"' ? "json" : "edn";
  }

  /** Jepsen's register workloads call them read and write; our model, get and put. */
  private static History jepsenKvNames(History history) {
    List<Op> ops = new ArrayList<>(history.size());
    boolean renamed = false;
    for (Op op : history.ops()) {
      String f = switch (op.f()) {
        case "read" -> Kv.GET;
        case "write" -> Kv.PUT;
        default -> op.f();
      };
      renamed |= !f.equals(op.f());
      ops.add(new Op(op.index(), op.type(), f, op.value(), op.process(), op.time()));
    }
    return renamed ? History.of(ops) : history;
  }

  private static String modelNames() {
    List<String> names = new ArrayList<>();
    for (ConsistencyModel model : ConsistencyModel.values()) {
      names.add("                         " + model.modelName());
    }
    return String.join("\n", names);
  }

  /** The parsed command line; null from {@link #parse} means "print help". */
  private static final class Arguments {
    String model;
    ConsistencyModel consistency = ConsistencyModel.STRICT_SERIALIZABLE;
    boolean consistencyGiven;
    String format;
    boolean skipNemesis;
    boolean sequentialKeys;
    boolean linearizableKeys;
    int maxAnomalies = ElleOptions.DEFAULT_MAX_REPORTS_PER_TYPE;
    long maxSearchSteps = ElleOptions.DEFAULT_MAX_SEARCH_STEPS;
    Path file;
    String report;

    static Arguments parse(String[] args) {
      if (args.length == 0) {
        throw new IllegalArgumentException("no command");
      }
      if (args[0].equals("-h") || args[0].equals("--help")) {
        return null;
      }
      if (!args[0].equals("check")) {
        throw new IllegalArgumentException("unknown command '" + args[0] + "'");
      }
      Arguments parsed = new Arguments();
      for (int i = 1; i < args.length; i++) {
        String arg = args[i];
        switch (arg) {
          case "-h", "--help" -> {
            return null;
          }
          case "--model" -> parsed.model = value(args, ++i, arg);
          case "--consistency" -> {
            parsed.consistency = ConsistencyModel.fromName(value(args, ++i, arg));
            parsed.consistencyGiven = true;
          }
          case "--format" -> parsed.format = value(args, ++i, arg);
          case "--report" -> parsed.report = value(args, ++i, arg);
          case "--skip-nemesis" -> parsed.skipNemesis = true;
          case "--sequential-keys" -> parsed.sequentialKeys = true;
          case "--linearizable-keys" -> parsed.linearizableKeys = true;
          case "--max-anomalies" -> parsed.maxAnomalies =
              (int) positive(value(args, ++i, arg), arg, Integer.MAX_VALUE);
          case "--max-search-steps" -> parsed.maxSearchSteps =
              positive(value(args, ++i, arg), arg, Long.MAX_VALUE);
          default -> {
            if (arg.startsWith("-")) {
              throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
            if (parsed.file != null) {
              throw new IllegalArgumentException("more than one FILE: " + parsed.file + ", "
                  + arg);
            }
            parsed.file = Path.of(arg);
          }
        }
      }
      parsed.validate();
      return parsed;
    }

    private void validate() {
      if (model == null) {
        throw new IllegalArgumentException("--model is required");
      }
      if (!List.of("list-append", "rw-register", "kv-linearizable").contains(model)) {
        throw new IllegalArgumentException("unknown model '" + model + "'");
      }
      if (file == null) {
        throw new IllegalArgumentException("no FILE given");
      }
      if (format != null && !format.equals("edn") && !format.equals("json")) {
        throw new IllegalArgumentException("--format must be edn or json, got '" + format
            + "'");
      }
      if (model.equals("kv-linearizable") && consistencyGiven) {
        throw new IllegalArgumentException("--consistency does not apply to kv-linearizable");
      }
      if (!model.equals("rw-register") && (sequentialKeys || linearizableKeys)) {
        throw new IllegalArgumentException("--sequential-keys and --linearizable-keys apply "
            + "only to rw-register");
      }
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length || args[i].startsWith("--")) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }

    private static long positive(String text, String flag, long max) {
      try {
        long value = Long.parseLong(text);
        if (value > 0 && value <= max) {
          return value;
        }
      } catch (NumberFormatException e) {
        // Reported below.
      }
      throw new IllegalArgumentException(flag + " must be a positive integer, got '" + text
          + "'");
    }
  }
}
