package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.MutableClock;
import io.modelguard.extraction.ExtractionDefenceTest.ScriptedDetector;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Second adversarial review of the extraction defence. */
class ExtractionSecondReviewTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);

  private final MutableClock clock = MutableClock.standard();

  @Test
  void aHeavyBenignClientIsNeverMisinformedOrBlockedByTheDefaultCoverageMonitor() {
    // CoverageMonitor: "It fires for every heavy user too, so give it a weight that only raises
    // perturbation, never one that misinforms or blocks"; Builder.detector: the default coverage
    // monitor has "weight 1: perturb harder only". Its flags added up: a client sending 1,000
    // distinct queries a minute (17 a second, a batch-scoring customer) reached MISINFORM at its
    // second flag, THROTTLE after about 40 minutes and BLOCK after less than two hours, with no
    // other detector ever firing.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10).clock(clock).build();
    Random r = new Random(1);
    double[] p = new double[10];
    p[4] = 1; // one class only: PRADA never pools the 100 distances it needs to test
    RiskLevel highest = RiskLevel.OBSERVE;
    boolean flaggedByOthers = false;
    for (int minute = 0; minute < 180; minute++) {
      for (int q = 0; q < 1_000; q++) {
        double[] x = new double[64];
        for (int i = 0; i < 64; i++) {
          x[i] = 16 * r.nextDouble();
        }
        clock.advance(Duration.ofMillis(60));
        ExtractionDefence.Assessment a = defence.observe("batch-customer", x, Prediction.of(p));
        flaggedByOthers |= a.flaggedBy().stream().anyMatch(d -> !d.equals("coverage"));
        if (a.level().compareTo(highest) > 0) {
          highest = a.level();
        }
      }
    }
    assertThat(flaggedByOthers).as("a detector other than coverage fired").isFalse();
    assertThat(highest).as("the highest level of a client only the coverage monitor flagged").isEqualTo(RiskLevel.PERTURB);
  }

  @Test
  void oneCoverageFlagOfTheDefaultSetPerturbsBeyondTheInstantOfTheFlag() {
    // "weight 1: perturb harder only" with the PERTURB threshold at 1: the decaying score was below
    // it again as soon as the clock moved, so the PERTURB policy of the very query that flagged
    // (it reads the clock again) and every later query were answered exactly.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10).clock(clock).build();
    Random r = new Random(2);
    double[] p = new double[10];
    p[4] = 1;
    ExtractionDefence.Assessment last = null;
    for (int q = 0; q < 1_000; q++) {
      double[] x = new double[64];
      for (int i = 0; i < 64; i++) {
        x[i] = 16 * r.nextDouble();
      }
      clock.advance(Duration.ofSeconds(1));
      last = defence.observe("heavy", x, Prediction.of(p));
    }
    assertThat(last.flaggedBy()).containsExactly("coverage");
    clock.advance(Duration.ofMillis(1));
    assertThat(defence.level("heavy")).isEqualTo(RiskLevel.PERTURB);
  }

  @Test
  void aClientReplayingItsQueriesAtAHigherLevelCannotCancelTheLowerLevelsNoise() {
    // Every level drew its noise from one keyed stream (stage 0), as the tier's and the level's
    // once did. With the graduated response the class documents (observe → stronger perturbation
    // → …), PERTURB at N(0, 0.02²) and MISINFORM at N(0, 0.06²) added the same z at both: a client
    // that records its answers at PERTURB, gets flagged once more and replays the same inputs
    // (exact repeats: no detector sees them) holds N(p + 0.02z) and N(p + 0.06z), and
    // (3·a1 − a2) / 2 cancels the noise to second order.
    ScriptedDetector detector = new ScriptedDetector();
    detector.flagging.add(-1.0);
    detector.flagging.add(-2.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10)
        .clock(clock)
        .detector(detector, 1.2) // one flag: PERTURB (1); two: MISINFORM (1.5)
        .levelPerturbation(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.02))
        .levelPerturbation(RiskLevel.MISINFORM, Perturbation.gaussianNoise(0.06))
        .build();
    Random r = new Random(9);
    int n = 500;
    double[][] xs = new double[n][];
    double[][] ps = new double[n][];
    double[][] first = new double[n][];
    defence.answer("mallory", null, new double[] {-1, 0, 0}, NoiseCancellation.randomProbabilities(r));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.PERTURB);
    for (int k = 0; k < n; k++) {
      xs[k] = new double[] {k, r.nextDouble(), r.nextDouble()};
      ps[k] = NoiseCancellation.randomProbabilities(r);
      first[k] = defence.answer("mallory", null, xs[k], ps[k]);
    }
    defence.answer("mallory", null, new double[] {-2, 0, 0}, ps[0]);
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    double[][] replayed = new double[n][];
    for (int k = 0; k < n; k++) {
      replayed[k] = defence.answer("mallory", null, xs[k], ps[k]);
    }
    NoiseCancellation.assertNotCancelled(first, replayed, ps, 3, 2);
  }

  @Test
  void aSeedCallThatFailsLeavesNoInputBehindForTheThreadsNextSeed() {
    // Each seed is an HMAC on a per-thread Mac: update(domain), update(input…), doFinal(). A call
    // that threw between the first update and doFinal (a null client or features) left its bytes
    // in the thread's Mac, and every later seed on that thread was the HMAC of them plus its own
    // input: the same (client, input) got other noise on that thread than on the others, which
    // no longer makes repeats identical.
    NoiseKeys keys = NoiseKeys.withSecret(new byte[32]);
    long clientSeed = keys.clientSeed("alice");
    long querySeed = keys.querySeed("alice", new double[] {1, 2});
    assertThatThrownBy(() -> keys.clientSeed(null)).isInstanceOf(NullPointerException.class);
    assertThat(keys.clientSeed("alice")).isEqualTo(clientSeed);
    assertThatThrownBy(() -> keys.querySeed("alice", null)).isInstanceOf(NullPointerException.class);
    assertThat(keys.querySeed("alice", new double[] {1, 2})).isEqualTo(querySeed);
  }

  @Test
  void perturbationsRefuseParametersThatAnswerNaNOrTurnThemselvesOff() {
    // rounding(decimals) scales by 10^decimals, infinite from 309 decimals on: 0 · ∞ and ∞ / ∞
    // are NaN. gaussianNoise(∞) accepted an infinite scale: ∞ · z, and NaN where z is 0, then
    // ∞ / ∞. Either answered NaN probabilities (written as "NaN" strings) instead of failing at
    // configuration like every other bad parameter. highConfidence(NaN) zeroed nothing: off.
    double[] p = {0.25, 0.75};
    assertThat(Perturbation.rounding(308).apply(p, null)).containsExactly(0.25, 0.75);
    assertThatThrownBy(() -> Perturbation.rounding(309)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Perturbation.gaussianNoise(Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Perturbation.highConfidence(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }
}
