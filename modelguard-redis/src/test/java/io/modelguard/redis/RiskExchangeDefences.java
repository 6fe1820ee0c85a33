package io.modelguard.redis;

import io.modelguard.extraction.ClientScope;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.ExtractionDetector;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.RiskExchange;
import io.modelguard.extraction.RiskLevel;
import java.time.Clock;

/** The extraction defences the risk exchange tests share raises between. */
final class RiskExchangeDefences {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]).derive("digits");

  private RiskExchangeDefences() {}

  /**
   * A defence on {@code clock} whose one detector flags every query whose first feature is 10 or
   * more, each flag adding 1; levels at 1, 2, 3 and 3.9; shared under {@code digits} on {@code
   * exchange}.
   */
  static ExtractionDefence defence(RiskExchange exchange, Clock clock) {
    return defence(exchange, clock, ClientScope.PRINCIPAL);
  }

  /** {@link #defence(RiskExchange, Clock)} keying clients in {@code scope}. */
  static ExtractionDefence defence(RiskExchange exchange, Clock clock, ClientScope scope) {
    return ExtractionDefence.builder(KEYS, 3)
        .clientScope(scope)
        .clock(clock)
        .detector(new FirstFeatureDetector(), 1)
        .threshold(RiskLevel.PERTURB, 1)
        .threshold(RiskLevel.MISINFORM, 2)
        .threshold(RiskLevel.THROTTLE, 3)
        .threshold(RiskLevel.BLOCK, 3.9)
        .exchange(exchange, "digits")
        .build();
  }

  /** Flags every query whose first feature is 10 or more. */
  private static final class FirstFeatureDetector implements ExtractionDetector {
    @Override
    public String name() {
      return "first-feature";
    }

    @Override
    public State newState() {
      return new State() {
        @Override
        public boolean observe(double[] features, Prediction prediction) {
          return features[0] >= 10;
        }

        @Override
        public long retainedBytes() {
          return 16;
        }
      };
    }

    @Override
    public long maxRetainedBytes(int dimensions) {
      return 16;
    }
  }
}
