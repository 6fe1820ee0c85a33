package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.DigitsRequest;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A cost function prices the client's request (its batch size, say) before the input policy has
 * checked it, so a client decides whether it fails: each failure was an ERROR line, and one client
 * wrote as many as it sent requests. Now the first of each kind is at ERROR and the rest at DEBUG;
 * every denial keeps its answer.
 */
class QuotaCostLogTest {

  /** A guard whose quota charges the body's {@code batch} number, read as a client wrote it. */
  private static ModelGuard guard() {
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
    return ModelGuard.builder().auditLog(false).models("digits")
        .tier(Tier.builder("free").models("digits")
            .limits(QuotaLimit.tokenBucket("burst", 1_000, Duration.ofMinutes(1))).build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token",
                ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").tier("free").build()))
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(InMemoryQuotaStore.builder().build()).cost(batch).build()))
        .build();
  }

  @Test
  void aCostFunctionAClientMakesThrowIsLoggedAtErrorOncePerExceptionClass() {
    ModelGuard guard = guard();
    int requests = 20;
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.DEBUG)) {
      for (int i = 0; i < requests; i++) {
        GuardDecision d = guard.check(new DigitsRequest("{\"batch\":\"x" + i + "\"}"));
        assertThat(d.reason()).as("request %d", i).contains(ReasonCode.INTERNAL_ERROR);
      }

      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("threw java.lang.NumberFormatException", "subject 'u'", "model 'digits'", "once per kind");
      assertThat(log.messagesAt(Level.DEBUG)).hasSize(requests - 1)
          .allSatisfy(line -> assertThat(line).contains("NumberFormatException").doesNotContain("once per kind"));

      guard.check(new DigitsRequest("}\"batch\":1"));
      assertThat(log.messagesAt(Level.ERROR)).as("another class of failure is told once too").hasSize(2)
          .last().asString().contains("StringIndexOutOfBoundsException");
    }
  }

  @Test
  void aCostBelowOneUnitIsLoggedAtErrorOnce() {
    ModelGuard guard = guard();
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.INFO)) {
      for (long batch : new long[] {0, -1, 0, Long.MIN_VALUE}) {
        assertThat(guard.check(new DigitsRequest("{\"batch\":" + batch + "}")).reason())
            .contains(ReasonCode.INTERNAL_ERROR);
      }
      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("returned 0", "costs are at least 1");

      assertThat(guard.check(new DigitsRequest("{\"batch\":3}")).isAllowed()).as("a priced request").isTrue();
    }
  }
}
