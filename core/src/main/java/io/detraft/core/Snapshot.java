package io.detraft.core;

import java.util.Arrays;

/**
 * A state machine image that replaces every log entry up to {@code index}.
 *
 * <p>The image itself may live outside the record: a host that keeps snapshots in files hands
 * the core {@linkplain #metadata metadata only} ({@code data} null, {@code sizeBytes} the
 * image's size) and serves its bytes through {@link LogStorage#snapshotChunk}, so that no
 * snapshot is ever held whole in memory.
 *
 * @param index the last entry the image includes
 * @param term that entry's term (so log matching still works right after the snapshot)
 * @param membership the membership in force at {@code index}
 * @param data the state machine's serialized state, owned by the snapshot and never mutated;
 *     null when the host holds the image
 * @param sizeBytes the image's size; {@code data.length} when the data is here
 */
public record Snapshot(long index, long term, Membership membership, byte[] data,
    long sizeBytes) {
  public Snapshot {
    Invariants.check(index >= 0 && term >= 0, "negative snapshot index or term");
    Invariants.check(index == 0 || term >= 1, "snapshot at %s has no term", index);
    Invariants.check(membership != null, "snapshot membership is null");
    Invariants.check(sizeBytes >= 0, "negative snapshot size %s", sizeBytes);
    Invariants.check(data == null || data.length == sizeBytes,
        "snapshot of %s bytes claims %s", data == null ? 0 : data.length, sizeBytes);
  }

  /** A snapshot that carries its image. */
  public Snapshot(long index, long term, Membership membership, byte[] data) {
    this(index, term, membership, data == null ? new byte[0] : data,
        data == null ? 0 : data.length);
  }

  /** A snapshot whose image of {@code sizeBytes} the host holds (see {@link #data}). */
  public static Snapshot metadata(long index, long term, Membership membership,
      long sizeBytes) {
    return new Snapshot(index, term, membership, null, sizeBytes);
  }

  /** The snapshot of an empty log. */
  public static Snapshot empty(Membership membership) {
    return new Snapshot(0, 0, membership, new byte[0]);
  }

  public boolean isEmpty() {
    return index == 0;
  }

  /** Whether the image is in this record (otherwise the host holds it). */
  public boolean hasData() {
    return data != null;
  }

  /** This snapshot's metadata and size, without the image. */
  public Snapshot withoutData() {
    return data == null ? this : metadata(index, term, membership, sizeBytes);
  }

  /** Up to {@code maxBytes} of the image from {@code offset}; requires {@link #hasData}. */
  public byte[] chunk(long offset, int maxBytes) {
    Invariants.check(data != null, "snapshot %s holds no data", this);
    Invariants.check(offset >= 0 && offset <= data.length, "offset %s outside the image", offset);
    return Arrays.copyOfRange(data, (int) offset,
        (int) Math.min(data.length, offset + (long) maxBytes));
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Snapshot s
        && index == s.index
        && term == s.term
        && sizeBytes == s.sizeBytes
        && membership.equals(s.membership)
        && Arrays.equals(data, s.data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(index) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Snapshot{" + index + "@" + term + " " + membership + " " + sizeBytes + "B"
        + (data == null ? " held by the host" : "") + "}";
  }
}
