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
  void anAuditLogFileThatCannotBeOpenedExitsTwoNamingTheFlag() {
    Path notADirectory = dir.resolve("missing-dir").resolve("audit.jsonl");

    assertThat(run(Map.of(), "--port", "0", "--audit-log", notADirectory.toString())).isEqualTo(2);
    assertOneLineError("--audit-log " + notADirectory + ": cannot open for appending (NoSuchFileException)");
  }

  @Test
  void invalidConfigExitsTwoNamingTheField() throws Exception {
    Path config = dir.resolve("bad.json");
    Files.writeString(config, "{\"keys\":[{\"subject\":\"a\",\"tenant\":\"t\",\"tier\":\"gold\"}]}");

    assertThat(run(Map.of(), "--port", "0", "--config", config.toString())).isEqualTo(2);
    assertOneLineError("config " + config + ": keys[0].tier: unknown tier 'gold' (known: enterprise, free, pro)");
  }

  @Test
  void aLimitNameWithALineBreakIsRefusedOnOneLineWithoutEchoingIt() throws Exception {
    Path config = dir.resolve("limits.json");
    Files.writeString(config, "{\"tiers\":{\"free\":{\"models\":[\"digits\"],\"limits\":[{\"name\":"
        + "\"burst\\nmodelguard-examples: started\",\"quota\":5,\"windowSeconds\":1}]}}}");

    assertThat(run(Map.of(), "--port", "0", "--config", config.toString())).isEqualTo(2);
    assertOneLineError("config " + config + ": tiers.free.limits[0].name: 'burst?modelguard-examples: started' is "
        + "not a limit name (1-32 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
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
  void shortExtractionSecretExitsTwoWithoutPrintingIt() throws Exception {
    Path secret = dir.resolve("extraction-secret.txt");
    String tooShort = Base64.getEncoder().encodeToString("only-16-bytes!!!".getBytes(StandardCharsets.US_ASCII));
    Files.writeString(secret, tooShort + "\n");

    assertThat(run(Map.of(), "--port", "0", "--extraction-secret-file", secret.toString())).isEqualTo(2);
    assertOneLineError("--extraction-secret-file " + secret
        + ": the extraction secret must decode to at least 32 bytes, got 16");
    assertThat(stderr()).doesNotContain(tooShort);
  }

  @Test
  void nonBase64ExtractionSecretInTheEnvironmentExitsTwoWithoutPrintingIt() {
    String secret = "this is not base64 at all!!";

    assertThat(run(Map.of(AppOptions.EXTRACTION_SECRET_ENV, secret), "--port", "0")).isEqualTo(2);
    assertOneLineError(AppOptions.EXTRACTION_SECRET_ENV + ": the extraction secret must be base64");
    assertThat(stderr()).doesNotContain(secret);
  }

  @Test
  void aSecretVariableThatIsSetButEmptyExitsTwoRatherThanFallingBackToARandomSecret() {
    for (String name : new String[] {AppOptions.PEPPER_ENV, AppOptions.EXTRACTION_SECRET_ENV}) {
      for (String blank : new String[] {"", "  \n"}) {
        out.reset();
        err.reset();
        assertThat(run(Map.of(name, blank), "--port", "0")).as(name).isEqualTo(2);
        assertOneLineError(name + " is set but empty; unset it to use a random secret for this run");
      }
    }
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

  @Test
  void jwtCombinationsThatCannotWorkExitTwoNamingTheFlagOrField() throws Exception {
    String[] external = {"--jwt-issuer", "https://idp.example/", "--jwt-audience", "models"};
    Path config = dir.resolve("jwt.json");
    Files.writeString(config, "{\"jwt\":{\"jwksUrl\":\"https://idp.example/jwks\",\"issuer\":\"https://idp.example/\"}}");
    Path gold = dir.resolve("gold.json");
    Files.writeString(gold, "{\"jwt\":{\"jwksUrl\":\"https://idp.example/jwks\",\"issuer\":\"https://idp.example/\","
        + "\"audience\":\"models\",\"defaultTier\":\"gold\"}}");
    Path lonely = dir.resolve("lonely.json");
    Files.writeString(lonely, "{\"jwt\":{\"tierClaim\":\"plan\"}}");

    Map<String[], String> cases = new java.util.LinkedHashMap<>();
    cases.put(new String[] {"--jwks-url", "https://idp.example/jwks", "--jwt-audience", "models"},
        "--jwks-url: an external IdP needs its issuer too: give --jwt-issuer (or jwt.issuer in the configuration "
            + "file); without it, tokens of any issuer using these keys would be accepted");
    cases.put(new String[] {"--config", config.toString()},
        "config " + config + ": jwt.jwksUrl: an external IdP needs its audience too: give --jwt-audience (or "
            + "jwt.audience in the configuration file); without it, tokens meant for other services would be accepted");
    cases.put(new String[] {"--jwt-issuer", "https://idp.example/"},
        "--jwt-issuer: applies to an external IdP's tokens; give its keys with --jwks-url or --jwt-public-key "
            + "(jwt.jwksUrl or jwt.publicKeyFile in the configuration file)");
    cases.put(new String[] {"--config", lonely.toString()},
        "config " + lonely + ": jwt.tierClaim: applies to an external IdP's tokens; give its keys with --jwks-url or "
            + "--jwt-public-key (jwt.jwksUrl or jwt.publicKeyFile in the configuration file)");
    cases.put(new String[] {"--config", gold.toString()},
        "config " + gold + ": jwt.defaultTier: unknown tier 'gold' (known: enterprise, free, pro)");
    cases.put(new String[] {"--config", config.toString(), "--jwt-public-key", "idp.pem", "--jwt-audience", "m"},
        "--jwt-public-key: give either a JWKS URL or a public key file, not both (a JWKS URL comes from config "
            + config + ": jwt.jwksUrl)");
    cases.put(new String[] {"--jwks-url", "http://idp.example/jwks"},
        "--jwks-url: plain http is allowed only to a loopback address such as 127.0.0.1 (keys fetched in clear "
            + "text can be replaced by anyone on the path); use https");
    cases.put(new String[] {"--jwt-tier-claim", "plan tier"},
        "--jwt-tier-claim: 'plan tier' is not a claim name (1-64 of A-Z a-z 0-9 _ . : -)");
    cases.put(new String[] {"--no-demo-issuer=yes"}, "--no-demo-issuer takes no value");
    cases.put(concat(external, "--jwt-public-key", dir.resolve("missing.pem").toString()),
        "--jwt-public-key: " + dir.resolve("missing.pem") + ": no such file");

    for (Map.Entry<String[], String> c : cases.entrySet()) {
      out.reset();
      err.reset();
      assertThat(run(Map.of(), concat(new String[] {"--port", "0"}, c.getKey()))).as(c.getValue()).isEqualTo(2);
      assertOneLineError(c.getValue());
    }
  }

  @Test
  void anUnusablePublicKeyFileExitsTwoWithoutEchoingIt() throws Exception {
    java.security.KeyPair pair = TestTokens.ec();
    String privatePem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder().encodeToString(pair.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    Path privateKey = dir.resolve("private.pem");
    Files.writeString(privateKey, privatePem);
    Path notPem = dir.resolve("notes.txt");
    Files.writeString(notPem, "not a key at all");
    java.security.KeyPairGenerator weak = java.security.KeyPairGenerator.getInstance("RSA");
    weak.initialize(1024);
    Path weakKey = dir.resolve("weak.pem");
    Files.writeString(weakKey, TestTokens.pem(weak.generateKeyPair().getPublic()));

    Map<Path, String> cases = new java.util.LinkedHashMap<>();
    cases.put(privateKey, "--jwt-public-key: unsupported PEM block 'PRIVATE KEY'; give the issuer's PUBLIC KEY "
        + "(SubjectPublicKeyInfo) or CERTIFICATE, never a private key");
    cases.put(notPem, "--jwt-public-key: no PEM block found (expected -----BEGIN PUBLIC KEY-----)");
    cases.put(weakKey, "--jwt-public-key: RSA key is too weak or of an unsupported kind (RSA needs >= 2048 bits; "
        + "EC must be P-256, P-384 or P-521; or Ed25519/Ed448)");
    for (Map.Entry<Path, String> c : cases.entrySet()) {
      out.reset();
      err.reset();
      assertThat(run(Map.of(), "--port", "0", "--jwt-public-key", c.getKey().toString(), "--jwt-issuer",
          "https://idp.example/", "--jwt-audience", "models")).isEqualTo(2);
      assertOneLineError(c.getValue());
      assertThat(stderr()).doesNotContain(privatePem.substring(28, 60));
    }
  }

  private static String[] concat(String[] first, String... more) {
    String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }
}
