package io.detraft.checker;

import java.util.Locale;
import java.util.Objects;

/**
 * An invoke paired with its completion.
 *
 * @param invoke the {@link OpType#INVOKE} event
 * @param completion the ok / fail / info event of the same process, or {@code null} if the
 *     history ended while the operation was still open; an open operation is treated like
 *     {@link OpType#INFO}: it may or may not have taken effect
 */
public record Operation(Op invoke, Op completion) {

  public Operation {
    Objects.requireNonNull(invoke, "invoke");
    if (invoke.type() != OpType.INVOKE) {
      throw new IllegalArgumentException("op " + invoke.index() + " is not an invoke");
    }
    if (completion != null) {
      if (!completion.type().isCompletion()) {
        throw new IllegalArgumentException("op " + completion.index() + " is not a completion");
      }
      if (completion.process() != invoke.process()) {
        throw new IllegalArgumentException("op " + completion.index() + " has process "
            + completion.process() + " but its invoke (op " + invoke.index() + ") has process "
            + invoke.process());
      }
      if (!completion.f().equals(invoke.f())) {
        throw new IllegalArgumentException("op " + completion.index() + " completes f '"
            + completion.f() + "' but its invoke (op " + invoke.index() + ") has f '"
            + invoke.f() + "'");
      }
    }
  }

  /** The completion type; {@link OpType#INFO} for an operation that never completed. */
  public OpType outcome() {
    return completion == null ? OpType.INFO : completion.type();
  }

  /** The process that issued this operation. */
  public long process() {
    return invoke.process();
  }

  /** The function name, e.g. {@code "put"}. */
  public String f() {
    return invoke.f();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder()
        .append("p").append(invoke.process()).append(' ').append(invoke.f()).append(' ')
        .append(Values.format(invoke.value()));
    if (completion == null) {
      out.append(" -> open (invoked #").append(invoke.index())
          .append(" t=").append(invoke.time()).append(')');
    } else {
      out.append(" -> ").append(completion.type().name().toLowerCase(Locale.ROOT))
          .append(' ').append(Values.format(completion.value()))
          .append(" (#").append(invoke.index()).append("..#").append(completion.index())
          .append(", t=").append(invoke.time()).append("..").append(completion.time())
          .append(')');
    }
    return out.toString();
  }
}
