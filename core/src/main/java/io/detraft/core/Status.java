package io.detraft.core;

/** A snapshot of a replica's state for observers, tests and oracles. */
public record Status(
    long id,
    long group,
    long term,
    long vote,
    Role role,
    long leader,
    long commit,
    long applied,
    long lastIndex,
    long lastTerm) {}
