package io.detraft.checker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts between {@link Op} and the map shape both EDN and JSON use: {@code {:index 0,
 * :time 0, :type :invoke, :process 0, :f :txn, :value ...}}. Map keys may be {@link Keyword}s
 * (EDN) or strings (JSON); {@code type} and {@code f} may be either.
 *
 * <p>Reading: a missing {@code :index} is the op's position, a missing {@code :time} is 0,
 * a missing {@code :value} is nil; other keys (Jepsen's {@code :error}, {@code :node}, ...)
 * are ignored. An op whose {@code :process} is not an integer (Jepsen's {@code :nemesis}) is
 * rejected, or skipped when asked to.
 */
final class OpMaps {
  static final List<String> FIELDS = List.of("index", "time", "type", "process", "f", "value");
  /** How {@link History} words its rejections: "op 12: reason". */
  private static final Pattern HISTORY_MESSAGE = Pattern.compile("op (\\d+): (.*)", Pattern.DOTALL);

  private OpMaps() {}

  /**
   * The fields of an op map as a reader found them, null where missing: what {@link #toOp}
   * reads of a map, for a reader that keeps no map ({@link FastEdnReader}).
   */
  record Fields(Object index, Object time, Object type, Object process, Object f,
      Object value) {}

  /**
   * The op of one map, or null if it is a non-integer-process op and {@code skipOtherProcesses}.
   *
   * @param position the op's position in the file, used when it has no {@code :index}
   */
  static Op toOp(Object form, long position, boolean skipOtherProcesses) {
    Fields fields;
    if (form instanceof Fields given) {
      fields = given;
    } else if (form instanceof Map<?, ?> map) {
      fields = new Fields(get(map, "index"), get(map, "time"), get(map, "type"),
          get(map, "process"), get(map, "f"), get(map, "value"));
    } else {
      throw new HistoryFormatException(position, "an op must be a map, got "
          + describe(form));
    }
    Object indexValue = fields.index;
    long index = position;
    if (indexValue != null) {
      if (!(indexValue instanceof Long number) || number < 0) {
        throw new HistoryFormatException(position, ":index must be a non-negative integer, "
            + "got " + Values.format(indexValue));
      }
      index = number;
    }
    Object process = fields.process;
    if (!(process instanceof Long)) {
      if (skipOtherProcesses && process != null) {
        return null;
      }
      throw new HistoryFormatException(index, ":process must be an integer, got "
          + Values.format(process) + (process instanceof Keyword || process instanceof String
          ? " (a nemesis op? --skip-nemesis leaves such ops out)" : ""));
    }
    OpType type = typeOf(fields.type, index);
    String f = nameOf(fields.f);
    if (f == null) {
      throw new HistoryFormatException(index, ":f must be a keyword or a string, got "
          + Values.format(fields.f));
    }
    Object time = fields.time;
    if (time != null && !(time instanceof Long)) {
      throw new HistoryFormatException(index, ":time must be an integer (nanoseconds), got "
          + Values.format(time));
    }
    try {
      return new Op(index, type, f, fields.value, (Long) process,
          time == null ? 0 : (Long) time);
    } catch (IllegalArgumentException e) {
      throw new HistoryFormatException(index, e.getMessage().replaceFirst("^op \\d+: ", ""));
    }
  }

  /** The map of {@code op}, keys as keywords ({@code keywords}) or strings. */
  static Map<Object, Object> toMap(Op op, boolean keywords) {
    Map<Object, Object> map = new LinkedHashMap<>();
    String type = op.type().name().toLowerCase(Locale.ROOT);
    Object[] values = {op.index(), op.time(), keywords ? Keyword.of(type) : type, op.process(),
        keywords ? Keyword.of(op.f()) : op.f(), op.value()};
    for (int i = 0; i < FIELDS.size(); i++) {
      map.put(keywords ? Keyword.of(FIELDS.get(i)) : FIELDS.get(i), values[i]);
    }
    return map;
  }

  /**
   * Converts a list of forms, skipping non-integer processes if asked; a null form was
   * skipped by the reader already.
   */
  static History toHistory(List<?> forms, boolean skipOtherProcesses) {
    List<Op> ops = new ArrayList<>(forms.size());
    for (int i = 0; i < forms.size(); i++) {
      Op op = forms.get(i) == null ? null : toOp(forms.get(i), i, skipOtherProcesses);
      if (op != null) {
        ops.add(op);
      }
    }
    try {
      return History.of(ops);
    } catch (HistoryFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      // History's messages start with "op N: ".
      Matcher message = HISTORY_MESSAGE.matcher(e.getMessage());
      throw message.matches()
          ? new HistoryFormatException(Long.parseLong(message.group(1)), message.group(2))
          : new HistoryFormatException(-1, e.getMessage());
    }
  }

  private static Object get(Map<?, ?> map, String field) {
    Object value = map.get(Keyword.of(field));
    return value != null ? value : map.get(field);
  }

  private static OpType typeOf(Object type, long index) {
    String name = nameOf(type);
    if (name != null) {
      for (OpType candidate : OpType.values()) {
        if (candidate.name().toLowerCase(Locale.ROOT).equals(name)) {
          return candidate;
        }
      }
    }
    throw new HistoryFormatException(index, "unknown type " + Values.format(type)
        + " (expected :invoke, :ok, :fail or :info)");
  }

  private static String nameOf(Object value) {
    return value instanceof Keyword keyword ? keyword.name()
        : value instanceof String string ? string : null;
  }

  private static String describe(Object form) {
    return form == null ? "nil" : form instanceof List<?> ? "a list" : Values.format(form);
  }
}
