package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.DigitsRequest;
import io.modelguard.FailureMode;
import io.modelguard.GuardDecision;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.Tier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The extraction defence's output policies withhold an answer they cannot observe or perturb on
 * purpose, and a client can bring that about (padding its query past the policies' body cap): so a
 * step registered fail-open must withhold it too. It was skipped, and the model's exact answer left
 * unperturbed, the query never seen by a detector.
 */
class ExtractionFailOpenWithholdTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final int CAP = 64;
  private static final String ANSWER = "{\"label\":1,\"probabilities\":[0.1,0.7,0.2]}";

  /** A query of three features, padded with spaces past the policies' cap: the model reads it all the same. */
  private static final String PADDED = "{\"x\":[4,2,9]}" + " ".repeat(CAP);

  /** A chain with the defence's PERTURB step, and its OBSERVE step unless {@code observe} is null. */
  private static ModelGuard guard(ExtractionDefence defence, FailureMode observe, FailureMode perturb) {
    QueryEncoder x = QueryEncoder.jsonNumbers("/x");
    return ModelGuard.builder().auditLog(false).models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> {
          c.policy(Phase.AUTHENTICATE, "token", ctx -> GuardDecision.authenticated(
                  Principal.builder("mallory").tier("free").build()))
              .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
              .output(OutputPhase.PERTURB, "extraction-perturb",
                  defence.perturbPolicy(x, PredictionCodec.standard(), CAP), perturb);
          if (observe != null) {
            c.output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), CAP),
                observe);
          }
        })
        .build();
  }

  private static ExtractionDefence freeTierGetsTheLabelOnly(List<double[]> observed) {
    return ExtractionDefence.builder(KEYS, 3)
        .detector(recording(observed), 1)
        .tierPerturbation("free", Perturbation.classLabel())
        .build();
  }

  @Test
  void aFailOpenPerturbStepWithholdsTheExactAnswerOfAQueryItCannotRead() {
    List<double[]> observed = new ArrayList<>();
    ModelGuard guard = guard(freeTierGetsTheLabelOnly(observed), null, FailureMode.OPEN);
    DigitsRequest ok = new DigitsRequest("{\"x\":[4,2,9]}");
    assertThat(guard.onResponse(ok, guard.check(ok), 200, ModelOutput.json(ANSWER)).bodyAsString())
        .doesNotContain("0.7"); // a free-tier client gets the label only

    DigitsRequest padded = new DigitsRequest(PADDED);
    GuardDecision allowed = guard.check(padded);

    assertThatThrownBy(() -> guard.onResponse(padded, allowed, 200, ModelOutput.json(ANSWER)))
        .isInstanceOf(GuardFailureException.class);
  }

  @Test
  void aFailOpenObserveStepWithholdsAQueryItCannotShowTheDetectors() {
    List<double[]> observed = new ArrayList<>();
    ModelGuard guard = guard(freeTierGetsTheLabelOnly(observed), FailureMode.OPEN, FailureMode.OPEN);
    DigitsRequest padded = new DigitsRequest(PADDED);
    GuardDecision allowed = guard.check(padded);

    assertThatThrownBy(() -> guard.onResponse(padded, allowed, 200, ModelOutput.json(ANSWER)))
        .isInstanceOf(GuardFailureException.class);
    assertThat(observed).isEmpty();
  }

  @Test
  void aFailOpenStepStillSkipsAPolicyThatFailsOtherwise() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.output(OutputPhase.PERTURB, "broken", ctx -> {
          throw new IllegalStateException("a bug, not a decision");
        }, FailureMode.OPEN))
        .build();
    DigitsRequest r = new DigitsRequest("{\"x\":[4,2,9]}");
    ModelOutput answer = ModelOutput.json(ANSWER);

    assertThat(guard.onResponse(r, guard.check(r), 200, answer)).isSameAs(answer);
  }

  /** A detector that records what reaches it and never flags. */
  private static ExtractionDetector recording(List<double[]> seen) {
    return new ExtractionDetector() {
      @Override public String name() { return "recording"; }
      @Override public long maxRetainedBytes(int dimensions) { return 0; }
      @Override public State newState() {
        return new State() {
          @Override public boolean observe(double[] x, Prediction p) {
            seen.add(x.clone());
            return false;
          }
          @Override public long retainedBytes() { return 0; }
        };
      }
    };
  }
}
