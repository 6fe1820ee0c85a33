package io.modelguard.event;

import java.time.Instant;

/**
 * A policy threw instead of returning a decision. The exception itself is logged once by the
 * engine; the event carries only its class name so listeners can count failures.
 *
 * @param timestamp when the failure happened
 * @param chain the chain
 * @param policy the policy's registered name
 * @param exceptionType the exception's class name
 * @param failedOpen whether the policy was fail-open (the request continued)
 */
public record PolicyFailureEvent(
    Instant timestamp, String chain, String policy, String exceptionType, boolean failedOpen)
    implements GuardEvent {}
