package io.detraft.kv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the admin API and transactions: a writer of escaped strings and a
 * strict recursive-descent parser into maps, lists, strings, longs, doubles, booleans and
 * null. The data path writes its few fixed shapes by hand and never parses.
 */
final class Json {
  private Json() {}

  /** Thrown for text that is not JSON; the message says where. */
  static final class ParseException extends Exception {
    ParseException(String message) {
      super(message, null, false, false);
    }
  }

  static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length() + 2);
    appendQuoted(out, s);
    return out.toString();
  }

  static void appendQuoted(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** {@code {"code": ..., "message": ...}}, the shape of every error answer. */
  static String error(String code, String message) {
    return "{\"code\":" + quote(code) + ",\"message\":" + quote(message) + "}";
  }

  static Object parse(String text) throws ParseException {
    Parser p = new Parser(text);
    p.skipSpace();
    Object value = p.value(0);
    p.skipSpace();
    if (p.at != text.length()) {
      throw new ParseException("trailing characters at " + p.at);
    }
    return value;
  }

  /** Parses {@code text} as an object, else fails. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> parseObject(String text) throws ParseException {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new ParseException("expected a JSON object");
    }
    return (Map<String, Object>) value;
  }

  private static final class Parser {
    private static final int MAX_DEPTH = 32;
    private final String s;
    private int at;

    Parser(String s) {
      this.s = s;
    }

    void skipSpace() {
      while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
        at++;
      }
    }

    private ParseException fail(String what) {
      return new ParseException(what + " at character " + at);
    }

    Object value(int depth) throws ParseException {
      if (depth > MAX_DEPTH) {
        throw fail("nested too deeply");
      }
      if (at >= s.length()) {
        throw fail("unexpected end");
      }
      char c = s.charAt(at);
      if (c == '{') {
        return object(depth);
      } else if (c == '[') {
        return array(depth);
      } else if (c == '"') {
        return string();
      } else if (s.startsWith("true", at)) {
        at += 4;
        return Boolean.TRUE;
      } else if (s.startsWith("false", at)) {
        at += 5;
        return Boolean.FALSE;
      } else if (s.startsWith("null", at)) {
        at += 4;
        return null;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        return number();
      }
      throw fail("unexpected '" + c + "'");
    }

    private Map<String, Object> object(int depth) throws ParseException {
      Map<String, Object> out = new LinkedHashMap<>();
      at++;
      skipSpace();
      if (at < s.length() && s.charAt(at) == '}') {
        at++;
        return out;
      }
      while (true) {
        skipSpace();
        if (at >= s.length() || s.charAt(at) != '"') {
          throw fail("expected a key");
        }
        String key = string();
        skipSpace();
        expect(':');
        skipSpace();
        out.put(key, value(depth + 1));
        skipSpace();
        if (at < s.length() && s.charAt(at) == ',') {
          at++;
          continue;
        }
        expect('}');
        return out;
      }
    }

    private List<Object> array(int depth) throws ParseException {
      List<Object> out = new ArrayList<>();
      at++;
      skipSpace();
      if (at < s.length() && s.charAt(at) == ']') {
        at++;
        return out;
      }
      while (true) {
        skipSpace();
        out.add(value(depth + 1));
        skipSpace();
        if (at < s.length() && s.charAt(at) == ',') {
          at++;
          continue;
        }
        expect(']');
        return out;
      }
    }

    private void expect(char c) throws ParseException {
      if (at >= s.length() || s.charAt(at) != c) {
        throw fail("expected '" + c + "'");
      }
      at++;
    }

    private String string() throws ParseException {
      at++;
      StringBuilder out = new StringBuilder();
      while (at < s.length()) {
        char c = s.charAt(at++);
        if (c == '"') {
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (at >= s.length()) {
          break;
        }
        char e = s.charAt(at++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            if (at + 4 > s.length()) {
              throw fail("short \\u escape");
            }
            try {
              out.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
            } catch (NumberFormatException ex) {
              throw fail("bad \\u escape");
            }
            at += 4;
          }
          default -> throw fail("bad escape \\" + e);
        }
      }
      throw fail("unterminated string");
    }

    private Object number() throws ParseException {
      int start = at;
      if (s.charAt(at) == '-') {
        at++;
      }
      boolean fraction = false;
      while (at < s.length()) {
        char c = s.charAt(at);
        if (c >= '0' && c <= '9') {
          at++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
          fraction = true;
          at++;
        } else {
          break;
        }
      }
      String text = s.substring(start, at);
      try {
        return fraction ? (Object) Double.parseDouble(text) : (Object) Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw fail("bad number '" + text + "'");
      }
    }
  }
}
