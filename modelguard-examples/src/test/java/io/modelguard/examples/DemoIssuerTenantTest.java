package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.examples.issuer.DemoIssuer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo issuer mints tokens of tenant {@value DemoIssuer#TENANT}, for any subject, to anyone who
 * can reach the demo: a configured key of that tenant would share its quota (and, under the same
 * subject, its extraction history) with every anonymous holder of a demo token.
 */
class DemoIssuerTenantTest {
  @TempDir
  Path dir;

  private Path configWithKeyOfTenant(String tenant) throws Exception {
    Path config = dir.resolve("security.json");
    Files.writeString(config, "{\"tiers\":{\"basic\":[\"digits\"]},\"keys\":["
        + "{\"subject\":\"ci\",\"tenant\":\"acme\",\"tier\":\"basic\"},"
        + "{\"subject\":\"alice\",\"tenant\":\"" + tenant + "\",\"tier\":\"basic\"}]}");
    return config;
  }

  @Test
  void refusesToStartWithAKeyOfTheDemoIssuersTenantWhileTheDemoIssuerRuns() throws Exception {
    Path config = configWithKeyOfTenant(DemoIssuer.TENANT);
    assertThatThrownBy(() -> ModelServingApp.start(AppOptions.defaults().withPort(0).withConfigFile(config),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
        .isInstanceOf(StartupException.class)
        .hasMessage("config " + config + ": keys[1].tenant: 'demo' is the tenant of every demo-issuer token, which "
            + "anyone who can reach the demo may mint; give the key another tenant, or turn the demo issuer off "
            + "(--no-demo-issuer)");
  }

  @Test
  void acceptsAKeyOfThatTenantWithTheDemoIssuerOff() throws Exception {
    ModelServingApp.Parts parts = ModelServingApp.Parts.of(
        AppOptions.defaults().withConfigFile(configWithKeyOfTenant(DemoIssuer.TENANT)).withDemoIssuer(false));
    assertThat(parts.config().keys()).extracting(DemoConfig.KeyEntry::tenant).contains(DemoIssuer.TENANT);
  }

  @Test
  void acceptsATenantThatOnlyLooksLikeTheDemoIssuers() throws Exception {
    // Tenants are compared exactly everywhere (quota keys, extraction clients): "Demo" is another tenant.
    ModelServingApp.Parts parts = ModelServingApp.Parts.of(
        AppOptions.defaults().withConfigFile(configWithKeyOfTenant("Demo")));
    assertThat(parts.config().keys()).extracting(DemoConfig.KeyEntry::tenant).contains("Demo");
  }
}
