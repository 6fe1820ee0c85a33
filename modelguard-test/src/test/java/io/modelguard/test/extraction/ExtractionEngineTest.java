package io.modelguard.test.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.ExtractionDetector;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.extraction.QueryEncoder;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.test.FakeClock;
import io.modelguard.test.FakeRequest;
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

  private final ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits")
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
    return guard.onResponse(request, decision, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}")).bodyAsString();
  }

  @Test
  void honestClientsGetTheModelsAnswerVerbatim() {
    assertThat(ask("10.0.0.1", 1)).isEqualTo("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}");
    assertThat(ask("10.0.0.1", 2)).isEqualTo("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}");
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
    String wrong = guard.onResponse(second, allowed, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}")).bodyAsString();
    assertThat(defence.level("a:10.6.6.6")).isEqualTo(RiskLevel.MISINFORM);
    assertThat(wrong).doesNotContain("\"label\":1,").contains("\"probabilities\":[");
    // The detectors always see the model's true answer, never the rewritten one.
    assertThat(observedTopProbability).containsOnly(0.8);

    FakeRequest third = FakeRequest.builder().model("digits").remoteAddress("10.6.6.6").jsonBody("{\"pixels\":[16,7,7]}").build();
    guard.onResponse(third, guard.check(third), ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}"));
    assertThat(ask("10.6.6.6", 2)).isEqualTo(ReasonCode.EXTRACTION_BLOCKED.code());
    assertThat(ask("10.0.0.1", 16)).startsWith("{");
  }

  @Test
  void outputsItCannotReadPassUnchanged() {
    FakeRequest request = FakeRequest.builder().model("digits").remoteAddress("10.0.0.2").jsonBody("{\"image\":\"x\"}").build();
    GuardDecision decision = guard.check(request);
    assertThat(guard.onResponse(request, decision, ModelOutput.json("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}")).bodyAsString())
        .isEqualTo("{\"label\":1,\"probabilities\":[0.1,0.8,0.1]}");
    assertThat(observedTopProbability).isEmpty();
  }
}
