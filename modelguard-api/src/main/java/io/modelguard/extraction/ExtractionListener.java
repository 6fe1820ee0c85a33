package io.modelguard.extraction;

/**
 * Receives {@link ExtractionEvent}s synchronously on the request thread; must be fast and must not
 * throw (an exception is caught and ignored so detection never fails a request). For logs and
 * metrics prefer an engine {@link io.modelguard.event.GuardListener}, which receives {@link
 * io.modelguard.event.ExtractionDetectionEvent}s together with every other decision.
 */
@FunctionalInterface
public interface ExtractionListener {

  /** Called once per event. */
  void onEvent(ExtractionEvent event);
}
