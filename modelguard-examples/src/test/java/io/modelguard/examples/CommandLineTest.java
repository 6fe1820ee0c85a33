package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees on the command line: exit codes and one-line errors, never a stack trace. */
class CommandLineTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return ModelServingApp.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void assertOneLineError(String expected) {
    assertThat(stderr()).isEqualTo("modelguard-examples: " + expected + System.lineSeparator());
    assertThat(out.toString(StandardCharsets.UTF_8)).as("no banner, no keys").isEmpty();
  }

  @Test
  void helpPrintsUsageAndExitsZero() {
    assertThat(run(Map.of(), "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage:").contains("--config FILE").contains("--port N")
        .contains("--allow-fetch-host HOST[:PORT]");
  }

  @Test
  void unknownOptionExitsTwo() {
    assertThat(run(Map.of(), "--verbose")).isEqualTo(2);
    assertOneLineError("unknown option '--verbose' (see --help)");
  }

  @Test
  void invalidConfigExitsTwoNamingTheField() throws Exception {
    Path config = dir.resolve("bad.json");
    Files.writeString(config, "{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"gold\"}]}");

    assertThat(run(Map.of(), "--port", "0", "--config", config.toString())).isEqualTo(2);
    assertOneLineError("config " + config + ": keys[0].tier: unknown tier 'gold' (known: free, pro)");
  }

  @Test
  void wronglyTypedConfigExitsTwoNamingTheField() throws Exception {
    Path config = dir.resolve("typed.json");
    Files.writeString(config, "{\"tiers\":{\"free\":[\"digits\"]},\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\","
        + "\"tier\":\"free\",\"revoked\":\"yes\"}]}");

    assertThat(run(Map.of(), "--port", "0", "--config", config.toString())).isEqualTo(2);
    assertOneLineError("config " + config + ": keys[0].revoked: wrong type, expected true or false");
  }

  @Test
  void fetchHostThatIsAlwaysDeniedExitsTwoNamingTheFlag() {
    assertThat(run(Map.of(), "--port", "0", "--allow-fetch-host", "localhost:8089")).isEqualTo(2);
    assertOneLineError("--allow-fetch-host: 'localhost:8089' is always refused (it names an internal host); "
        + "to allow a server on this machine, give its address and port, such as 127.0.0.1:8081");
  }

  @Test
  void shortPepperExitsTwoWithoutPrintingIt() throws Exception {
    Path pepper = dir.resolve("pepper.txt");
    String tooShort = Base64.getEncoder().encodeToString("only-16-bytes!!!".getBytes(StandardCharsets.US_ASCII));
    Files.writeString(pepper, tooShort + "\n");

    assertThat(run(Map.of(), "--port", "0", "--pepper-file", pepper.toString())).isEqualTo(2);
    assertOneLineError("--pepper-file " + pepper + ": the pepper must decode to at least 32 bytes, got 16");
    assertThat(stderr()).doesNotContain(tooShort);
  }

  @Test
  void nonBase64PepperInTheEnvironmentExitsTwoWithoutPrintingIt() {
    String pepper = "this is not base64 at all!!";

    assertThat(run(Map.of(AppOptions.PEPPER_ENV, pepper), "--port", "0")).isEqualTo(2);
    assertOneLineError("MODELGUARD_PEPPER: the pepper must be base64");
  }

  @Test
  void portInUseExitsTwo() throws Exception {
    try (ModelServingApp first = ModelServingApp.start(AppOptions.defaults().withPort(0),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      out.reset();
      assertThat(run(Map.of(), "--port", Integer.toString(first.port()))).isEqualTo(2);
      assertThat(stderr()).startsWith("modelguard-examples: cannot listen on 127.0.0.1:" + first.port());
      assertThat(stderr().lines()).hasSize(1);
    }
  }

  @Test
  void aGoodPepperFileIsUsed() throws Exception {
    Path pepper = dir.resolve("pepper.txt");
    byte[] bytes = new byte[32];
    new java.security.SecureRandom().nextBytes(bytes);
    Files.writeString(pepper, Base64.getEncoder().encodeToString(bytes));

    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withPepperFile(pepper),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      assertThat(client.get("/v1/models", app.key("free").orElseThrow().plaintext()).statusCode()).isEqualTo(200);
    }
  }
}
