package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a refused token leaves in the operator's DEBUG log. The parser's text quotes the token's
 * header and claims, which the client wrote: it must not be able to start a forged log line or
 * fill the log with one request.
 */
class JwtRefusalLogTest {
  private final MutableClock clock = MutableClock.standard();
  private final Instant now = clock.instant();
  private final ModelGuard guard = JwtFixtures.guard(JwtFixtures.rsa().build(), clock);
  private LogCapture log;

  @BeforeEach
  void capture() {
    log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG);
  }

  @AfterEach
  void release() {
    log.close();
  }

  @Test
  void headerTextQuotedByTheParserCannotForgeALogLine() {
    String forged = "b64\r\n2026-11-26 INFO  io.modelguard.ModelGuard - access granted to admin";
    Tokens.Json header = Tokens.header("RS256", "k1").with("crit", List.of(forged)).with(forged, "x".repeat(3000));

    GuardDecision d = JwtFixtures.check(guard, Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, Tokens.claims(now)));

    assertThat(d.isAllowed()).isFalse();
    List<String> lines = log.messages();
    assertThat(lines).as("the refusal is logged").anySatisfy(l -> assertThat(l).startsWith("JWT refused"));
    assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain("\r", "\n").hasSizeLessThanOrEqualTo(600));
  }
}
