package io.modelguard.event;

import java.time.Instant;

/**
 * Something the engine reports to its {@link GuardListener}s. Typed: listeners switch on the
 * concrete record.
 */
public sealed interface GuardEvent permits DecisionEvent, ExtractionDetectionEvent, PolicyFailureEvent {

  /**
   * When it happened, by the engine's clock.
   *
   * @return the instant of the event; never null
   */
  Instant timestamp();
}
