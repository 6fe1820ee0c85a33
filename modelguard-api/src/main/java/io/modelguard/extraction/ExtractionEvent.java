package io.modelguard.extraction;

import java.time.Instant;
import java.util.Objects;

/**
 * A change of a client's risk, published to the {@link ExtractionListener}; never shown to the
 * client. Two kinds, told apart by {@link #source}:
 *
 * <ul>
 *   <li>{@link Source#DETECTOR}: {@code detector} flagged {@code client} at its {@code query}-th
 *       distinct query, moving its risk from level {@code from} to {@code to} (equal when the
 *       level did not change) with {@code score} after the flag. One event per detector flag.
 *   <li>{@link Source#EXCHANGE}: a raise another instance shared through the {@link RiskExchange}
 *       lifted {@code client} from {@code from} to {@code to} here ({@code to} is always higher);
 *       {@code score} is the received score decayed to {@code at}, this defence's now. No detector
 *       fired here and no query was seen: {@code detector} is {@value #EXCHANGE_DETECTOR} and
 *       {@code query} is 0. Only raises that lift the level are published, not those that change
 *       nothing here.
 * </ul>
 *
 * This is the defence's in-process hook (usable without an engine, as the evaluation does); a
 * defence wired into a chain also publishes one {@link io.modelguard.event.ExtractionDetectionEvent}
 * per flagged query to the engine's listeners, which is what audit logs and metrics should consume
 * for detections. A received raise happens on the exchange's thread, outside any request, so it
 * reaches the engine's listeners as nothing: an {@link ExtractionListener} counting {@link
 * Source#EXCHANGE} events is how a meter sees cross-instance escalations.
 *
 * @param at when the risk changed, by the defence's clock
 * @param client the client's key
 * @param detector the flagging detector's name, or {@value #EXCHANGE_DETECTOR} for a received raise
 * @param from the client's level before
 * @param to the client's level after
 * @param query the client's distinct query count at the flag; 0 for a received raise
 * @param score the client's score after the change
 * @param source what changed the risk: a detector here or a raise received from another instance
 */
public record ExtractionEvent(
    Instant at, String client, String detector, RiskLevel from, RiskLevel to, long query, double score,
    Source source) {
  /** The {@link #detector} of an event of {@link Source#EXCHANGE}: no detector of this instance fired. */
  public static final String EXCHANGE_DETECTOR = "exchange";

  /** What changed a client's risk. */
  public enum Source {
    /** A detector of this defence flagged a query. */
    DETECTOR,
    /** A raise another instance's defence of the same label shared through the exchange. */
    EXCHANGE
  }

  /**
   * Validates.
   *
   * @param at when the risk changed; not null
   * @param client the client's key
   * @param detector the detector's name, or {@value #EXCHANGE_DETECTOR} for a received raise
   * @param from the client's level before
   * @param to the client's level after
   * @param query the client's query count, this query included
   * @param score the client's risk score after it
   * @param source a detector's flag or a received raise; not null
   * @throws NullPointerException if {@code source} is null
   */
  public ExtractionEvent {
    Objects.requireNonNull(source, "source");
  }

  /**
   * A detector's event ({@link Source#DETECTOR}), as events were before they had a source.
   *
   * @param at when the risk changed
   * @param client the client's key
   * @param detector the detector's name
   * @param from the client's level before
   * @param to the client's level after
   * @param query the client's query count, this query included
   * @param score the client's risk score after it
   */
  public ExtractionEvent(
      Instant at, String client, String detector, RiskLevel from, RiskLevel to, long query, double score) {
    this(at, client, detector, from, to, query, score, Source.DETECTOR);
  }
}
