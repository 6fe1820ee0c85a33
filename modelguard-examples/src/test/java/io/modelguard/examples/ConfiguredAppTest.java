package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The app started with {@code --config}: custom tiers, configured and generated keys. */
class ConfiguredAppTest {
  private static final String FIXED_KEY = "mg_test_DEMOconfig01ThisIsAPublicDemoKeyNotASecret004HBPyr";

  @TempDir
  static Path dir;

  private static ModelServingApp app;
  private static DemoClient client;
  private static String banner;
  private static String digitsBody;
  private static String irisBody;

  @BeforeAll
  static void start() throws Exception {
    Path config = dir.resolve("security.json");
    Files.writeString(config, "{\n"
        + "  \"tiers\": {\"basic\": [\"digits\"], \"botanist\": [\"iris\"], \"everything\": [\"digits\", \"iris\"]},\n"
        + "  \"keys\": [\n"
        + "    {\"key\": \"" + FIXED_KEY + "\", \"subject\": \"ci\", \"tenant\": \"acme\", \"tier\": \"basic\"},\n"
        + "    {\"subject\": \"carol\", \"tenant\": \"kew\", \"tier\": \"botanist\"},\n"
        + "    {\"subject\": \"dave\", \"tenant\": \"acme\", \"tier\": \"everything\", \"expiresAt\": \""
        + Instant.now().plus(Duration.ofDays(1)) + "\"},\n"
        + "    {\"subject\": \"erin\", \"tenant\": \"acme\", \"tier\": \"everything\", \"expiresAt\": \""
        + Instant.now().minus(Duration.ofHours(1)) + "\"},\n"
        + "    {\"subject\": \"mallory\", \"tenant\": \"acme\", \"tier\": \"everything\", \"revoked\": true}\n"
        + "  ]\n"
        + "}\n");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withConfigFile(config),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    banner = console.toString(StandardCharsets.UTF_8);
    client = new DemoClient(app.baseUri());
    digitsBody = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    irisBody = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static String generated(String subject) {
    return app.key(subject).orElseThrow().plaintext();
  }

  @Test
  void configuredKeyWorksWithinItsTier() {
    assertThat(client.post("/v1/models/digits/predict", FIXED_KEY, digitsBody).statusCode()).isEqualTo(200);
    assertProblem(client.post("/v1/models/iris/predict", FIXED_KEY, irisBody), 403, "authz.model_forbidden");
  }

  @Test
  void generatedKeysArePrintedButConfiguredOnesAreNotRepeated() {
    assertThat(app.key("ci").orElseThrow().key()).isEmpty();
    assertThat(banner).doesNotContain(FIXED_KEY);
    for (String subject : new String[] {"carol", "dave", "erin", "mallory"}) {
      assertThat(banner).contains(generated(subject));
    }
    assertThat(app.key("erin").orElseThrow().status()).isEqualTo(DemoKey.Status.EXPIRED);
    assertThat(app.key("mallory").orElseThrow().status()).isEqualTo(DemoKey.Status.REVOKED);
  }

  @Test
  void customTierGrantsOnlyItsModels() {
    String carol = generated("carol");

    assertThat(client.post("/v1/models/iris/predict", carol, irisBody).statusCode()).isEqualTo(200);
    assertProblem(client.post("/v1/models/digits/predict", carol, digitsBody), 403, "authz.model_forbidden");
    HttpResponse<String> models = client.get("/v1/models", carol);
    assertThat(DemoClient.json(models).toString()).isEqualTo("{\"models\":[\"iris\"]}");
  }

  @Test
  void expiryAndRevocationFromTheConfigApply() {
    assertThat(client.post("/v1/models/iris/predict", generated("dave"), irisBody).statusCode()).isEqualTo(200);
    assertProblem(client.post("/v1/models/iris/predict", generated("erin"), irisBody), 401, "auth.invalid_api_key");
    assertProblem(client.post("/v1/models/iris/predict", generated("mallory"), irisBody), 401, "auth.invalid_api_key");
  }

  @Test
  void demoKeysAreNotIssuedWithAConfig() {
    assertThat(app.key("free")).isEmpty();
    assertThat(app.keys()).hasSize(5);
  }
}
