package io.modelguard.event;

/**
 * Receives the engine's events, synchronously on the request thread. Keep it fast; an exception it
 * throws is logged and never affects the decision.
 */
@FunctionalInterface
public interface GuardListener {

  /** Called once per event. */
  void onEvent(GuardEvent event);
}
