package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.examples.metrics.DemoMetrics;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppOptionsTest {

  @Test
  void defaultsToLoopbackPort8080WithDemoKeys() throws Exception {
    AppOptions o = AppOptions.parse(new String[0], Map.of());

    assertThat(o.host()).isEqualTo("127.0.0.1");
    assertThat(o.port()).isEqualTo(8080);
    assertThat(o.configFile()).isEmpty();
    assertThat(o.pepperFile()).isEmpty();
    assertThat(o.help()).isFalse();
  }

  @Test
  void readsEveryFlagInBothForms() throws Exception {
    AppOptions o = AppOptions.parse(
        new String[] {"--port", "0", "--host=localhost", "--config", "c.json", "--pepper-file=p.txt"}, Map.of());

    assertThat(o.port()).isZero();
    assertThat(o.host()).isEqualTo("localhost");
    assertThat(o.configFile()).contains(Path.of("c.json"));
    assertThat(o.pepperFile()).contains(Path.of("p.txt"));
  }

  @Test
  void auditLinesGoToTheLoggerByDefaultToAFileOrNowhere() throws Exception {
    AppOptions defaults = AppOptions.parse(new String[0], Map.of());
    AppOptions file = AppOptions.parse(new String[] {"--audit-log", "audit.jsonl"}, Map.of());
    AppOptions off = AppOptions.parse(new String[] {"--audit-log=audit.jsonl", "--no-audit-log"}, Map.of());

    assertThat(defaults.auditLog()).isTrue();
    assertThat(defaults.auditLogFile()).isEmpty();
    assertThat(file.auditLog()).isTrue();
    assertThat(file.auditLogFile()).contains(java.nio.file.Path.of("audit.jsonl"));
    assertThat(off.auditLog()).isFalse();
    assertThat(off.auditLogFile()).isEmpty();
    assertThat(off.toString()).contains("auditLog=off").contains("guard=true");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--no-audit-log=yes"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--no-audit-log takes no value");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--audit-log"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--audit-log needs a value (see --help)");
  }

  @Test
  void ssrfRefusalsAreCountedOnlyWhenAskedFor() throws Exception {
    AppOptions defaults = AppOptions.parse(new String[] {"--no-audit-log"}, Map.of());
    AppOptions counting = AppOptions.parse(new String[] {"--no-audit-log", "--metrics-ssrf-refusals"}, Map.of());

    assertThat(defaults.ssrfRefusalMeter()).isFalse();
    assertThat(counting.ssrfRefusalMeter()).isTrue();
    assertThat(counting.withAuditLog(true).withGuard(false).ssrfRefusalMeter()).isTrue();
    assertThat(counting.toString()).contains("ssrfRefusalMeter=true");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--metrics-ssrf-refusals=yes"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--metrics-ssrf-refusals takes no value");
    // GET /metrics is unguarded on the API's port: by default it must not tell a client that the
    // name its 502 answered as unresolvable exists internally.
    assertThat(ssrfRefusalSeries(defaults)).isZero();
    assertThat(ssrfRefusalSeries(counting)).isEqualTo(1);
  }

  /** The SSRF refusal series the demo's meters have once its listener has seen one such denial. */
  private static int ssrfRefusalSeries(AppOptions options) throws StartupException {
    try (InProcessGuard guard = InProcessGuard.create(options)) {
      guard.metrics().listener().onEvent(new DecisionEvent(Instant.EPOCH, "POST",
          "/v1/models/image-classifier/predict", "default", "image-classifier", "demo-free", "demo-free", false,
          ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input", "ssrf_refused:DENIED_ADDRESS"));
      return guard.metrics().registry().find(DemoMetrics.SSRF_REFUSALS).counters().size();
    }
  }

  @Test
  void collectsRepeatedFetchHostsInOrder() throws Exception {
    AppOptions o = AppOptions.parse(new String[] {
        "--allow-fetch-host", "Images.Example.com", "--allow-fetch-host=127.0.0.1:8089", "--allow-fetch-host", "*.cdn.example.net:8443"},
        Map.of());

    assertThat(o.allowFetchHosts()).extracting(Object::toString)
        .containsExactly("images.example.com", "127.0.0.1:8089", "*.cdn.example.net:8443");
    assertThat(o.allowFetchHosts()).extracting(FetchAllowList.Entry::internal).containsExactly(false, true, false);
    assertThat(AppOptions.parse(new String[0], Map.of()).allowFetchHosts()).isEmpty();
  }

  @Test
  void rejectsBadFetchHostsNamingTheFlag() {
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--allow-fetch-host", "127.0.0.1"}, Map.of()))
        .isInstanceOf(StartupException.class)
        .hasMessage("--allow-fetch-host: '127.0.0.1' is an internal address: it is allowed only with an explicit "
            + "port, such as 127.0.0.1:8081");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--allow-fetch-host"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--allow-fetch-host needs a value (see --help)");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--allow-fetch-host", "images.example.com:0"}, Map.of()))
        .isInstanceOf(StartupException.class)
        .hasMessage("--allow-fetch-host: 'images.example.com:0': the port must be a number from 1 to 65535");
  }

  @Test
  void takesThePepperFromTheEnvironmentButNeverPrintsIt() throws Exception {
    AppOptions o = AppOptions.parse(new String[0], Map.of(AppOptions.PEPPER_ENV, "c2VjcmV0LXBlcHBlcg=="));

    assertThat(o.pepperFromEnv()).contains("c2VjcmV0LXBlcHBlcg==");
    assertThat(o.toString()).doesNotContain("c2VjcmV0LXBlcHBlcg==");
  }

  @Test
  void takesTheExtractionSecretFromTheEnvironmentOrAFileButNeverPrintsIt() throws Exception {
    AppOptions o = AppOptions.parse(new String[0], Map.of(AppOptions.EXTRACTION_SECRET_ENV, "c2VjcmV0LXBlcHBlcg=="));
    assertThat(o.extractionSecretFromEnv()).contains("c2VjcmV0LXBlcHBlcg==");
    assertThat(o.toString()).doesNotContain("c2VjcmV0LXBlcHBlcg==");

    AppOptions f = AppOptions.parse(new String[] {"--extraction-secret-file", "secret.txt"}, Map.of());
    assertThat(f.extractionSecretFile()).contains(java.nio.file.Path.of("secret.txt"));
  }

  @Test
  void helpIsAFlag() throws Exception {
    assertThat(AppOptions.parse(new String[] {"--help"}, Map.of()).help()).isTrue();
  }

  @Test
  void rejectsBadFlagsNamingThem() {
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--prot", "1"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("unknown option '--prot' (see --help)");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--port", "http"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessageStartingWith("--port must be a number from 0 to 65535");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--port", "70000"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessageStartingWith("--port must be");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--config"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--config needs a value (see --help)");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--port", "--host", "x"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--port needs a value (see --help)");
  }

  @Test
  void readsTheJwtFlagsInBothForms() throws Exception {
    AppOptions o = AppOptions.parse(new String[] {"--jwks-url", "https://idp.example/jwks", "--jwt-issuer=https://idp.example/",
        "--jwt-audience", "models", "--jwt-tier-claim=plan", "--jwt-tenant-claim", "org_id", "--jwt-default-tier", "free",
        "--demo-issuer"}, Map.of());

    JwtSettings jwt = o.jwt();
    assertThat(jwt.jwksUrl()).hasValueSatisfying(u -> assertThat(u).hasToString("https://idp.example/jwks"));
    assertThat(jwt.issuer()).contains("https://idp.example/");
    assertThat(jwt.audience()).contains("models");
    assertThat(jwt.tierClaim()).contains("plan");
    assertThat(jwt.tenantClaim()).contains("org_id");
    assertThat(jwt.defaultTier()).contains("free");
    assertThat(jwt.demoIssuer()).isTrue();
    assertThat(jwt.source(JwtSettings.Field.TIER_CLAIM)).contains("--jwt-tier-claim");
    assertThat(AppOptions.parse(new String[] {"--jwt-public-key", "idp.pem"}, Map.of()).jwt().publicKeyFile())
        .contains(Path.of("idp.pem"));
  }

  @Test
  void theDemoIssuerIsOnUnlessAnExternalIdpIsSetOrItIsTurnedOff() throws Exception {
    assertThat(AppOptions.parse(new String[0], Map.of()).jwt().demoIssuer()).isTrue();
    assertThat(AppOptions.parse(new String[] {"--no-demo-issuer"}, Map.of()).jwt().demoIssuer()).isFalse();
    assertThat(AppOptions.parse(new String[] {"--jwks-url", "https://idp.example/jwks"}, Map.of()).jwt().demoIssuer())
        .isFalse();
    assertThat(AppOptions.parse(new String[] {"--jwks-url", "https://idp.example/jwks", "--demo-issuer"}, Map.of())
        .jwt().demoIssuer()).isTrue();
    assertThat(AppOptions.parse(new String[] {"--demo-issuer", "--no-demo-issuer"}, Map.of()).jwt().demoIssuer())
        .as("the last flag wins").isFalse();
  }

  @Test
  void flagsOverrideTheConfigFilesJwtFieldsOneByOne() throws Exception {
    JwtSettings file = JwtSettings.none()
        .with(JwtSettings.Field.JWKS_URL, "https://idp.example/jwks", "config c.json: jwt.jwksUrl")
        .with(JwtSettings.Field.AUDIENCE, "old", "config c.json: jwt.audience")
        .withDemoIssuer(true, "config c.json: jwt.demoIssuer");
    JwtSettings flags = AppOptions.parse(new String[] {"--jwt-audience", "new", "--no-demo-issuer"}, Map.of()).jwt();

    JwtSettings merged = flags.over(file);

    assertThat(merged.audience()).contains("new");
    assertThat(merged.source(JwtSettings.Field.AUDIENCE)).contains("--jwt-audience");
    assertThat(merged.jwksUrl()).isPresent();
    assertThat(merged.source(JwtSettings.Field.JWKS_URL)).contains("config c.json: jwt.jwksUrl");
    assertThat(merged.demoIssuer()).isFalse();
  }

  @Test
  void rejectsBadJwtFlagsNamingThem() {
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--jwks-url", "ftp://idp.example/jwks"}, Map.of()))
        .isInstanceOf(StartupException.class)
        .hasMessage("--jwks-url: must be an absolute https URL, such as https://idp.example/jwks");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--jwks-url", "https://user:pw@idp.example/jwks"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--jwks-url: must not contain user information");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--jwt-audience"}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--jwt-audience needs a value (see --help)");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--jwt-issuer", ""}, Map.of()))
        .isInstanceOf(StartupException.class).hasMessage("--jwt-issuer: must not be blank");
    // Plain http is fine to a loopback IdP (a local Keycloak, a test double).
    assertThat(JwtSettings.isLoopbackLiteral("127.0.0.1")).isTrue();
    assertThat(JwtSettings.isLoopbackLiteral("[::1]")).isTrue();
    assertThat(JwtSettings.isLoopbackLiteral("127.0.0.1.nip.io")).isFalse();
  }
}
