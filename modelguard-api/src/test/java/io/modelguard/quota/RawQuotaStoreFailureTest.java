package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.DigitsRequest;
import io.modelguard.FailureMode;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A quota store used without a {@link ResilientQuotaStore} that throws {@link QuotaStoreException}
 * under a fail-closed quota step is the documented {@code quota.unavailable} (503, {@code
 * Retry-After}), not {@code internal.error}; any other exception (a bug) stays {@code internal.error}.
 */
class RawQuotaStoreFailureTest {

  /** A store whose every call throws what {@code failure} makes. */
  private static QuotaStore throwing(Supplier<RuntimeException> failure) {
    return new QuotaStore() {
      @Override
      public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
        throw failure.get();
      }

      @Override
      public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
        throw failure.get();
      }
    };
  }

  private static ModelGuard guard(QuotaStore store, FailureMode mode) {
    return ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token",
                ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").build()))
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(store)
                .defaultLimits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))).build(), mode))
        .build();
  }

  @Test
  void aStoreThatIsDownUnderAFailClosedStepIs503QuotaUnavailableWithRetryAfter() {
    GuardDecision d = guard(throwing(() -> new QuotaStoreException("connection refused")), FailureMode.CLOSED)
        .check(new DigitsRequest());

    assertThat(d.reason()).contains(ReasonCode.QUOTA_UNAVAILABLE);
    assertThat(d.retryAfter()).contains(Duration.ofSeconds(1));
    ProblemResponse problem = ProblemRenderer.render(d);
    assertThat(problem.status()).isEqualTo(503);
    assertThat(problem.headers()).containsEntry("Retry-After", "1");
    assertThat(problem.bodyAsString()).contains("\"code\":\"quota.unavailable\"").doesNotContain("connection refused");
  }

  @Test
  void aKeyItsStoreCannotUseIsQuotaUnavailableToo() {
    GuardDecision d = guard(throwing(() -> new QuotaKeyStateException("key holds a list", null)), FailureMode.CLOSED)
        .check(new DigitsRequest());

    assertThat(d.reason()).contains(ReasonCode.QUOTA_UNAVAILABLE);
  }

  @Test
  void aStoreThatFailsWithABugStaysAnInternalError() {
    GuardDecision d = guard(throwing(() -> new IllegalStateException("bug")), FailureMode.CLOSED)
        .check(new DigitsRequest());

    assertThat(d.reason()).contains(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void aFailOpenStepStillLetsTheRequestThroughWhileTheStoreIsDown() {
    GuardDecision d = guard(throwing(() -> new QuotaStoreException("connection refused")), FailureMode.OPEN)
        .check(new DigitsRequest());

    assertThat(d.isAllowed()).isTrue();
  }
}
