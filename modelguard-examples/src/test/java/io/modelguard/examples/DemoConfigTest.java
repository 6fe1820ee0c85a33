package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.examples.model.ModelCatalog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** Strict parsing of the configuration file: every mistake is one line naming the field. */
class DemoConfigTest {
  private static final String KEY = "mg_test_DEMOconfig01ThisIsAPublicDemoKeyNotASecret004HBPyr";

  private static DemoConfig parse(String json) throws StartupException {
    return DemoConfig.parse(json.getBytes(StandardCharsets.UTF_8), "config test.json", ModelCatalog.MODEL_IDS);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String json) {
    return assertThatThrownBy(() -> parse(json))
        .isInstanceOf(StartupException.class)
        .hasMessageStartingWith("config test.json: ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("com.fasterxml"));
  }

  @Test
  void readsTheSampleConfigShippedWithTheModule() throws Exception {
    DemoConfig config = DemoConfig.read(Path.of("demo-config.json"), ModelCatalog.MODEL_IDS);

    assertThat(config.tiers()).containsOnlyKeys("free", "pro", "botanist");
    assertThat(config.tiers().get("botanist")).containsExactly("iris");
    assertThat(config.keys()).hasSize(5);
    assertThat(config.keys().get(1).expiresAt()).contains(Instant.parse("2030-01-01T00:00:00Z"));
    assertThat(config.keys().get(3).revoked()).isTrue();
    assertThat(config.keys().get(4).key()).contains(KEY);
    assertThat(config.demoKeys()).isFalse();
    assertThat(config.tiers().get("pro")).containsExactly("digits", "iris", "image-classifier", "sentiment");
    assertThat(config.tiers().get("free")).containsExactly("digits", "sentiment");
    assertThat(config.allowFetchHosts()).extracting(Object::toString)
        .containsExactly("images.example.com", "127.0.0.1:8089");
    assertThat(config.allowFetchHosts().get(1).internal()).isTrue();
  }

  @Test
  void omittedFetchHostsMeanNoAllowList() throws Exception {
    assertThat(parse("{}").allowFetchHosts()).isEmpty();
    assertThat(DemoConfig.demo().allowFetchHosts()).isEmpty();
  }

  @Test
  void rejectsBadFetchHostsNamingTheEntry() {
    assertRejected("{\"allowFetchHosts\":[\"images.example.com\",\"127.0.0.1\"]}")
        .hasMessage("config test.json: allowFetchHosts[1]: '127.0.0.1' is an internal address: it is allowed only "
            + "with an explicit port, such as 127.0.0.1:8081");
    assertRejected("{\"allowFetchHosts\":[\"localhost:8080\"]}")
        .hasMessageContaining("allowFetchHosts[0]: 'localhost:8080' is always refused");
    assertRejected("{\"allowFetchHosts\":[\"http://images.example.com/\"]}")
        .hasMessageContaining("allowFetchHosts[0]: 'http://images.example.com/': ");
    assertRejected("{\"allowFetchHosts\":[null]}").hasMessageContaining("allowFetchHosts[0]: must be a string");
    assertRejected("{\"allowFetchHosts\":\"images.example.com\"}")
        .hasMessageContaining("allowFetchHosts: wrong type, expected an array");
    assertRejected("{\"allowFetchHosts\":[42]}").hasMessageContaining("allowFetchHosts[0]: wrong type, expected a string");
  }

  @Test
  void omittedTiersMeanTheDemoTiers() throws Exception {
    DemoConfig config = parse("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"pro\"}]}");

    assertThat(config.tiers()).isEqualTo(DemoConfig.demoTiers());
    assertThat(config.keys().get(0).key()).isEmpty();
    assertThat(config.keys().get(0).expiresAt()).isEmpty();
  }

  @Test
  void acceptsAnOffsetInExpiresAt() throws Exception {
    DemoConfig config = parse("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\","
        + "\"expiresAt\":\"2030-01-01T02:00:00+02:00\"}]}");

    assertThat(config.keys().get(0).expiresAt()).contains(Instant.parse("2030-01-01T00:00:00Z"));
  }

  @Test
  void rejectsUnknownFieldsNamingThem() {
    assertRejected("{\"tiers\":{},\"colour\":1}").hasMessageContaining("colour: unknown field")
        .hasMessageContaining("allowed: ");
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\",\"role\":\"admin\"}]}")
        .hasMessageContaining("keys[0].role: unknown field");
  }

