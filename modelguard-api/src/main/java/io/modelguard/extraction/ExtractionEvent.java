package io.modelguard.extraction;

import java.time.Instant;

/**
 * A detection or a change of a client's risk level. {@code detector} is the detector that flagged
 * (null for a pure level change, such as decay); {@code query} is the client's query count at the
 * time. Never shown to the client.
 */
public record ExtractionEvent(
    Instant at, String client, String detector, RiskLevel from, RiskLevel to, long query, double score) {}
