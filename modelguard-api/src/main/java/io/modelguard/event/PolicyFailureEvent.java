package io.modelguard.event;

import java.time.Instant;

/**
 * A policy threw instead of returning a decision. Published for every failure; the exception
 * itself is logged by the engine, with its stack trace at ERROR at most once a minute per chain,
 * policy and exception class (at DEBUG otherwise). The event carries only its class name, so that
 * listeners can count failures.
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
