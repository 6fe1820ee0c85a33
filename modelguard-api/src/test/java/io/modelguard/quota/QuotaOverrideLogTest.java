package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.DigitsRequest;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.internal.LogPace;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A credential whose quota override claim is not valid carries it into every request it makes, and
 * each was an ERROR line: a busy client with a badly issued token wrote one per request. Now one
 * request a minute of each tenant and subject is at ERROR, naming the credential, and the rest at
 * DEBUG; every request is still refused.
 */
class QuotaOverrideLogTest {

  @Test
  void aBadOverrideClaimIsLoggedAtErrorOnceAMinutePerTenantAndSubject() {
    AtomicReference<Principal> principal = new AtomicReference<>(principal("alice", "acme"));
    MutableClock clock = MutableClock.standard();
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits")
        .tier(Tier.builder("free").models("digits")
            .limits(QuotaLimit.tokenBucket("burst", 2, Duration.ofMinutes(1))).build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token", ctx -> GuardDecision.authenticated(principal.get()))
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(InMemoryQuotaStore.builder().build()).build()))
        .build();
    int requests = 20;
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.DEBUG)) {
      for (int i = 0; i < requests; i++) {
        assertThat(guard.check(new DigitsRequest()).reason()).as("request %d", i).contains(ReasonCode.INTERNAL_ERROR);
      }

      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString().contains(
          "the override claim 'mg_quota' of subject 'alice' of tenant 'acme' is not a valid override",
          "model 'digits'", "request denied (logged at this level at most once a minute per tenant and subject; "
              + "0 more since the last");
      assertThat(log.messagesAt(Level.DEBUG)).hasSize(requests - 1)
          .allSatisfy(line -> assertThat(line).contains("subject 'alice'").doesNotContain("once a minute"));

      principal.set(principal("bob", "acme"));
      guard.check(new DigitsRequest());
      principal.set(principal("alice", "globex"));
      guard.check(new DigitsRequest());
      assertThat(log.messagesAt(Level.ERROR)).as("each other credential is named too").hasSize(3)
          .satisfies(lines -> assertThat(lines.get(1)).contains("subject 'bob' of tenant 'acme'"))
          .satisfies(lines -> assertThat(lines.get(2)).contains("subject 'alice' of tenant 'globex'"));

      principal.set(principal("alice", "acme"));
      clock.advance(LogPace.INTERVAL);
      guard.check(new DigitsRequest());
      assertThat(log.messagesAt(Level.ERROR)).as("a minute on, the credential is named again").hasSize(4)
          .last().asString().contains("subject 'alice' of tenant 'acme'", (requests - 1) + " more since the last");
    }
  }

  /** A principal of the free tier whose override would raise its burst, which only overridesMayRaiseLimits() allows. */
  private static Principal principal(String subject, String tenant) {
    return Principal.builder(subject).tenant(tenant).tier("free")
        .claim(QuotaPolicy.DEFAULT_OVERRIDE_CLAIM, "\"burst\";q=1000;w=60").build();
  }
}
