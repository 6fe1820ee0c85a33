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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A cost function prices the client's request (its batch size, say) before the input policy has
 * checked it, so a client decides whether it fails: each failure was an ERROR line, and one client
 * wrote as many as it sent requests. Now one of each kind a minute is at ERROR, saying how many went
 * to DEBUG since, and the rest at DEBUG: a client repeating its malformed body cannot flood the log,
 * nor spend the one ERROR a later fault of the same exception class needs. Every denial keeps its
 * answer. Time is the engine's clock, which the test moves.
 */
class QuotaCostLogTest {

  private final MutableClock clock = MutableClock.standard();

  /** A guard whose quota charges the body's {@code batch} number, read as a client wrote it. */
  private ModelGuard guard() {
    QuotaPolicy.RequestCost batch = ctx -> {
      byte[] body;
      try {
        body = ctx.request().body(64);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      String text = new String(body, StandardCharsets.UTF_8);
      return Long.parseLong(text.substring(text.indexOf(':') + 1, text.indexOf('}')).strip());
    };
    return ModelGuard.builder().clock(clock).auditLog(false).models("digits")
        .tier(Tier.builder("free").models("digits")
            .limits(QuotaLimit.tokenBucket("burst", 1_000, Duration.ofMinutes(1))).build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token",
                ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").tier("free").build()))
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(InMemoryQuotaStore.builder().build()).cost(batch).build()))
        .build();
  }

  @Test
  void aCostFunctionAClientMakesThrowIsLoggedAtErrorOnceAMinutePerExceptionClass() {
    ModelGuard guard = guard();
    int requests = 20;
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.DEBUG)) {
      for (int i = 0; i < requests; i++) {
        GuardDecision d = guard.check(new DigitsRequest("{\"batch\":\"x" + i + "\"}"));
        assertThat(d.reason()).as("request %d", i).contains(ReasonCode.INTERNAL_ERROR);
      }

      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("threw java.lang.NumberFormatException", "subject 'u'", "model 'digits'",
              "at most once a minute per kind of failure; 0 more since the last");
      assertThat(log.messagesAt(Level.DEBUG)).hasSize(requests - 1)
          .allSatisfy(line -> assertThat(line).contains("NumberFormatException").doesNotContain("once a minute"));

      guard.check(new DigitsRequest("}\"batch\":1"));
      assertThat(log.messagesAt(Level.ERROR)).as("another class of failure is told too").hasSize(2)
          .last().asString().contains("StringIndexOutOfBoundsException");

      clock.advance(LogPace.INTERVAL.minusMillis(1));
      guard.check(new DigitsRequest("{\"batch\":\"y\"}"));
      assertThat(log.messagesAt(Level.ERROR)).as("within the minute").hasSize(2);
      clock.advance(Duration.ofMillis(1));
      guard.check(new DigitsRequest("{\"batch\":\"z\"}"));
      assertThat(log.messagesAt(Level.ERROR)).as("a minute on, the class is told again").hasSize(3)
          .last().asString().contains("NumberFormatException", requests + " more since the last");
    }
  }

  @Test
  void aCostBelowOneUnitIsLoggedAtErrorOnceAMinute() {
    ModelGuard guard = guard();
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.INFO)) {
      for (long batch : new long[] {0, -1, 0, Long.MIN_VALUE}) {
        assertThat(guard.check(new DigitsRequest("{\"batch\":" + batch + "}")).reason())
            .contains(ReasonCode.INTERNAL_ERROR);
      }
      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("returned 0", "costs are at least 1", "0 more since the last");
      clock.advance(LogPace.INTERVAL);
      guard.check(new DigitsRequest("{\"batch\":0}"));
      assertThat(log.messagesAt(Level.ERROR)).hasSize(2).last().asString().contains("3 more since the last");

      assertThat(guard.check(new DigitsRequest("{\"batch\":3}")).isAllowed()).as("a priced request").isTrue();
    }
  }
}
