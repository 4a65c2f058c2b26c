package io.detraft.core;

/**
 * A piece of a snapshot a follower accepted from its leader, for the host to write to its
 * receive file ({@link Config#streamSnapshots}). Chunks of one install come in order and
 * without gaps; one at offset 0 starts an install over (any earlier partial one is abandoned).
 * The core replies to the leader only in the same {@link Ready}'s messages, so after the host
 * wrote the chunk. A crash loses the install: the leader restarts it from offset 0.
 *
 * @param index the last entry the snapshot covers
 * @param term that entry's term
 * @param membership the membership at {@code index}
 * @param totalBytes the whole image's size
 * @param offset where {@code bytes} go in the image
 * @param bytes the piece
 * @param done this is the last piece: {@link Ready#snapshot()} carries the snapshot to install
 *     in the same Ready, or else the follower did not need it after all (its log already held
 *     the snapshot's last entry) and the host discards what it received
 */
public record SnapshotChunk(long index, long term, Membership membership, long totalBytes,
    long offset, byte[] bytes, boolean done) {
  public SnapshotChunk {
    Invariants.check(offset >= 0 && offset + bytes.length <= totalBytes,
        "chunk [%s, +%s) outside snapshot of %s bytes", offset, bytes.length, totalBytes);
    Invariants.check(done == (offset + bytes.length == totalBytes), "done flag inconsistent");
  }
}
