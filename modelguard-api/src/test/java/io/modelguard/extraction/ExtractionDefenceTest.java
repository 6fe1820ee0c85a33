package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.CappedBody;
import io.modelguard.GuardDecision;
import io.modelguard.MutableClock;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The per-client risk state and the graduated response it drives. */
class ExtractionDefenceTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final double[] P = {0.1, 0.7, 0.2};

  /** Flags every query whose first feature is in {@code flagging}; counts what it sees. */
  static final class ScriptedDetector implements ExtractionDetector {
    final Set<Double> flagging = new HashSet<>();
    final List<Double> seen = new ArrayList<>();

    @Override
    public String name() {
      return "scripted";
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
          seen.add(features[0]);
          return flagging.contains(features[0]);
        }

        @Override
        public long retainedBytes() {
          return 10;
        }
      };
    }
  }

  private final MutableClock clock = MutableClock.standard();
  private final ScriptedDetector detector = new ScriptedDetector();
  private final List<ExtractionEvent> events = new ArrayList<>();

  /**
   * A defence for three classes whose only detector is {@code detector}: each flag adds 1, levels
   * at 1, 2, 3 and 3.9, a score half-life of an hour.
   */
  static ExtractionDefence.Builder scripted(NoiseKeys keys, MutableClock clock, ScriptedDetector detector) {
    return ExtractionDefence.builder(keys, 3)
        .clock(clock)
        .detector(detector, 1)
        .threshold(RiskLevel.PERTURB, 1)
        .threshold(RiskLevel.MISINFORM, 2)
        .threshold(RiskLevel.THROTTLE, 3)
        .threshold(RiskLevel.BLOCK, 3.9) // below 4 so the decay of a few seconds does not matter
        .halfLife(Duration.ofHours(1));
  }

  private ExtractionDefence defence() {
    return scripted(KEYS, clock, detector)
        .throttleInterval(Duration.ofSeconds(10))
        .tierPerturbation("free", Perturbation.classLabel())
        .listener(events::add)
        .build();
  }

  private static double[] x(double first) {
    return new double[] {first, 1, 2};
  }

  @Test
  void unflaggedClientsGetTheModelsOutputUnchanged() {
    ExtractionDefence defence = defence();
    for (int q = 0; q < 50; q++) {
      assertThat(defence.answer("alice", null, x(q), P)).containsExactly(P);
    }
    assertThat(defence.level("alice")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(defence.admit("alice").isAllowed()).isTrue();
    assertThat(events).isEmpty();
  }

  @Test
  void exactRepeatsNeverReachTheDetectors() {
    ExtractionDefence defence = defence();
    defence.observe("alice", x(1), Prediction.of(P));
    ExtractionDefence.Assessment repeat = defence.observe("alice", x(1), Prediction.of(P));
    defence.observe("bob", x(1), Prediction.of(P));
    assertThat(repeat.duplicate()).isTrue();
    assertThat(detector.seen).containsExactly(1.0, 1.0); // alice once, bob once
  }

  @Test
  void responsesGraduateFromPerturbationToMisinformationToThrottleToBlock() {
    ExtractionDefence defence = defence();
    detector.flagging.addAll(List.of(10.0, 11.0, 12.0, 13.0));

    defence.observe("mallory", x(10), Prediction.of(P));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.PERTURB);
    double[] noisy = defence.perturb("mallory", null, x(5), P);
    assertThat(noisy).isNotEqualTo(P);
    assertThat(defence.perturb("mallory", null, x(5), P)).containsExactly(noisy); // keyed: same answer twice

    defence.observe("mallory", x(11), Prediction.of(P));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    double[] misinformed = defence.perturb("mallory", null, x(5), P);
    assertThat(Perturbation.argmax(misinformed)).isNotEqualTo(1);
    assertThat(Perturbation.argmax(defence.perturb("mallory", null, x(6), P))).isNotEqualTo(1);
    assertThat(defence.perturb("mallory", null, x(5), P)).as("keyed: a repeat gets the same answer").containsExactly(misinformed);
    assertThat(defence.admit("mallory").isAllowed()).isTrue();

    defence.observe("mallory", x(12), Prediction.of(P));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.THROTTLE);
    assertThat(defence.admit("mallory").isAllowed()).isTrue();
    GuardDecision throttled = defence.admit("mallory");
    assertThat(throttled.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(throttled.retryAfter()).contains(Duration.ofSeconds(10));
    clock.advance(Duration.ofSeconds(10));
    assertThat(defence.admit("mallory").isAllowed()).isTrue();

    defence.observe("mallory", x(13), Prediction.of(P));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.BLOCK);
    assertThat(defence.admit("mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(defence.level("alice")).isEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void riskDecaysWithTheHalfLife() {
    ExtractionDefence defence = defence();
    detector.flagging.addAll(List.of(10.0, 11.0, 12.0, 13.0));
    for (double q = 10; q <= 13; q++) {
      defence.observe("mallory", x(q), Prediction.of(P));
    }
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.BLOCK);
    clock.advance(Duration.ofHours(1)); // score 4 -> 2 (MISINFORM from 2, THROTTLE from 3)
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    clock.advance(Duration.ofHours(2)); // -> 0.5
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(defence.admit("mallory").isAllowed()).isTrue();
  }

  @Test
  void detectionsArePublishedWithDetectorAndLevels() {
    ExtractionDefence defence = defence();
    detector.flagging.add(3.0);
    for (int q = 1; q <= 3; q++) {
      defence.observe("mallory", x(q), Prediction.of(P));
    }
    assertThat(events).hasSize(1);
    ExtractionEvent e = events.get(0);
    assertThat(e.client()).isEqualTo("mallory");
    assertThat(e.detector()).isEqualTo("scripted");
    assertThat(e.from()).isEqualTo(RiskLevel.OBSERVE);
    assertThat(e.to()).isEqualTo(RiskLevel.PERTURB);
    assertThat(e.query()).isEqualTo(3);
    assertThat(e.at()).isEqualTo(clock.instant());
  }

  @Test
  void aFailingListenerNeverFailsTheQuery() {
    detector.flagging.add(1.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(detector, 1)
        .listener(e -> {
          throw new IllegalStateException("boom");
        })
        .build();
    assertThat(defence.observe("mallory", x(1), Prediction.of(P)).flaggedBy()).containsExactly("scripted");
  }

  @Test
  void tierPerturbationAppliesToEveryoneOfTheTier() {
    ExtractionDefence defence = defence();
    assertThat(defence.perturb("alice", "free", x(1), P)).containsExactly(0, 1, 0);
    assertThat(defence.perturb("alice", "pro", x(1), P)).containsExactly(P);
  }

  @Test
  void totalMemoryIsBoundedByEvictingClients() {
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10).maxTotalBytes(1024 * 1024).build();
    double[] p = new double[10];
    p[3] = 1;
    for (int c = 0; c < 50; c++) {
      defence.observe("client-" + c, new double[64], Prediction.of(p));
    }
    long kept = 0;
    long bytes = 0;
    for (int c = 0; c < 50; c++) {
      long b = defence.retainedBytes("client-" + c);
      kept += b > 0 ? 1 : 0;
      bytes += b;
    }
    ExtractionDefence roomy = ExtractionDefence.builder(KEYS, 10).build();
    roomy.observe("one", new double[64], Prediction.of(p));
    long perClient = roomy.retainedBytes("one");
    assertThat(kept).isBetween(1L, 1024L * 1024 / perClient);
    assertThat(bytes).isLessThanOrEqualTo(1024 * 1024);
  }

  @Test
  void defaultDetectorSetIsPradaHashingAndCoverage() {
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10).build();
    double[] p = new double[10];
    p[3] = 1;
    defence.observe("alice", new double[64], Prediction.of(p));
    // PRADA (10 classes x 50 x 64 floats bound) + hashing (200 fingerprints) + coverage + duplicate window.
    long bytes = defence.retainedBytes("alice");
    assertThat(bytes).isGreaterThan(100_000).isLessThan(400_000);
    assertThat(defence.retainedBytes("nobody")).isZero();
  }

  /** Records every feature vector it sees; never flags. */
  private static ExtractionDetector recording(List<double[]> seen) {
    return new ExtractionDetector() {
      @Override
      public String name() {
        return "recording";
      }

      @Override
      public long maxRetainedBytes(int dimensions) {
        return 8L * dimensions;
      }

      @Override
      public State newState() {
        return new State() {
          @Override
          public boolean observe(double[] features, Prediction prediction) {
            seen.add(features.clone());
            return false;
          }

          @Override
          public long retainedBytes() {
            return 0;
          }
        };
      }
    };
  }

  private static double[] image(long seed, int dims) {
    return new java.util.Random(seed).doubles(dims, 0, 256).toArray();
  }

  @Test
  void highDimensionalInputsReachTheDetectorsProjectedToSixtyFourFeatures() {
    List<double[]> seen = new ArrayList<>();
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).detector(recording(seen), 1).build();
    defence.observe("alice", image(1, 784), Prediction.of(P));
    defence.observe("alice", image(2, 64), Prediction.of(P));
    defence.observe("alice", image(3, 65), Prediction.of(P));
    assertThat(seen).extracting(x -> x.length).containsExactly(64, 64, 64);
    assertThat(seen.get(1)).containsExactly(image(2, 64)); // at the bound: unchanged

    List<double[]> unprojected = new ArrayList<>();
    ExtractionDefence off = ExtractionDefence.builder(KEYS, 3).detector(recording(unprojected), 1).projection(0).build();
    off.observe("alice", image(1, 784), Prediction.of(P));
    assertThat(unprojected).extracting(x -> x.length).containsExactly(784);
  }

  @Test
  void aProjectedClientWeighsNoMoreThanASixtyFourFeatureOne() {
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10).build();
    double[] p = new double[10];
    p[3] = 1;
    defence.observe("pixels", image(1, 784), Prediction.of(p));
    defence.observe("digits", image(1, 64), Prediction.of(p));
    assertThat(defence.retainedBytes("pixels")).isEqualTo(defence.retainedBytes("digits"));
    ExtractionDefence off = ExtractionDefence.builder(KEYS, 10).projection(0).build();
    off.observe("pixels", image(1, 784), Prediction.of(p));
    assertThat(off.retainedBytes("pixels")).isGreaterThan(5 * defence.retainedBytes("pixels"));
  }

  @Test
  void exactRepeatsOfProjectedInputsAreStillRecognisedAndNearOnesAreNot() {
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).detector(detector, 1).build();
    double[] x = image(5, 784);
    double[] near = x.clone();
    near[700] += 1;
    assertThat(defence.observe("alice", x, Prediction.of(P)).duplicate()).isFalse();
    assertThat(defence.observe("alice", x.clone(), Prediction.of(P)).duplicate()).isTrue();
    assertThat(defence.observe("alice", near, Prediction.of(P)).duplicate()).isFalse();
  }

  @Test
  void aProjectedInputPaddedWithZerosIsNeitherARepeatNorNoisedAlike() {
    // A zero feature adds nothing to the projection: an input of more than 64 features and the
    // same input padded with zeros had one projection, so the padded one (which the model may
    // answer otherwise) passed for a repeat, never reaching the detectors, and got the same noise,
    // handing the client the exact difference of the two answers.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(detector, 1)
        .tierPerturbation("free", Perturbation.gaussianNoise(0.2))
        .build();
    double[] x = image(5, 784);
    double[] padded = Arrays.copyOf(x, 800);
    assertThat(defence.observe("alice", x, Prediction.of(P)).duplicate()).isFalse();
    assertThat(defence.observe("alice", padded, Prediction.of(P)).duplicate()).isFalse();
    assertThat(defence.observe("alice", padded.clone(), Prediction.of(P)).duplicate()).isTrue();
    assertThat(defence.perturb("alice", "free", padded, P)).isNotEqualTo(defence.perturb("alice", "free", x, P));
    assertThat(defence.perturb("alice", "free", padded.clone(), P)).isEqualTo(defence.perturb("alice", "free", padded, P));
  }

  @Test
  void nearCopiesTheProjectionMergesGetTheSameNoiseSoAveragingThemGainsNothing() {
    // Noise keyed on the raw input while repeats were recognised on its projection: one-ulp
    // copies of a 100-feature input were all "repeats" (never seen by the detectors) yet each got
    // fresh noise, and their average was the true probabilities.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(detector, 1)
        .tierPerturbation("free", Perturbation.gaussianNoise(0.2))
        .build();
    double[] x = new double[100];
    Arrays.fill(x, 0.5);
    double[] answer = defence.answer("mallory", "free", x, P);
    assertThat(answer).isNotEqualTo(P);
    int merged = 0;
    for (int i = 0; i < x.length; i++) {
      double[] copy = x.clone();
      copy[i] = Math.nextUp(copy[i]);
      if (defence.observe("mallory", copy, Prediction.of(P)).duplicate()) {
        merged++;
        assertThat(defence.perturb("mallory", "free", copy, P)).as("copy %d", i).containsExactly(answer);
      }
    }
    assertThat(merged).as("copies the projection merges").isGreaterThan(50);
  }

  @Test
  void theProjectionDependsOnTheSecret() {
    List<double[]> seen = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      byte[] secret = new byte[32];
      secret[0] = (byte) k;
      ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(secret), 3).detector(recording(seen), 1).build();
      defence.observe("alice", image(9, 784), Prediction.of(P));
    }
    assertThat(seen.get(0)).hasSize(64).isNotEqualTo(seen.get(1));
  }

  @Test
  void policiesRefuseABodyCapNoRequestCouldBeReadWith() {
    // A cap above CappedBody.MAX_CAP fails every read: every answer would be withheld.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).build();
    QueryEncoder encoder = QueryEncoder.jsonNumbers("/x");
    for (int cap : new int[] {0, CappedBody.MAX_CAP + 1, Integer.MAX_VALUE}) {
      org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
          .isThrownBy(() -> defence.observePolicy(encoder, PredictionCodec.standard(), cap))
          .withMessageContaining("maxBodyBytes");
      org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
          .isThrownBy(() -> defence.perturbPolicy(encoder, PredictionCodec.standard(), cap))
          .withMessageContaining("maxBodyBytes");
    }
  }

  @Test
  void projectionRejectsNegativeSizes() {
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> ExtractionDefence.builder(KEYS, 3).projection(-1))
        .withMessageContaining("extraction.projection");
  }

  @Test
  void noiseRadiusRejectsNegativeAndNonFiniteValues() {
    ExtractionDefence.Builder b = ExtractionDefence.builder(KEYS, 10);
    for (double bad : new double[] {-0.5, Double.NaN, Double.POSITIVE_INFINITY, Double.MAX_VALUE}) {
      org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
          .isThrownBy(() -> b.noiseRadius(bad))
          .withMessageContaining("extraction.noiseRadius");
    }
    b.noiseRadius(0).noiseRadius(2.5);
  }

  @Test
  void aQueryOfAnotherLengthThanTheClientsFirstIsRefusedWithoutTouchingItsState() {
    // It used to reach a k-NN window holding rows of another length and fail with an
    // ArrayIndexOutOfBoundsException, after it had been counted and remembered as seen.
    List<double[]> seen = new ArrayList<>();
    detector.flagging.add(4.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(KnnDetector.of(1, 4, 0.5), 1)
        .detector(recording(seen), 1)
        .detector(detector, 1)
        .listener(events::add)
        .build();
    defence.observe("c", new double[] {1, 2, 3}, Prediction.of(P));
    ExtractionDefence.Assessment shorter = defence.observe("c", new double[] {1, 2}, Prediction.of(P));
    ExtractionDefence.Assessment retried = defence.observe("c", new double[] {1, 2}, Prediction.of(P));
    defence.observe("c", new double[] {4, 5, 6}, Prediction.of(P));

    assertThat(shorter.refused()).isTrue();
    assertThat(shorter.flaggedBy()).isEmpty();
    assertThat(retried.refused()).isTrue();
    assertThat(retried.duplicate()).as("a refused query is not remembered as seen").isFalse();
    assertThat(seen).extracting(x -> x.length).containsExactly(3, 3);
    assertThat(events).singleElement().satisfies(e -> assertThat(e.query()).as("refused queries are not counted").isEqualTo(2));
  }

  @Test
  void aClientsStateNeverOutgrowsWhatItIsCharged() {
    // The charge was fixed from the first query's length while later, longer queries were stored.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(KnnDetector.of(1, 4, 0.5), 1)
        .detector(HashingDetector.of(1.0, 4, 10, 8, 20), 1)
        .build();
    defence.observe("short-first", new double[] {7}, Prediction.of(P));
    long retained = defence.retainedBytes("short-first");
    for (int q = 0; q < 10; q++) {
      defence.observe("short-first", image(q, 64), Prediction.of(P));
    }
    assertThat(defence.retainedBytes("short-first")).isEqualTo(retained);
    assertThat(defence.chargedBytes("short-first")).isGreaterThanOrEqualTo(retained);

    for (int q = 0; q < 10; q++) {
      defence.observe("long-first", image(q, 64 - q), Prediction.of(P));
    }
    assertThat(defence.retainedBytes("long-first")).isLessThanOrEqualTo(defence.chargedBytes("long-first"));
  }

  @Test
  void aFeatureNoDetectorCanMeasureIsRefusedAndReachesNoDetector() {
    // Stored as floats and squared, 1e200 became an infinity that blinded PRADA for good; sent on
    // every query in a feature the model ignores, it would hide a whole stream from PRADA and k-NN.
    List<double[]> seen = new ArrayList<>();
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).detector(recording(seen), 1).build();
    defence.observe("c", new double[] {1, 2, 3}, Prediction.of(P));
    for (double bad : new double[] {1e200, -1e39, Double.NaN, Double.NEGATIVE_INFINITY}) {
      ExtractionDefence.Assessment a = defence.observe("c", new double[] {bad, 2, 3}, Prediction.of(P));
      assertThat(a.refused()).as("%s", bad).isTrue();
      assertThat(a.duplicate()).isFalse();
    }
    assertThat(defence.observe("c", new double[] {Float.MAX_VALUE, 2, 3}, Prediction.of(P)).refused()).isFalse();
    assertThat(seen).hasSize(2);
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> defence.answer("c", null, new double[] {1e200, 2, 3}, P))
        .withMessageContaining("refused");
  }

  @Test
  void aMemoryLimitBelowOneClientIsRejectedAtBuildNotSilentlyHonouredByForgettingEveryone() {
    // With 100 KiB every client was evicted right after insertion: the defence was off, silently.
    double[] p = new double[10];
    p[1] = 1;
    ExtractionDefence roomy = ExtractionDefence.builder(KEYS, 10).build();
    roomy.observe("one", new double[64], Prediction.of(p));
    long oneClient = (roomy.retainedBytes("one") + 1023) / 1024 * 1024; // the bound at 64 features, in KiB
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> ExtractionDefence.builder(KEYS, 10).maxTotalBytes(100 * 1024).build())
        .withMessageContaining("extraction.maxTotalBytes")
        .withMessageContaining(String.valueOf(oneClient));
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> ExtractionDefence.builder(KEYS, 10).maxTotalBytes(oneClient - 1024).build());

    ExtractionDefence tight = ExtractionDefence.builder(KEYS, 10).maxTotalBytes(oneClient).build();
    double[] x = new java.util.Random(7).ints(64, 0, 17).asDoubleStream().toArray();
    for (int q = 0; q < 40; q++) {
      double[] y = x.clone();
      y[q % 64] += 0.01 * (q + 1);
      tight.observe("c", y, Prediction.of(p));
    }
    assertThat(tight.retainedBytes("c")).isPositive();
    assertThat(tight.level("c")).as("near-duplicates are flagged by hashing").isNotEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void withoutProjectionAClientTooLargeForTheMemoryLimitIsRefusedNotForgotten() {
    List<double[]> seen = new ArrayList<>();
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3)
        .detector(recording(seen), 1)
        .projection(0)
        // Room for 1,024 features, and the sixteenth of the limit that keeps evicted clients' scores.
        .maxTotalBytes((8 * 1024 + 1024 + 128 + LongKeyIndex.retainedBytes(1_024)) * 16 / 15 + 1024)
        .build();
    assertThat(defence.observe("small", image(1, 1_024), Prediction.of(P)).refused()).isFalse();
    ExtractionDefence.Assessment large = defence.observe("large", image(1, 2_048), Prediction.of(P));
    assertThat(large.refused()).isTrue();
    assertThat(defence.retainedBytes("large")).isZero();
    assertThat(defence.retainedBytes("small")).isPositive();
    assertThat(seen).hasSize(1);
  }
}
