package io.modelguard;

import io.modelguard.event.GuardEvent;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * What an {@link OutputPolicy} sees: the request, the decision that allowed it, the HTTP status of
 * the response, and the output as rewritten by the output policies before it. Created by the
 * engine; not thread-safe.
 */
public final class ResponseContext {
  private final ModelGuard guard;
  private final InferenceRequest request;
  private final GuardDecision decision;
  private final int status;
  private ModelOutput output;

  ResponseContext(ModelGuard guard, InferenceRequest request, GuardDecision decision, int status, ModelOutput output) {
    this.guard = guard;
    this.request = request;
    this.decision = decision;
    this.status = status;
    this.output = output;
  }

  /** {@return the request this output answers} */
  public InferenceRequest request() {
    return request;
  }

  /** {@return the endpoint of the request} */
  public Endpoint endpoint() {
    return request.endpoint();
  }

  /** {@return the principal the request was allowed for, if the chain authenticated it} */
  public Optional<Principal> principal() {
    return decision.principal();
  }

  /** {@return the decision that allowed the request} */
  public GuardDecision decision() {
    return decision;
  }

  /**
   * The HTTP status of the response the application produced, for example 200, 422 or 500. Output
   * policies run on error responses too, since an error body can carry a prediction (partial scores
   * in a 422, raw probabilities in a 500's debug body); a policy that should act only on successes
   * checks the status here. Policies cannot change it.
   *
   * @return the status, a three-digit code
   */
  public int status() {
    return status;
  }

  /** {@return the output so far} */
  public ModelOutput output() {
    return output;
  }

  /**
   * {@return the tier registered under {@code name}, if any}
   *
   * @param name the tier name, compared exactly
   */
  public Optional<Tier> tier(String name) {
    return guard.tier(name);
  }

  /** {@return the engine's clock} */
  public Clock clock() {
    return guard.clock();
  }

  /** {@return the engine's random source} */
  public RandomSource random() {
    return guard.random();
  }

  /**
   * Publishes {@code event} to the engine's listeners, synchronously, as the engine publishes its
   * own decisions: an output policy that detects something (the extraction defence's OBSERVE policy,
   * for example) reports it here so that audit logs and metrics see it with every other event. A
   * listener that throws is logged and never affects the response.
   *
   * @param event the event to publish; not null
   */
  public void publish(GuardEvent event) {
    guard.publish(Objects.requireNonNull(event, "event"));
  }

  void output(ModelOutput o) {
    this.output = o;
  }
}
