package io.detraft.checker;

import clojure.java.api.Clojure;
import clojure.lang.AFn;
import clojure.lang.BigInt;
import clojure.lang.IFn;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import clojure.lang.RT;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Jepsen EDN histories, read and printed by Clojure itself ({@code clojure.edn/read} and
 * {@code pr-str}, or faster readers and printers that tests hold to Clojure's), so what this
 * project writes, Jepsen's tools read, and back.
 *
 * <p>Reading accepts a file of op maps one after another (Jepsen's {@code history.edn}), or
 * one vector or list of them; record literals such as {@code #jepsen.history.Op{...}} are
 * read as their maps. See {@link OpMaps} for the fields. Values convert without loss: nil,
 * integers (as {@link Long}), strings, booleans, keywords (as {@link Keyword}), vectors and
 * lists (as {@link java.util.List}), maps (as {@link java.util.Map}, order kept). An op's
 * {@code :type} and {@code :f} become {@link OpType} and a {@code String}. Printing writes one
 * op map per line, {@code :type} and {@code :f} as keywords, lists as vectors. So a history
 * printed here reads back equal, and an EDN history reads, prints and reads back equal; the
 * printed text differs from the original only in what EDN does not distinguish for Jepsen
 * (lists print as vectors, strings in {@code :f} as keywords, dropped extra keys).
 *
 * <p>Rejected, with the op index and a reason: floats, ratios, big integers beyond a long,
 * sets, characters, symbols; ops that are not maps, with an unknown {@code :type}, or a
 * {@code :process} that is not an integer (unless {@code skipOtherProcesses}: then such ops,
 * e.g. the nemesis's, are left out).
 *
 * <p>Reading goes through {@link FastEdnReader} first, which understands what Jepsen
 * histories hold and gives up on anything else; only then is Clojure loaded (about two
 * seconds) and the text read again by {@code clojure.edn/read}, so both paths accept the same
 * histories and read them equal (tests compare them).
 */
public final class EdnHistory {
  private EdnHistory() {}

  /** Clojure functions, loaded when first needed. */
  private static final class Clj {
    static final IFn READ;
    static final IFn PR_STR;
    static final Object EOF = new Object();
    /** Reads a tagged literal (e.g. a record) as its value; Jepsen's ops are records. */
    static final IFn UNTAG = new AFn() {
      @Override
      public Object invoke(Object tag, Object value) {
        return value;
      }
    };

    static {
      Clojure.var("clojure.core", "require").invoke(Clojure.read("clojure.edn"));
      READ = Clojure.var("clojure.edn", "read");
      PR_STR = Clojure.var("clojure.core", "pr-str");
    }
  }

  /** Reads a history from EDN text; rejects non-integer processes. */
  public static History parse(String edn) {
    return parse(edn, false);
  }

  /**
   * Reads a history from EDN text.
   *
   * @param skipOtherProcesses leave out ops whose process is not an integer instead of
   *     rejecting the history
   * @throws HistoryFormatException on a syntax error or an op that does not fit
   */
  public static History parse(String edn, boolean skipOtherProcesses) {
    return parse(edn.getBytes(StandardCharsets.UTF_8), skipOtherProcesses);
  }

  /**
   * Reads a history from EDN text in UTF-8.
   *
   * @param skipOtherProcesses leave out ops whose process is not an integer instead of
   *     rejecting the history
   * @throws HistoryFormatException on a syntax error, text that is not UTF-8, or an op that
   *     does not fit
   */
  public static History parse(byte[] utf8, boolean skipOtherProcesses) {
    List<Object> forms;
    try {
      forms = FastEdnReader.readAll(utf8);
    } catch (FastEdnReader.Unsupported e) {
      String text;
      try {
        text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(utf8)).toString();
      } catch (CharacterCodingException notUtf8) {
        throw new HistoryFormatException(-1, "not UTF-8 text: " + notUtf8.getMessage());
      }
      return readWithClojure(new StringReader(text), skipOtherProcesses);
    }
    if (forms.size() == 1 && forms.get(0) instanceof List<?> all) {
      forms = new ArrayList<>(all);
    }
    return OpMaps.toHistory(forms, skipOtherProcesses);
  }

  /** Reads a history from an EDN file. */
  public static History read(Path file, boolean skipOtherProcesses) throws IOException {
    return parse(Files.readAllBytes(file), skipOtherProcesses);
  }

  /** Reads a history from EDN; see {@link #parse(String, boolean)}. */
  public static History read(Reader reader, boolean skipOtherProcesses) {
    StringWriter text = new StringWriter();
    try {
      reader.transferTo(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return parse(text.toString(), skipOtherProcesses);
  }

  /** Reads a history from EDN through Clojure's reader alone, never the fast reader. */
  static History readWithClojure(Reader reader, boolean skipOtherProcesses) {
    List<Object> forms = new ArrayList<>();
    Object options = RT.map(clojure.lang.Keyword.intern("eof"), Clj.EOF,
        clojure.lang.Keyword.intern("default"), Clj.UNTAG);
    PushbackReader in = new PushbackReader(reader);
    while (true) {
      Object form;
      try {
        form = Clj.READ.invoke(options, in);
      } catch (RuntimeException e) {
        throw new HistoryFormatException(forms.size(), "not readable EDN after "
            + forms.size() + " forms: " + e.getMessage());
      } catch (StackOverflowError e) {
        throw new HistoryFormatException(forms.size(), "not readable EDN after "
            + forms.size() + " forms: nested too deep");
      }
      if (form == Clj.EOF) {
        break;
      }
      forms.add(form);
    }
    if (forms.size() == 1 && forms.get(0) instanceof List<?> all) {
      forms = new ArrayList<>(all);
    }
    List<Object> ops = new ArrayList<>(forms.size());
    for (int i = 0; i < forms.size(); i++) {
      ops.add(opFromClojure(forms.get(i), i));
    }
    return OpMaps.toHistory(ops, skipOtherProcesses);
  }

  /**
   * Prints a history as EDN, one op map per line, as Clojure's {@code pr-str} prints it (a
   * test compares the two), without loading Clojure.
   */
  public static void write(History history, Writer writer) throws IOException {
    StringBuilder line = new StringBuilder(256);
    for (Op op : history.ops()) {
      line.setLength(0);
      Values.appendEdn(line, OpMaps.toMap(op, true));
      writer.append(line).append('\n');
    }
    writer.flush();
  }

  /** The EDN text of a history as Clojure itself prints it, for comparing with {@link #write}. */
  static String printWithClojure(History history) {
    StringBuilder out = new StringBuilder();
    for (Op op : history.ops()) {
      out.append((String) Clj.PR_STR.invoke(toClojure(OpMaps.toMap(op, true)))).append('\n');
    }
    return out.toString();
  }

  /** The EDN text of a history, one op map per line. */
  public static String print(History history) {
    StringWriter out = new StringWriter();
    try {
      write(history, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** Writes a history to an EDN file. */
  public static void write(History history, Path file) throws IOException {
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      write(history, writer);
    }
  }

  /**
   * An op map as a map of our model. The value of an op whose process is not an integer is
   * left out: it is rejected or skipped for its process, and a nemesis's value may hold sets,
   * which we could not convert.
   */
  private static Object opFromClojure(Object form, long position) {
    if (!(form instanceof Map<?, ?> map)) {
      return fromClojure(form, position);
    }
    Object value = clojure.lang.Keyword.intern("value");
    boolean integerProcess = map.get(clojure.lang.Keyword.intern("process")) instanceof Number;
    // Errors name the op's own :index when it has one.
    long at = map.get(clojure.lang.Keyword.intern("index")) instanceof Number index
        ? index.longValue() : position;
    Map<Object, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (integerProcess || !value.equals(entry.getKey())) {
        out.put(fromClojure(entry.getKey(), at), fromClojure(entry.getValue(), at));
      }
    }
    return out;
  }

  /** A Clojure value as a value of our model; {@code position} names the op in errors. */
  static Object fromClojure(Object value, long position) {
    if (value == null || value instanceof Long || value instanceof String
        || value instanceof Boolean) {
      return value;
    }
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInt || value instanceof BigInteger) {
      BigInteger big = value instanceof BigInt b ? b.toBigInteger() : (BigInteger) value;
      if (big.bitLength() < 64) {
        return big.longValue();
      }
    }
    if (value instanceof clojure.lang.Keyword keyword) {
      String name = keyword.toString().substring(1);
      if (!Keyword.isValidName(name)) {
        throw new HistoryFormatException(position, "keyword " + keyword + " is not supported");
      }
      return Keyword.of(name);
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      for (Object element : list) {
        out.add(fromClojure(element, position));
      }
      return out;
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        out.put(fromClojure(entry.getKey(), position), fromClojure(entry.getValue(), position));
      }
      return out;
    }
    throw new HistoryFormatException(position, "value " + RT.printString(value) + " ("
        + value.getClass().getSimpleName() + ") is not supported: use nil, integers, strings, "
        + "booleans, keywords, vectors or maps");
  }

  /** A value of our model as Clojure data: vectors for lists, array maps keeping order. */
  static Object toClojure(Object value) {
    if (value instanceof Keyword keyword) {
      return clojure.lang.Keyword.intern(keyword.name());
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      for (Object element : list) {
        out.add(toClojure(element));
      }
      return PersistentVector.create(out);
    }
    if (value instanceof Map<?, ?> map) {
      Object[] pairs = new Object[2 * map.size()];
      int i = 0;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        pairs[i++] = toClojure(entry.getKey());
        pairs[i++] = toClojure(entry.getValue());
      }
      return new PersistentArrayMap(pairs);
    }
    return value;
  }
}
