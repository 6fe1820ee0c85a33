package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.DigitsRequest;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.MutableClock;
import io.modelguard.ReasonCode;
import java.nio.charset.Charset;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An adversarial review of the extraction defence by an authenticated client of one tenant: what
 * it can make the defence answer without the detectors seeing the query, or return in a form its
 * client reads otherwise than the codec wrote it.
 */
class ExtractionAttackReviewTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final int CAP = 4096;
  private static final String ANSWER = "{\"label\":1,\"probabilities\":[0.1,0.7,0.2]}";
  private static final String QUERY = "{\"x\":[4,2,9]}";

  private static ModelGuard guard(ExtractionDefence defence, String tier) {
    return ExtractionChains.guard(defence, tier, CAP);
  }

  private static ModelOutput respond(ModelGuard guard, String body, ModelOutput answer) {
    DigitsRequest request = new DigitsRequest(body);
    return guard.onResponse(request, guard.check(request), 200, answer);
  }

  /**
   * A query was remembered as seen before the detectors ran, so when one of them threw (the query
   * failing with internal.error, fail-closed) its retry passed as a repeat: answered exactly,
   * never shown to any detector. The client whose query a detector cannot take gets it answered
   * at the second attempt.
   */
  @Test
  void aQueryADetectorFailedOnIsNotAnsweredAsARepeatWhenRetried() {
    AtomicInteger calls = new AtomicInteger();
    ExtractionDetector failsOnceThenFlags = new ExtractionDetector() {
      @Override public String name() { return "flaky"; }
      @Override public long maxRetainedBytes(int dimensions) { return 0; }
      @Override public State newState() {
        return new State() {
          @Override public boolean observe(double[] x, Prediction p) {
            if (calls.incrementAndGet() == 1) {
              throw new IllegalStateException("a detector's bug");
            }
            return true;
          }
          @Override public long retainedBytes() { return 0; }
        };
      }
    };
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).detector(failsOnceThenFlags, 2).build();
    ModelGuard guard = guard(defence, "gold");

    assertThatThrownBy(() -> respond(guard, QUERY, ModelOutput.json(ANSWER))).isInstanceOf(GuardFailureException.class);
    String retry = respond(guard, QUERY, ModelOutput.json(ANSWER)).bodyAsString();

    assertThat(calls).as("the retry reaches the detector").hasValue(2);
    assertThat(defence.level("p:mallory:mallory")).isEqualTo(RiskLevel.MISINFORM);
    assertThat(retry).isNotEqualTo(ANSWER);
  }

  /**
   * The codec reads an answer in UTF-16 or UTF-32 (JSON's encodings, detected from its bytes) and
   * writes the rewrite in UTF-8, but the rewrite kept the model's media type, charset and all: a
   * client decoding it by the charset it was told read garbage instead of its label.
   */
  @Test
  void aRewrittenAnswerNamesTheCharsetItIsWrittenIn() {
    ModelGuard guard = guard(ExtractionDefence.builder(KEYS, 3).tierPerturbation("free", Perturbation.classLabel()).build(),
        "free");
    String labelOnly = "{\"label\":1,\"probabilities\":[0.0,1.0,0.0]}";
    for (String charset : new String[] {"UTF-16BE", "UTF-16LE", "UTF-32BE"}) {
      ModelOutput answer = ModelOutput.of(ANSWER.getBytes(Charset.forName(charset)),
          "application/json; charset=" + charset.toLowerCase() + "; profile=x");

      ModelOutput rewritten = respond(guard, QUERY, answer);

      assertThat(rewritten.contentType()).hasValue("application/json; profile=x; charset=UTF-8");
      assertThat(new String(rewritten.body(), StandardCharsets.UTF_8)).isEqualTo(labelOnly);
    }
    // An answer in UTF-8 keeps its media type as the model wrote it.
    ModelOutput utf8 = ModelOutput.of(ANSWER.getBytes(StandardCharsets.UTF_8), "application/json;charset=utf-8");
    assertThat(respond(guard, QUERY, utf8).contentType()).hasValue("application/json;charset=utf-8");
  }

  /**
   * The client cache is one budget for all clients, evicting the least used when full. A blocked
   * client, or its accomplices, sending a few queries from each of a few thousand fresh identities
   * (unauthenticated addresses, free-tier accounts of other tenants) evicted its state, and with
   * it the block: it came back with a clean history. Its level now survives the eviction, and still
   * decays as it would have.
   */
  @Test
  void floodingTheClientCacheWithFreshIdentitiesLiftsNoBlock() {
    MutableClock clock = MutableClock.standard();
    ExtractionDefenceTest.ScriptedDetector detector = new ExtractionDefenceTest.ScriptedDetector();
    detector.flagging.add(999.0);
    ExtractionDefence probe = ExtractionDefence.builder(KEYS, 3).detector(detector, 100).build();
    probe.observe("p:t:probe", new double[] {1, 2, 3}, Prediction.of(P));
    long oneClient = probe.chargedBytes("p:t:probe");
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).clock(clock).detector(detector, 100)
        .maxTotalBytes(40 * oneClient).build(); // room for some 40 clients
    String mallory = "p:gold:mallory";
    defence.observe(mallory, new double[] {999, 2, 3}, Prediction.of(P));
    assertThat(defence.admit(mallory).reason()).hasValue(ReasonCode.EXTRACTION_BLOCKED);

    for (int identity = 0; identity < 2_000; identity++) {
      for (int q = 0; q < 3; q++) {
        defence.observe("a:198.51." + identity / 250 + "." + identity % 250, new double[] {q, 2, 3}, Prediction.of(P));
      }
    }

    assertThat(defence.retainedBytes(mallory)).as("its state was evicted for room").isZero();
    assertThat(defence.level(mallory)).isEqualTo(RiskLevel.BLOCK);
    assertThat(defence.admit(mallory).reason()).hasValue(ReasonCode.EXTRACTION_BLOCKED);
    clock.advance(Duration.ofHours(1));
    defence.observe(mallory, new double[] {5, 2, 3}, Prediction.of(P));
    assertThat(defence.level(mallory)).as("back with its score of an hour later").isEqualTo(RiskLevel.THROTTLE);
    clock.advance(Duration.ofHours(6));
    assertThat(defence.level(mallory)).isEqualTo(RiskLevel.OBSERVE);
  }

  private static final double[] P = {0.1, 0.7, 0.2};
}
