package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.ReasonCode;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Perturbation;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.extraction.QueryEncoder;
import io.modelguard.extraction.RiskLevel;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * For adapter tests that the output policies see every response the application produced, errors
 * included: a chain with the extraction defence's built-in OBSERVE and PERTURB policies, set to
 * round every client's probabilities to one decimal, a RECORD policy that remembers the status and
 * body it saw last, and, as the defence needs, a request policy that reads the body (the output
 * policies see only what the request policies read of it). A handler answers {@link #PREDICTION} (with any status) or {@link #PROBLEM};
 * the client must receive {@link #ROUNDED} for the first and {@link #PROBLEM} unchanged for the
 * second, and {@link #lastSeen()} tells which status the policies were given.
 *
 * <pre>{@code
 * ErrorOutputFixture errors = new ErrorOutputFixture();
 * ModelGuard.builder()...chain(ErrorOutputFixture.CHAIN, errors.chain())
 * // handler of @ModelSecured(model = "digits", chain = ErrorOutputFixture.CHAIN), given REQUEST:
 * // respond 422 with PREDICTION as application/json
 * errors.reset();
 * errors.assertRewritten(client.send(...REQUEST..., BodyHandlers.ofString()), 422);
 * }</pre>
 *
 * <p>{@link ErrorOutputContract} holds the tests every adapter runs with it. One instance per test
 * class; thread-safe, but {@link #lastSeen()} is only meaningful while one request at a time uses
 * the chain.
 */
public final class ErrorOutputFixture {
  /** The chain name to register with {@link #chain()}. */
  public static final String CHAIN = "error-output";
  /** The request body to send: the features the extraction defence keys its noise by. */
  public static final String REQUEST = "{\"pixels\":[1,2,3]}";
  /** The prediction a handler answers, in the extraction defence's standard form. */
  public static final String PREDICTION = "{\"label\":1,\"probabilities\":[0.0123,0.9731]}";
  /** {@link #PREDICTION} as the chain's policies rewrite it: probabilities rounded to one decimal. */
  public static final String ROUNDED = "{\"label\":1,\"probabilities\":[0.0,1.0]}";
  /** An error body of the application that is no prediction; the policies must pass it unchanged. */
  public static final String PROBLEM =
      "{\"type\":\"urn:example:problem:out-of-range\",\"title\":\"Input out of range\",\"status\":422}";
  /** The media type of {@link #PROBLEM}. */
  public static final String PROBLEM_TYPE = "application/problem+json";
  /** The most bytes of request body the chain's policies read. */
  private static final int MAX_BODY_BYTES = 4096;

  private final ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2)
      .clock(FakeClock.standard())
      .levelPerturbation(RiskLevel.OBSERVE, Perturbation.rounding(1))
      .build();
  private final AtomicReference<Seen> lastSeen = new AtomicReference<>();

  /** A fixture that has seen nothing yet. */
  public ErrorOutputFixture() {}

  /** What the RECORD policy saw of one response: its status and final body. */
  public record Seen(int status, String body) {}

  /**
   * The chain: a VALIDATE policy that reads the body (up to {@value #MAX_BODY_BYTES} bytes; a larger
   * or unreadable one is denied {@code input.malformed}), the defence's OBSERVE and PERTURB policies
   * (features at {@code /pixels}, the standard prediction codec) and the recording RECORD policy.
   *
   * @return a chain customizer adding the four policies, sharing this fixture's defence and
   *     recorder
   */
  public Consumer<PolicyChain.Builder> chain() {
    QueryEncoder pixels = QueryEncoder.jsonNumbers("/pixels");
    PredictionCodec codec = PredictionCodec.standard();
    return c -> c
        .policy(Phase.VALIDATE, "read-query", ctx -> {
          try {
            ctx.request().body(MAX_BODY_BYTES);
            return GuardDecision.allow();
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
        })
        .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(pixels, codec, MAX_BODY_BYTES))
        .output(OutputPhase.PERTURB, "extraction-perturb", defence.perturbPolicy(pixels, codec, MAX_BODY_BYTES))
        .output(OutputPhase.RECORD, "record-status", ctx -> {
          lastSeen.set(new Seen(ctx.status(), ctx.output().bodyAsString()));
          return ctx.output();
        });
  }

  /** {@return what the policies saw of the last response, if any response reached them since {@link #reset()}} */
  public Optional<Seen> lastSeen() {
    return Optional.ofNullable(lastSeen.get());
  }

  /** Forgets the last response. */
  public void reset() {
    lastSeen.set(null);
  }

  /**
   * Asserts that the client received {@link #ROUNDED} with {@code status} and the length of that
   * body, and that the policies saw the same status.
   *
   * @param response the response the client received
   * @param status the status the handler answered, which the client and the policies must both see
   */
  public void assertRewritten(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.body()).isEqualTo(ROUNDED);
    assertThat(response.headers().allValues("Content-Length"))
        .containsExactly(Integer.toString(ROUNDED.getBytes(StandardCharsets.UTF_8).length));
    assertThat(lastSeen()).contains(new Seen(status, ROUNDED));
  }

  /**
   * Asserts that the client received {@link #PROBLEM} as sent, with status 422 and media type
   * {@value #PROBLEM_TYPE}, and that the policies saw it with that status.
   *
   * @param response the response the client received
   */
  public void assertPassedUnchanged(HttpResponse<String> response) {
    assertThat(response.statusCode()).isEqualTo(422);
    assertThat(response.body()).isEqualTo(PROBLEM);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(PROBLEM_TYPE);
    assertThat(lastSeen()).contains(new Seen(422, PROBLEM));
  }
}
