package io.detraft.checker;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader for the part of EDN that Jepsen histories use: maps, vectors, lists, keywords,
 * integers that fit a long, strings, nil, true, false, comments, and tagged maps such as
 * {@code #jepsen.history.Op{...}} (read as their map). It produces what {@link EdnHistory}
 * makes of Clojure's reading, an order ten times faster and without loading Clojure.
 *
 * <p>It does not decide anything Clojure's reader would decide differently: on any text
 * outside that part (floats, ratios, big or octal integers, sets, characters, symbols,
 * discards, other tags, duplicate map keys, unusual keyword names, syntax errors) it gives up
 * with {@link Unsupported}, and the caller reads the whole text with Clojure instead, which
 * then accepts it or words the error.
 */
final class FastEdnReader {
  /** The text is outside the fast reader's part of EDN: read it with Clojure instead. */
  static final class Unsupported extends Exception {
    Unsupported(String what, int at) {
      super(what + " at byte " + at, null, false, false);
    }
  }

  /** Keywords every history repeats, shared rather than made per occurrence. */
  private static final Keyword[] COMMON = keywords("index", "time", "type", "process", "f",
      "value", "invoke", "ok", "fail", "info", "txn", "r", "append", "w", "error", "node",
      "read", "write", "cas", "get", "put", "nemesis");
  private static final byte[][] COMMON_NAMES = names(COMMON);
  /** The op fields, in {@link OpMaps.Fields}' order: the same instances as in COMMON. */
  private static final Keyword[] FIELDS = {COMMON[0], COMMON[1], COMMON[2], COMMON[3],
      COMMON[4], COMMON[5]};
  private static final int PROCESS = 3;
  private static final int VALUE = 5;
  /** Boxed small integers, shared: elements and keys of a history are mostly small. */
  private static final Long[] SMALL = new Long[4096];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = (long) i;
    }
  }

  /** nil, true, false. */
  private static final byte[][] CONSTANTS = {"nil".getBytes(StandardCharsets.US_ASCII),
      "true".getBytes(StandardCharsets.US_ASCII), "false".getBytes(StandardCharsets.US_ASCII)};
  /** Below this size the text is read by one thread. */
  private static final int PARALLEL_MIN_CHARS = 1 << 20;
  /** What {@link #charAt} answers for a byte of a non-ASCII character: no EDN syntax. */
  private static final char NOT_ASCII = '\uffff';

  private final byte[] text;
  /** Where this reader stops: the end of its chunk of the text. */
  private final int end;
  private int at;
  /** The elements of the sequences being read, innermost last: {@code stack[0, top)}. */
  private Object[] stack = new Object[256];
  private int top;

  private FastEdnReader(byte[] text, int start, int end) {
    this.text = text;
    this.at = start;
    this.end = end;
  }

  /**
   * The forms of {@code text}, converted as {@link EdnHistory} converts Clojure data: a map
   * at the top level (or in a top-level vector or list) as {@link OpMaps.Fields}, lists as
   * unmodifiable lists that {@link Values#freeze} keeps as they are, other maps as {@link
   * LinkedHashMap}s in text order, keywords as {@link Keyword}, integers as Long.
   *
   * <p>{@code text} is UTF-8. A large one is cut into one chunk per core at line starts that
   * open a map, and the chunks are read in parallel. A cut inside a string or a nested form
   * leaves the chunk before it unclosed, which gives up as any unclosed form does, and the
   * text is read again in one piece: cuts never change what is read.
   */
  static List<Object> readAll(byte[] text) throws Unsupported {
    int chunks = text.length < PARALLEL_MIN_CHARS ? 1
        : Math.min(4, Runtime.getRuntime().availableProcessors());
    int[] cuts = new int[chunks + 1];
    cuts[chunks] = text.length;
    for (int c = 1; c < chunks; c++) {
      int from = Math.max(cuts[c - 1], (int) ((long) text.length * c / chunks));
      int cut = from;
      while (cut + 1 < text.length && !(text[cut] == '\n' && text[cut + 1] == '{')) {
        cut++;
      }
      cuts[c] = cut + 1 < text.length ? cut + 1 : text.length;
    }
    if (chunks > 1) {
      try {
        return readChunks(text, cuts);
      } catch (Unsupported e) {
        // Perhaps a cut fell inside a form (one vector of all ops): read it in one piece.
      }
    }
    return new FastEdnReader(text, 0, text.length).topLevel();
  }

  private static List<Object> readChunks(byte[] text, int[] cuts) throws Unsupported {
    int chunks = cuts.length - 1;
    @SuppressWarnings("unchecked")
    List<Object>[] parts = new List[chunks];
    Unsupported[] failures = new Unsupported[chunks];
    Thread[] threads = new Thread[chunks];
    for (int c = 1; c < chunks; c++) {
      int chunk = c;
      threads[c] = new Thread(() -> {
        try {
          parts[chunk] = new FastEdnReader(text, cuts[chunk], cuts[chunk + 1]).topLevel();
        } catch (Unsupported e) {
          failures[chunk] = e;
        }
      }, "edn-reader-" + c);
      threads[c].start();
    }
    try {
      parts[0] = new FastEdnReader(text, 0, cuts[1]).topLevel();
    } catch (Unsupported e) {
      failures[0] = e;
    }
    boolean interrupted = false;
    for (int c = 1; c < chunks; c++) {
      while (true) {
        try {
          threads[c].join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    List<Object> forms = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      if (failures[c] != null) {
        throw failures[c];
      }
      forms.addAll(parts[c]);
    }
    return forms;
  }

  /** The top-level forms of this reader's chunk; nesting too deep for the stack gives up. */
  private List<Object> topLevel() throws Unsupported {
    try {
      return forms();
    } catch (StackOverflowError e) {
      throw new Unsupported("nesting too deep", at);
    }
  }

  private List<Object> forms() throws Unsupported {
    // About one op per 150 bytes in Jepsen's histories.
    List<Object> forms = new ArrayList<>((end - at) / 150 + 16);
    while (skipSpace()) {
      char c = charAt(at);
      if (c == '[' || c == '(') {
        // Perhaps the one vector that holds every op.
        at++;
        forms.add(sequence(c == '[' ? ']' : ')', true));
      } else {
        forms.add(form(true));
      }
    }
    return forms;
  }

  /** The character at {@code i}: a byte of the UTF-8 text, negative if not ASCII. */
  private char charAt(int i) {
    byte b = text[i];
    return b < 0 ? NOT_ASCII : (char) b;
  }

  /** Skips whitespace, commas and comments; false at the end of the text. */
  private boolean skipSpace() {
    int n = end;
    while (at < n) {
      char c = charAt(at);
      if (c == ' ' || c == ',' || c == '\n' || c == '\r' || c == '\t' || c == '\f') {
        at++;
      } else if (c == ';') {
        while (at < n && charAt(at) != '\n') {
          at++;
        }
      } else {
        return true;
      }
    }
    return false;
  }

  /** The form at {@link #at}; a map as {@link OpMaps.Fields} if {@code op}. */
  private Object form(boolean op) throws Unsupported {
    char c = charAt(at);
    switch (c) {
      case '{':
        at++;
        return op ? opMap() : map();
      case '[':
        at++;
        return sequence(']', false);
      case '(':
        at++;
        return sequence(')', false);
      case ':':
        return keyword();
      case '"':
        return string();
      case '#':
        return tagged(op);
      default:
        if ((c >= '0' && c <= '9') || ((c == '-' || c == '+') && at + 1 < end
            && isDigit(charAt(at + 1)))) {
          return integer();
        }
        return constant();
    }
  }

  private Map<Object, Object> map() throws Unsupported {
    Map<Object, Object> map = new LinkedHashMap<>();
    while (true) {
      if (!skipSpace()) {
        throw new Unsupported("an unclosed map", at);
      }
      if (charAt(at) == '}') {
        at++;
        return map;
      }
      Object key = form(false);
      if (!skipSpace() || charAt(at) == '}') {
        throw new Unsupported("a map with an odd number of forms", at);
      }
      if (map.containsKey(key)) {
        throw new Unsupported("a duplicate map key", at);
      }
      map.put(key, form(false));
    }
  }

  /** A vector or list; its maps as {@link OpMaps.Fields} if {@code ops}. */
  private List<Object> sequence(char close, boolean ops) throws Unsupported {
    // Elements gather on a stack shared by nested sequences, and are copied once, at the end.
    int base = top;
    while (true) {
      if (!skipSpace()) {
        throw new Unsupported("an unclosed " + (close == ']' ? "vector" : "list"), at);
      }
      if (charAt(at) == close) {
        at++;
        Object[] elements = Arrays.copyOfRange(stack, base, top);
        Arrays.fill(stack, base, top, null);
        top = base;
        return Values.frozenList(elements);
      }
      Object element = form(ops);
      if (top == stack.length) {
        stack = Arrays.copyOf(stack, 2 * top);
      }
      // The list is not copied again, so a map in it must be frozen now.
      stack[top++] = element instanceof Map<?, ?> ? Values.freeze(element, 0) : element;
    }
  }

  /** A tagged map such as {@code #jepsen.history.Op{...}}, read as the map. */
  private Object tagged(boolean op) throws Unsupported {
    int start = ++at;
    while (at < end && isNameChar(charAt(at))) {
      at++;
    }
    String tag = new String(text, start, at - start, StandardCharsets.US_ASCII);
    // Not #_ (discard), #{ (set), ##Inf...: a tag starts with a letter.
    if (tag.isEmpty() || !Character.isLetter(tag.charAt(0)) || tag.equals("inst")
        || tag.equals("uuid") || !skipSpace() || charAt(at) != '{') {
      throw new Unsupported("a tag or dispatch other than a tagged map", start - 1);
    }
    at++;
    return op ? opMap() : map();
  }

  /**
   * An op map's fields; the value of an op whose process is not an integer is left out, as
   * {@link EdnHistory} leaves it out of Clojure's reading (a nemesis's may hold sets).
   */
  private OpMaps.Fields opMap() throws Unsupported {
    Object[] fields = new Object[FIELDS.length];
    boolean[] seen = new boolean[FIELDS.length];
    List<Object> otherKeys = null;
    while (true) {
      if (!skipSpace()) {
        throw new Unsupported("an unclosed map", at);
      }
      if (charAt(at) == '}') {
        at++;
        Object process = fields[PROCESS];
        return new OpMaps.Fields(fields[0], fields[1], fields[2], process, fields[4],
            process instanceof Long ? fields[VALUE] : null);
      }
      Object key = form(false);
      if (!skipSpace() || charAt(at) == '}') {
        throw new Unsupported("a map with an odd number of forms", at);
      }
      int field = -1;
      for (int i = 0; i < FIELDS.length && field < 0; i++) {
        if (key == FIELDS[i]) {
          field = i;
        }
      }
      if (key instanceof String name && OpMaps.FIELDS.contains(name)) {
        throw new Unsupported("an op field named by a string", at);
      }
      if (field >= 0) {
        if (seen[field]) {
          throw new Unsupported("a duplicate map key", at);
        }
        seen[field] = true;
        Object value = form(false);
        fields[field] = value instanceof Map<?, ?> ? Values.freeze(value, 0) : value;
      } else {
        if (otherKeys == null) {
          otherKeys = new ArrayList<>(2);
        }
        if (otherKeys.contains(key)) {
          throw new Unsupported("a duplicate map key", at);
        }
        otherKeys.add(key);
        form(false);
      }
    }
  }

  private Keyword keyword() throws Unsupported {
    int start = ++at;
    int slash = -1;
    while (at < end && (isNameChar(charAt(at)) || charAt(at) == '/')) {
      if (charAt(at) == '/') {
        if (slash >= 0) {
          throw new Unsupported("a keyword with two slashes", start);
        }
        slash = at;
      }
      at++;
    }
    int length = at - start;
    if (length == 0 || !isNameStart(charAt(start)) || !delimited()
        || (slash >= 0 && (slash == start || slash == at - 1
            || !isNameStart(charAt(slash + 1))))) {
      throw new Unsupported("an unusual keyword", start - 1);
    }
    for (int k = 0; k < COMMON.length; k++) {
      if (COMMON_NAMES[k].length == length
          && Arrays.equals(COMMON_NAMES[k], 0, length, text, start, at)) {
        return COMMON[k];
      }
    }
    return Keyword.of(new String(text, start, length, StandardCharsets.US_ASCII));
  }

  private Long integer() throws Unsupported {
    int start = at;
    boolean negative = charAt(at) == '-';
    if (charAt(at) == '-' || charAt(at) == '+') {
      at++;
    }
    if (charAt(at) == '0' && at + 1 < end && isDigit(charAt(at + 1))) {
      throw new Unsupported("an octal integer", start);
    }
    long value = 0;
    int digits = 0;
    while (at < end && isDigit(charAt(at))) {
      value = value * 10 + (charAt(at++) - '0');
      digits++;
    }
    if (!delimited()) {
      throw new Unsupported("a number other than an integer", start);
    }
    if (digits > 18) {
      try {
        value = Long.parseLong(new String(text, start, at - start, StandardCharsets.US_ASCII));
      } catch (NumberFormatException e) {
        throw new Unsupported("an integer beyond a long", start);
      }
    } else if (negative) {
      value = -value;
    }
    return value >= 0 && value < SMALL.length ? SMALL[(int) value] : Long.valueOf(value);
  }

  private String string() throws Unsupported {
    int start = ++at;
    StringBuilder escaped = null;
    boolean ascii = true;
    int n = end;
    while (at < n) {
      char c = charAt(at);
      if (c == '"') {
        String plain = decode(start, at++, ascii);
        return escaped == null ? plain : escaped.append(plain).toString();
      }
      if (c != '\\') {
        ascii &= c != NOT_ASCII;
        at++;
        continue;
      }
      if (escaped == null) {
        escaped = new StringBuilder();
      }
      escaped.append(decode(start, at, ascii));
      ascii = true;
      if (at + 1 >= n) {
        break;
      }
      char code = charAt(at + 1);
      switch (code) {
        case '"', '\\' -> escaped.append(code);
        case 'n' -> escaped.append('\n');
        case 't' -> escaped.append('\t');
        case 'r' -> escaped.append('\r');
        case 'b' -> escaped.append('\b');
        case 'f' -> escaped.append('\f');
        default -> throw new Unsupported("an unusual string escape", at);
      }
      at += 2;
      start = at;
    }
    throw new Unsupported("an unclosed string", start - 1);
  }

  /** The text of bytes {@code [from, to)}, which must be well-formed UTF-8. */
  private String decode(int from, int to, boolean ascii) throws Unsupported {
    if (ascii) {
      return new String(text, from, to - from, StandardCharsets.ISO_8859_1);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(text, from, to - from))
          .toString();
    } catch (CharacterCodingException e) {
      throw new Unsupported("a string that is not UTF-8", from);
    }
  }

  private Object constant() throws Unsupported {
    int start = at;
    for (int c = 0; c < CONSTANTS.length; c++) {
      int length = CONSTANTS[c].length;
      if (start + length <= end && Arrays.equals(CONSTANTS[c], 0, length, text, start,
          start + length)) {
        at += length;
        if (delimited()) {
          return c == 0 ? null : Boolean.valueOf(c == 1);
        }
        at = start;
      }
    }
    throw new Unsupported("a symbol, character or other form", start);
  }

  /** Whether the token that ended at {@link #at} is followed by a delimiter or the end. */
  private boolean delimited() {
    if (at >= end) {
      return true;
    }
    char c = charAt(at);
    return c == ' ' || c == ',' || c == '\n' || c == '\r' || c == '\t' || c == '\f'
        || c == ']' || c == '}' || c == ')' || c == '[' || c == '{' || c == '(' || c == '"'
        || c == ';';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** A character a keyword or tag name may start with (after the colon or hash). */
  private static boolean isNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*' || c == '!'
        || c == '_' || c == '?' || c == '<' || c == '>' || c == '=' || c == '-' || c == '+';
  }

  private static boolean isNameChar(char c) {
    return isNameStart(c) || isDigit(c) || c == '.';
  }

  private static byte[][] names(Keyword[] keywords) {
    byte[][] names = new byte[keywords.length][];
    for (int i = 0; i < keywords.length; i++) {
      names[i] = keywords[i].name().getBytes(StandardCharsets.US_ASCII);
    }
    return names;
  }

  private static Keyword[] keywords(String... names) {
    Keyword[] keywords = new Keyword[names.length];
    for (int i = 0; i < names.length; i++) {
      keywords[i] = Keyword.of(names[i]);
    }
    return keywords;
  }
}
