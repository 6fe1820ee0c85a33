package io.modelguard.extraction;

import java.time.Instant;

/**
 * A detection: {@code detector} flagged {@code client} at its {@code query}-th distinct query,
 * moving its risk from level {@code from} to {@code to} (equal when the level did not change) with
 * {@code score} after the flag. Published to the {@link ExtractionListener}; never shown to the
 * client. This is the defence's in-process hook (one event per detector flag, usable without an
 * engine, as the evaluation does); a defence wired into a chain also publishes one {@link
 * io.modelguard.event.ExtractionDetectionEvent} per flagged query to the engine's listeners, which
 * is what audit logs and metrics should consume.
 */
public record ExtractionEvent(
    Instant at, String client, String detector, RiskLevel from, RiskLevel to, long query, double score) {}
