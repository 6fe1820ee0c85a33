package io.modelguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.modelguard.CredentialKind;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.event.Slf4jAuditListener;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.test.FakeRequest;
import io.modelguard.test.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Checks that every {@link EngineBenchmark} method, run once on the very states JMH builds, takes
 * the path its name claims, so a broken fixture cannot quietly benchmark something else (a denial
 * instead of an allow, the cheap malformed-key exit instead of hashing). Times nothing.
 */
class EngineBenchmarkFixturesTest {
  private final EngineBenchmark benchmark = new EngineBenchmark();

  @Test
  void emptyChainHasNoPoliciesAndAllows() {
    EngineBenchmark.EmptyChain state = new EngineBenchmark.EmptyChain();

    GuardDecision decision = benchmark.emptyChain(state);

    assertThat(state.guard.chain(ModelGuard.DEFAULT_CHAIN).requestSteps()).isEmpty();
    assertThat(decision.isAllowed()).isTrue();
    assertThat(decision.principal()).isEmpty();
  }

  @Test
  void apiKeyChainAuthenticatesThenChecksTheTier() {
    PolicyChain chain = new EngineBenchmark.ApiKeyChain().guard.chain(ModelGuard.DEFAULT_CHAIN);

    assertThat(chain.requestSteps())
        .extracting(PolicyChain.Step::phase, PolicyChain.Step::name)
        .containsExactly(
            tuple(Phase.AUTHENTICATE, "api-key"),
            tuple(Phase.AUTHORIZE, "model-access"));
  }

  @Test
  void validKeyIsAllowedAsTheStoredClientThroughItsTier() {
    GuardDecision decision = benchmark.apiKeyAndTier(new EngineBenchmark.ApiKeyChain());

    assertAllowedAsBenchClient(decision);
  }

  @Test
  void validKeyIsAllowedWithTheAuditLogOn() {
    GuardDecision decision = benchmark.apiKeyAndTierAuditLogAtInfo(new EngineBenchmark.ApiKeyChainWithAuditLog());

    assertAllowedAsBenchClient(decision);
  }

  @Test
  void wrongSecretIsAWellFormedKeyForTheStoredIdAndIsDeniedAsInvalidApiKey() {
    EngineBenchmark.ApiKeyChain state = new EngineBenchmark.ApiKeyChain();

    GuardDecision decision = benchmark.apiKeyWrongSecret(state);

    // Well-formed with the stored key id: the authenticator hashes and looks it up before refusing.
    String validKey = keyOf(state.validKeyRequest);
    String wrongSecretKey = keyOf(state.wrongSecretRequest);
    assertThat(wrongSecretKey).isNotEqualTo(validKey);
    assertThat(ApiKeyFormat.parse(wrongSecretKey)).map(ApiKeyFormat.Parsed::keyId)
        .isEqualTo(ApiKeyFormat.parse(validKey).map(ApiKeyFormat.Parsed::keyId))
        .isPresent();
    assertDeniedAsInvalidApiKey(decision);
  }

  @Test
  void badChecksumKeyIsMalformedAndIsDeniedAsInvalidApiKey() {
    EngineBenchmark.ApiKeyChain state = new EngineBenchmark.ApiKeyChain();

    GuardDecision decision = benchmark.apiKeyBadChecksum(state);

    String validKey = keyOf(state.validKeyRequest);
    String badChecksumKey = keyOf(state.badChecksumRequest);
    // Same length and alphabet as a real key, so only the checksum comparison refuses it.
    assertThat(badChecksumKey).hasSameSizeAs(validKey).startsWith(ApiKeyFormat.PREFIX + "live_")
        .isNotEqualTo(validKey);
    assertThat(ApiKeyFormat.parse(badChecksumKey)).isEmpty();
    assertDeniedAsInvalidApiKey(decision);
  }

  @Test
  void auditLoggerIsALogbackLoggerAtInfoSoAllowedDecisionsAreNotWritten() {
    assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(LoggerContext.class);
    org.slf4j.Logger audit = LoggerFactory.getLogger(Slf4jAuditListener.LOGGER_NAME);

    assertThat(audit.isInfoEnabled()).isTrue();
    assertThat(audit.isDebugEnabled()).isFalse();
  }

  @Test
  void onlyTheAuditLogStateHasTheAuditListener() {
    // A denial is audited at INFO, so it shows whether the listener is registered at all.
    try (LogCapture lines = LogCapture.of(Slf4jAuditListener.LOGGER_NAME, Level.INFO)) {
      EngineBenchmark.ApiKeyChain off = new EngineBenchmark.ApiKeyChain();
      off.guard.check(off.wrongSecretRequest);
      assertThat(lines.messages()).isEmpty();

      EngineBenchmark.ApiKeyChain on = new EngineBenchmark.ApiKeyChainWithAuditLog();
      on.guard.check(on.wrongSecretRequest);
      assertThat(lines.messages()).singleElement().asString()
          .contains("decision=deny", ReasonCode.AUTH_INVALID_API_KEY.code());
    }
  }

  private static String keyOf(FakeRequest request) {
    assertThat(request.headers(ApiKeyAuthenticator.DEFAULT_HEADER)).hasSize(1);
    return request.headers(ApiKeyAuthenticator.DEFAULT_HEADER).get(0);
  }

  private static void assertAllowedAsBenchClient(GuardDecision decision) {
    assertThat(decision.isAllowed()).isTrue();
    assertThat(decision.principal()).hasValueSatisfying(p -> {
      assertThat(p.subject()).isEqualTo(EngineBenchmark.SUBJECT);
      assertThat(p.tier()).contains(EngineBenchmark.TIER);
      assertThat(p.credentialKind()).isEqualTo(CredentialKind.API_KEY);
    });
  }

  private static void assertDeniedAsInvalidApiKey(GuardDecision decision) {
    assertThat(decision.isAllowed()).isFalse();
    assertThat(decision.reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(ProblemRenderer.status(ReasonCode.AUTH_INVALID_API_KEY)).isEqualTo(401);
    assertThat(decision.principal()).isEmpty();
  }
}
