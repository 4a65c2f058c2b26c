package io.detraft.core;

/** A replica's role. PRE_CANDIDATE is the PreVote phase (Ongaro's thesis §9.6). */
public enum Role {
  FOLLOWER,
  PRE_CANDIDATE,
  CANDIDATE,
  LEADER
}
