package io.modelguard.test.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.ExtractionDetector;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.extraction.QueryEncoder;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.test.FakeClock;
import io.modelguard.test.FakeRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The extraction defence wired into a chain: DETECT blocks, OBSERVE feeds the detectors, PERTURB rewrites JSON. */
class ExtractionEngineTest {
  private final FakeClock clock = FakeClock.standard();
  private final List<Double> observedTopProbability = new ArrayList<>();

  /** Flags every query whose first pixel is 16. */
  private final ExtractionDetector firstPixelIs16 = new ExtractionDetector() {
    @Override
    public String name() {
      return "first-pixel";
    }

    @Override
    public long maxRetainedBytes(int dimensions) {
      return 10;
    }

    @Override
    public State newState() {
      return new State() {
        @Override
        public boolean observe(double[] features, Prediction prediction) {
          observedTopProbability.add(prediction.probabilities()[prediction.label()]);
          return features[0] == 16;
        }

        @Override
        public long retainedBytes() {
          return 0;
        }
      };
    }
  };

  private final ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 3)
      .clock(clock)
      .detector(firstPixelIs16, 1)
      .threshold(RiskLevel.BLOCK, 3)
      .build();

  private final List<GuardEvent> events = new ArrayList<>();

  private final ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits").listener(events::add)
      .chain("default", c -> c
          .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
          .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(QueryEncoder.jsonNumbers("/pixels"), PredictionCodec.standard(), 4096))
          .output(OutputPhase.PERTURB, "extraction-perturb", defence.perturbPolicy(QueryEncoder.jsonNumbers("/pixels"), PredictionCodec.standard(), 4096)))
      .build();

  private String ask(String address, int firstPixel) {
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress(address)
        .jsonBody("{\"pixels\":[" + firstPixel + ",3,4]}").build();
    GuardDecision decision = guard.check(request);
    if (!decision.isAllowed()) {
      return decision.reason().orElseThrow().code();
    }
    return guard.onResponse(request, decision, 200, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}")).bodyAsString();
  }

  @Test
  void honestClientsGetTheModelsAnswerVerbatim() {
    assertThat(ask("10.0.0.1", 1)).isEqualTo("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}");
    assertThat(ask("10.0.0.1", 2)).isEqualTo("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}");
  }

  @Test
  void anUnflaggedClientsAnswerIsNotEvenReEncoded() {
    String asWritten = "{ \"label\": 1, \"probabilities\": [0.10, 0.80, 0.10] }";
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.0.0.3")
        .jsonBody("{\"pixels\":[1,3,4]}").build();
    GuardDecision decision = guard.check(request);

    assertThat(guard.onResponse(request, decision, 200, ModelOutput.json(asWritten)).bodyAsString()).isEqualTo(asWritten);
    assertThat(observedTopProbability).containsExactly(0.8); // observed all the same
  }

  @Test
  void flaggedClientsAreMisinformedThenBlockedWhileOthersAreNot() {
    ask("10.6.6.6", 16); // flagged once: score 1, PERTURB
    String perturbed = ask("10.6.6.6", 16); // an exact repeat is not counted again
    assertThat(defence.level("a:10.6.6.6")).isEqualTo(RiskLevel.PERTURB);
    assertThat(perturbed).startsWith("{\"label\":").doesNotContain("\"probabilities\":[0.1,0.8,0.1]");
    assertThat(ask("10.6.6.6", 16)).isEqualTo(perturbed); // keyed noise: the same answer again

    ask("10.6.6.6", 1);
    FakeRequest second = FakeRequest.builder().model("digits").remoteAddress("10.6.6.6").jsonBody("{\"pixels\":[16,9,9]}").build();
    GuardDecision allowed = guard.check(second);
    String wrong = guard.onResponse(second, allowed, 200, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}")).bodyAsString();
    assertThat(defence.level("a:10.6.6.6")).isEqualTo(RiskLevel.MISINFORM);
    assertThat(wrong).doesNotContain("\"label\":1,").contains("\"probabilities\":[");
    // The detectors always see the model's true answer, never the rewritten one.
    assertThat(observedTopProbability).containsOnly(0.8);

    FakeRequest third = FakeRequest.builder().model("digits").remoteAddress("10.6.6.6").jsonBody("{\"pixels\":[16,7,7]}").build();
    guard.onResponse(third, guard.check(third), 200, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}"));
    assertThat(ask("10.6.6.6", 2)).isEqualTo(ReasonCode.EXTRACTION_BLOCKED.code());
    assertThat(ask("10.0.0.1", 16)).startsWith("{");
  }

  @Test
  void aSuccessfulAnswerToAQueryThatIsNoPredictionIsWithheldNotPassedUnseen() {
    // An answer in a form the codec does not read (another media type the application negotiates
    // for the asking) reached no detector: the client was never flagged and never noised.
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.0.0.2").jsonBody("{\"pixels\":[1,3,4]}").build();
    GuardDecision decision = guard.check(request);
    for (ModelOutput unreadable : List.of(ModelOutput.json("{\"embedding\":[0.1,0.8,0.1]}"),
        ModelOutput.of("label,p0,p1,p2\n1,0.1,0.8,0.1\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), "text/csv"))) {
      assertThatThrownBy(() -> guard.onResponse(request, decision, 200, unreadable))
          .as(unreadable.bodyAsString()).isInstanceOf(GuardFailureException.class);
    }
    assertThat(observedTopProbability).isEmpty();
  }

  @Test
  void anErrorAnswerOrAnAnswerToNoQueryThatIsNoPredictionPassesUnchanged() {
    FakeRequest query = FakeRequest.builder().model("digits").remoteAddress("10.0.0.2").jsonBody("{\"pixels\":[1,3,4]}").build();
    String error = "{\"error\":\"model overloaded\"}";
    assertThat(guard.onResponse(query, guard.check(query), 503, ModelOutput.json(error)).bodyAsString()).isEqualTo(error);

    FakeRequest metadata = FakeRequest.builder().model("digits").remoteAddress("10.0.0.2").build();
    String card = "{\"name\":\"digits\",\"inputs\":64}";
    assertThat(guard.onResponse(metadata, guard.check(metadata), 200, ModelOutput.json(card)).bodyAsString()).isEqualTo(card);
    assertThat(observedTopProbability).isEmpty();
  }

  @Test
  void aPredictionForAnInputTheDefenceCannotReadIsWithheldNotPassedUnseen() {
    // Padding a query past the encoder's cap, or sending the model an input in a form the encoder
    // does not read, used to hide it from the detectors and from the noise: the exact answer left.
    String prediction = "{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}";
    String padded = "{\"pixels\":[1,3,4]}" + " ".repeat(5000);
    for (String body : List.of(padded, "{\"image\":\"x\"}")) {
      for (String address : List.of("10.0.0.2", "10.6.6.7")) {
        FakeRequest request = FakeRequest.builder().model("digits").remoteAddress(address).jsonBody(body).build();
        GuardDecision decision = guard.check(request);
        assertThatThrownBy(() -> guard.onResponse(request, decision, 200, ModelOutput.json(prediction)))
            .as("%s %s", address, body.strip()).isInstanceOf(GuardFailureException.class);
      }
      ask("10.6.6.7", 16); // the second client is flagged (PERTURB) after the first round
    }
    assertThat(observedTopProbability).as("only the honest query of the flagged client").containsExactly(0.8);
  }

  @Test
  void aQueryOfAnotherLengthThanTheClientsFirstIsWithheldAndItsRetryIsNotTakenForARepeat() {
    // It used to reach the detectors, where a k-NN window failed on it after the query had been
    // counted and remembered, so a retry passed as a repeat; a detector reading fewer features let
    // it through unseen.
    String prediction = "{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}";
    ask("10.0.0.4", 1); // three pixels: this client's length from now on
    FakeRequest shorter = FakeRequest.builder().model("digits").remoteAddress("10.0.0.4").jsonBody("{\"pixels\":[16,3]}").build();
    for (int attempt = 0; attempt < 2; attempt++) {
      GuardDecision decision = guard.check(shorter);
      assertThatThrownBy(() -> guard.onResponse(shorter, decision, 200, ModelOutput.json(prediction)))
          .as("attempt %d", attempt + 1).isInstanceOf(GuardFailureException.class);
    }
    assertThat(ask("10.0.0.4", 2)).isEqualTo(prediction);
    assertThat(observedTopProbability).as("the two queries of the client's length").containsExactly(0.8, 0.8);
    assertThat(defence.level("a:10.0.0.4")).isEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void aFlaggedClientsNoisedAnswerCarriesNoneOfTheModelsOtherExactOutputs() {
    // A model server that also answers its logits used to have them passed through next to the
    // noised probabilities: the flagged client read the exact answer off them.
    ask("10.6.6.9", 16);
    assertThat(defence.level("a:10.6.6.9")).isEqualTo(RiskLevel.PERTURB);
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.6.6.9").jsonBody("{\"pixels\":[3,3,4]}").build();
    GuardDecision decision = guard.check(request);
    String answer = guard.onResponse(request, decision, 200, ModelOutput.json(
        "{\"label\":1,\"probabilities\":[0.1,0.8,0.1],\"logits\":[-1.386,0.693,-1.386],\"top\":{\"score\":0.8}}"))
        .bodyAsString();
    assertThat(answer).startsWith("{\"label\":").contains("\"probabilities\":[")
        .doesNotContain("logits").doesNotContain("top").doesNotContain("0.693").doesNotContain("0.8,");
  }

  @Test
  void aFlaggedClientsAnswerTheCodecCannotReadIsWithheld() {
    ask("10.6.6.8", 16);
    assertThat(defence.level("a:10.6.6.8")).isEqualTo(RiskLevel.PERTURB);
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.6.6.8").jsonBody("{\"pixels\":[2,3,4]}").build();
    GuardDecision decision = guard.check(request);
    // A batch answer the standard codec does not read: rewriting is due, so it must not leave as is.
    assertThatThrownBy(() -> guard.onResponse(request, decision, 200,
        ModelOutput.json("{\"probabilities\":[[0.1,0.8,0.1],[0.2,0.2,0.6]]}")))
        .isInstanceOf(GuardFailureException.class);
  }

  @Test
  void errorBodiesThatAreNoPredictionPassUnchangedEvenForAFlaggedClient() {
    ask("10.5.5.5", 16); // flagged once: PERTURB, so every prediction this client gets is rewritten
    assertThat(defence.level("a:10.5.5.5")).isEqualTo(RiskLevel.PERTURB);
    List<String> notPredictions = List.of(
        "{\"type\":\"urn:example:problem:out-of-range\",\"title\":\"Input out of range\",\"status\":422}",
        "<html><body>Internal Server Error</body></html>",
        "",
        "{\"label\":1,\"probabilities\":[]}",
        "{\"label\":1,\"probabilities\":\"withheld\"}",
        "[0.1,0.8,0.1]",
        "{\"label\":1,\"probabilities\":[0.1,0.8");
    int pixel = 100;
    for (int status : new int[] {400, 422, 500}) {
      for (String body : notPredictions) {
        FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.5.5.5")
            .jsonBody("{\"pixels\":[" + pixel++ + ",3,4]}").build();
        ModelOutput output = guard.onResponse(request, guard.check(request), status, ModelOutput.json(body));
        assertThat(output.bodyAsString()).as("%d %s", status, body).isEqualTo(body);
      }
    }
    // A prediction in an error body is rewritten like any other.
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.5.5.5")
        .jsonBody("{\"pixels\":[7,3,4]}").build();
    String partial = "{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}";
    assertThat(guard.onResponse(request, guard.check(request), 422, ModelOutput.json(partial)).bodyAsString())
        .startsWith("{\"label\":").isNotEqualTo(partial);
    assertThat(observedTopProbability).last().isEqualTo(0.8);
  }

  private List<ExtractionDetectionEvent> detections() {
    return events.stream().filter(ExtractionDetectionEvent.class::isInstance).map(ExtractionDetectionEvent.class::cast).toList();
  }

  @Test
  void detectionsReachTheEnginesListenersWithLevelsDetectorAndScore() {
    ask("10.0.0.1", 1);
    ask("10.0.0.1", 2);
    assertThat(detections()).as("honest queries are not detections").isEmpty();

    clock.advance(Duration.ofSeconds(1));
    ask("10.6.6.6", 16);
    assertThat(detections()).singleElement().satisfies(e -> {
      assertThat(e.timestamp()).isEqualTo(clock.instant());
      assertThat(e.client()).isEqualTo("a:10.6.6.6");
      assertThat(e.subject()).isNull();
      assertThat(e.tenant()).isNull();
      assertThat(e.model()).isEqualTo("digits");
      assertThat(e.previousLevel()).isEqualTo(RiskLevel.OBSERVE);
      assertThat(e.level()).isEqualTo(RiskLevel.PERTURB);
      assertThat(e.escalated()).isTrue();
      assertThat(e.detectors()).containsExactly("first-pixel");
      assertThat(e.score()).isEqualTo(1.0);
      assertThat(e.query()).isEqualTo(1);
    });
    ask("10.6.6.6", 16); // an exact repeat never reaches the detectors, so it is no new detection
    assertThat(detections()).hasSize(1);
    // The engine's own decision events keep flowing alongside.
    assertThat(events).filteredOn(DecisionEvent.class::isInstance).hasSize(4);
  }

  @Test
  void detectionsNameTheAuthenticatedPrincipalAndTenantButCarryNoInput() {
    List<GuardEvent> seen = new ArrayList<>();
    ModelGuard authenticated = ModelGuard.builder().clock(clock).auditLog(false).models("digits").listener(seen::add)
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "authenticate",
                ctx -> GuardDecision.authenticated(Principal.builder("alice").tenant("acme").tier("free").build()))
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(QueryEncoder.jsonNumbers("/pixels"), PredictionCodec.standard(), 4096)))
        .build();
    for (int q = 0; q < 3; q++) {
      FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.0.0.9")
          .jsonBody("{\"pixels\":[16,12345," + q + "]}").build();
      authenticated.onResponse(request, authenticated.check(request), 200, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}"));
    }
    List<ExtractionDetectionEvent> detections =
        seen.stream().filter(ExtractionDetectionEvent.class::isInstance).map(ExtractionDetectionEvent.class::cast).toList();
    assertThat(detections).extracting(ExtractionDetectionEvent::level)
        .containsExactly(RiskLevel.PERTURB, RiskLevel.MISINFORM, RiskLevel.BLOCK);
    assertThat(detections).extracting(ExtractionDetectionEvent::previousLevel)
        .containsExactly(RiskLevel.OBSERVE, RiskLevel.PERTURB, RiskLevel.MISINFORM);
    assertThat(detections).allSatisfy(e -> {
      assertThat(e.client()).isEqualTo("p:acme:alice");
      assertThat(e.subject()).isEqualTo("alice");
      assertThat(e.tenant()).isEqualTo("acme");
      assertThat(e.toString()).doesNotContain("12345").doesNotContain("0.8");
    });
  }
}