  @Test
  void rejectsAnEmptyTiersObjectInsteadOfStartingWithNothingToGrant() {
    // It used to pass, and start-up then failed with a stack trace where the demo issuer picked a tier.
    assertRejected("{\"tiers\":{}}").hasMessageContaining("tiers: at least one tier is needed");
    assertRejected("{\"tiers\":{},\"jwt\":{\"demoIssuer\":false}}").hasMessageContaining("tiers: at least one tier is needed");
  }

  @Test
  void rejectsWrongTypesWithoutCoercion() {
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\",\"revoked\":\"true\"}]}")
        .hasMessageContaining("keys[0].revoked: wrong type, expected true or false");
    assertRejected("{\"keys\":[{\"subject\":42,\"tenant\":\"t\",\"tier\":\"free\"}]}")
        .hasMessageContaining("keys[0].subject: wrong type, expected a string");
    assertRejected("{\"tiers\":{\"free\":\"digits\"}}").hasMessageContaining("tiers.free: wrong type, expected an array");
    assertRejected("{\"keys\":{}}").hasMessageContaining("keys: wrong type, expected an array");
    assertRejected("[]").hasMessageContaining("the top level must be a JSON object");
  }

  @Test
  void rejectsInvalidJson() {
    assertRejected("").hasMessageContaining("empty");
    assertRejected("{\"tiers\":").hasMessageContaining("not valid JSON");
    assertRejected("{} {}").hasMessageContaining("unexpected content after");
    assertRejected("{\"tiers\":{},\"tiers\":{}}").hasMessageContaining("appears twice");
  }

  @Test
  void rejectsUnknownTiersAndModels() {
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"gold\"}]}")
        .hasMessageContaining("keys[0].tier: unknown tier 'gold' (known: enterprise, free, pro)");
    assertRejected("{\"tiers\":{\"free\":[\"digits\",\"resnet\"]}}")
        .hasMessageContaining("tiers.free[1]: unknown model 'resnet' (known: digits, image-classifier, iris, sentiment)");
    assertRejected("{\"tiers\":{\"no spaces\":[]}}").hasMessageContaining("tiers: 'no spaces' is not a valid tier name");
  }

  @Test
  void rejectsMalformedKeysWithoutRepeatingThem() {
    String typo = KEY.substring(0, KEY.length() - 1) + "x";

    assertRejected("{\"keys\":[{\"key\":\"" + typo + "\",\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\"}]}")
        .hasMessageContaining("keys[0].key: not a well-formed ModelGuard API key")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(typo).doesNotContain(typo.substring(20, 52)));
  }

  @Test
  void rejectsTheSameKeyTwice() {
    String entry = "{\"key\":\"" + KEY + "\",\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\"}";

    assertRejected("{\"keys\":[" + entry + "," + entry + "]}").hasMessageContaining("keys[1].key: the same key id as keys[0].key");
  }

  @Test
  void rejectsAKeyTenantNamedLikeABearerTokensSubject() {
    // The library refuses such a tenant too, but only when the key is issued, without the field.
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"jwt:https://idp.example/#a\",\"tier\":\"free\"}]}")
        .hasMessageContaining("keys[0].tenant: must not begin with 'jwt:'");
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"JWT:https://idp.example/#a\",\"tier\":\"free\"}]}")
        .hasMessageContaining("keys[0].tenant: must not begin with 'jwt:' in any case");
  }

  @Test
  void rejectsAKeyTenantNamedLikeTheMetersTagsForOtherTenantsAndForNone() {
    // Its requests would be counted with every unknown tenant's, or with the unauthenticated ones.
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"other\",\"tier\":\"free\"}]}")
        .hasMessage("config test.json: keys[0].tenant: 'other' is reserved: the meters tag other tenants 'other' "
            + "and requests without one 'none'");
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"none\",\"tier\":\"free\"}]}")
        .hasMessageContaining("keys[0].tenant: 'none' is reserved");
  }

  @Test
  void rejectsMissingRequiredFields() {
    assertRejected("{\"keys\":[{\"tenant\":\"t\",\"tier\":\"free\"}]}").hasMessageContaining("keys[0].subject: required");
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tier\":\"free\"}]}").hasMessageContaining("keys[0].tenant: required");
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\"}]}").hasMessageContaining("keys[0].tier: required");
    assertRejected("{\"keys\":[null]}").hasMessageContaining("keys[0]: must be an object");
  }

  @Test
  void rejectsABadExpiry() {
    assertRejected("{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"free\",\"expiresAt\":\"tomorrow\"}]}")
        .hasMessageContaining("keys[0].expiresAt: not an ISO-8601 instant");
  }

  @Test
  void aMissingFileIsNamed() {
    assertThatThrownBy(() -> DemoConfig.read(Path.of("does-not-exist.json"), ModelCatalog.MODEL_IDS))
        .isInstanceOf(StartupException.class)
        .hasMessage("config does-not-exist.json: no such file");
  }

  @Test
  void readsTheJwtSettingsWithTheirSources() throws Exception {
    JwtSettings jwt = parse("{\"jwt\":{\"jwksUrl\":\"https://idp.example/jwks\",\"issuer\":\"https://idp.example/\","
        + "\"audience\":\"models\",\"tierClaim\":\"plan\",\"tenantClaim\":\"org_id\",\"defaultTier\":\"free\","
        + "\"demoIssuer\":true}}").jwt();

    assertThat(jwt.jwksUrl()).hasValueSatisfying(u -> assertThat(u).hasToString("https://idp.example/jwks"));
    assertThat(jwt.issuer()).contains("https://idp.example/");
    assertThat(jwt.audience()).contains("models");
    assertThat(jwt.tierClaim()).contains("plan");
    assertThat(jwt.tenantClaim()).contains("org_id");
    assertThat(jwt.defaultTier()).contains("free");
    assertThat(jwt.externalIdp()).isTrue();
    assertThat(jwt.demoIssuer()).isTrue();
    assertThat(jwt.source(JwtSettings.Field.AUDIENCE)).contains("config test.json: jwt.audience");
    assertThat(parse("{}").jwt().externalIdp()).isFalse();
    assertThat(parse("{}").jwt().demoIssuer()).isTrue();
  }

  @Test
  void rejectsBadJwtFieldsNamingThem() {
    assertRejected("{\"jwt\":{\"jwksUrl\":\"http://idp.example/jwks\"}}")
        .hasMessage("config test.json: jwt.jwksUrl: plain http is allowed only to a loopback address such as "
            + "127.0.0.1 (keys fetched in clear text can be replaced by anyone on the path); use https");
    assertRejected("{\"jwt\":{\"jwksUrl\":\"idp.example/jwks\"}}")
        .hasMessage("config test.json: jwt.jwksUrl: must be an absolute https URL, such as https://idp.example/jwks");
    assertRejected("{\"jwt\":{\"audience\":1}}").hasMessage("config test.json: jwt.audience: wrong type, expected a string");
    assertRejected("{\"jwt\":{\"demoIssuer\":\"no\"}}")
        .hasMessage("config test.json: jwt.demoIssuer: wrong type, expected true or false");
    assertRejected("{\"jwt\":{\"tierClaim\":\"my tier\"}}")
        .hasMessage("config test.json: jwt.tierClaim: 'my tier' is not a claim name (1-64 of A-Z a-z 0-9 _ . : -)");
    assertRejected("{\"jwt\":{\"issuer\":\"  \"}}").hasMessage("config test.json: jwt.issuer: must not be blank");
    assertRejected("{\"jwt\":{\"iss\":\"https://idp.example/\"}}")
        .hasMessageStartingWith("config test.json: jwt.iss: unknown field (allowed: ");
    assertRejected("{\"jwt\":[]}").hasMessage("config test.json: jwt: wrong type, expected an object");
  }
}
