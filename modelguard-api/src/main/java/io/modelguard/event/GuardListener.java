package io.modelguard.event;

/**
 * Receives the engine's events, synchronously on the request thread. Keep it fast; an exception it
 * throws never affects the decision, and is logged at WARN with its stack trace at most once a
 * minute per listener (two instances of one class are two), event type and exception class (at
 * DEBUG otherwise).
 */
@FunctionalInterface
public interface GuardListener {

  /**
   * Called once per event.
   *
   * @param event the event, a {@link DecisionEvent} or another {@link GuardEvent}; never null
   */
  void onEvent(GuardEvent event);
}
