package io.modelguard.extraction;

/**
 * Receives {@link ExtractionEvent}s synchronously: a detector's on the request thread, a raise
 * received from another instance on the exchange's thread ({@link ExtractionEvent#source}); must
 * be fast and must not throw (an exception is caught and ignored so detection never fails a
 * request). For logs and metrics of detections prefer an engine {@link
 * io.modelguard.event.GuardListener}, which receives {@link
 * io.modelguard.event.ExtractionDetectionEvent}s together with every other decision; only this
 * listener learns of levels raised by other instances.
 */
@FunctionalInterface
public interface ExtractionListener {

  /**
   * Called once per event.
   *
   * @param event the event; never null
   */
  void onEvent(ExtractionEvent event);
}
