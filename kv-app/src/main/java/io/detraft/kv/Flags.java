package io.detraft.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --switch} flags plus positional arguments, checked strictly. */
final class Flags {
  /** A usage error: the CLI prints it with the usage text and exits 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final List<String> positional = new ArrayList<>();

  /**
   * @param withValue flags that take a value
   * @param switches flags that take none
   */
  Flags(String[] args, int from, Set<String> withValue, Set<String> switches) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (switches.contains(name) && value == null) {
        values.put(name, "true");
      } else if (withValue.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args[++i];
        }
        if (values.put(name, value) != null) {
          throw new UsageException("--" + name + " given twice");
        }
      } else {
        throw new UsageException("unknown flag --" + name);
      }
    }
  }

  String get(String name) {
    return values.get(name);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  long number(String name, long fallback, long min, long max) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v);
      if (n < min || n > max) {
        throw new UsageException("--" + name + " must be " + min + " to " + max + ": " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " is not a number: " + v);
    }
  }

  double decimal(String name, double fallback, double min, double max) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      double d = Double.parseDouble(v);
      if (!(d >= min && d <= max)) {
        throw new UsageException("--" + name + " must be " + min + " to " + max + ": " + v);
      }
      return d;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " is not a number: " + v);
    }
  }

  List<String> positional() {
    return positional;
  }

  void expectPositional(int count, String what) {
    if (positional.size() != count) {
      throw new UsageException("expected " + what);
    }
  }
}
