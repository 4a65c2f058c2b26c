package io.detraft.core;

/** Volatile state a host may want to observe: the role and the leader it believes in (0 = none). */
public record SoftState(Role role, long leader) {}
