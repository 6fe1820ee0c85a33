package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import io.modelguard.RandomSource;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.event.Slf4jAuditListener;
import io.modelguard.examples.metrics.JsonAuditLog;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.LogCapture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Audit and application logs never contain credentials: run valid and invalid API keys and bearer
 * tokens through the real app while capturing every log event at TRACE, then search every line for
 * every key, every key's 32-character secret, every invalid key sent, and every token sent and its
 * signature.
 *
 * <p>The root logger, {@code io.modelguard} and the audit logger are raised to TRACE; Jetty stays
 * at the INFO level the demo's logging configuration pins it to, because Jetty's own DEBUG output
 * dumps raw request headers (API keys included): see {@link #warnsWhenJettyWireLoggingCouldLeakKeys}.
 */
class LogCaptureTest {
  /** Loggers raised to TRACE for the test (besides the root). */
  private static final List<String> RAISED =
      List.of("io.modelguard", Slf4jAuditListener.LOGGER_NAME, JsonAuditLog.LOGGER_NAME);

  @Test
  void noKeyMaterialAppearsInAnyLogLine() throws Exception {
    LogCapture captured = LogCapture.all();
    RAISED.forEach(name -> captured.withLevel(name, Level.TRACE));

    Set<String> secrets = new LinkedHashSet<>();
    Set<String> needles = new LinkedHashSet<>();
    List<Integer> statuses = new ArrayList<>();
    try (captured; ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String iris = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());
      for (DemoKey k : app.keys()) {
        secrets.add(k.plaintext());
      }
      String free = app.key("free").orElseThrow().plaintext();
      List<String> sent = new ArrayList<>(secrets);
      sent.add("mg_test_this-is-malformed-key-material-0123456789");
      sent.add(ApiKeyFormat.generate(ApiKeyFormat.Environment.TEST, RandomSource.seeded(99))); // unknown
      sent.add(ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, RandomSource.seeded(98))); // unknown, live
      sent.add(ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST, ApiKeyFormat.parse(free).orElseThrow().keyId(),
          "WrongSecretWrongSecretWrongSecr1")); // real key id, wrong secret
      sent.add(free.substring(0, free.length() - 2) + "zz"); // bad checksum
      secrets.addAll(sent);

      for (String key : sent) {
        statuses.add(client.post("/v1/models/digits/predict", key, digits).statusCode());
        statuses.add(client.post("/v1/models/iris/predict", key, iris).statusCode());
        statuses.add(client.get("/v1/models", key).statusCode());
        statuses.add(client.post("/v1/models/digits/predict", key, "{\"pixels\":[1]}").statusCode());
      }
      statuses.add(client.post("/v1/models/digits/predict", null, digits).statusCode());

      // Bearer tokens: minted by the demo issuer (valid, narrowed), expired, tampered, forged, garbage,
      // and a token together with an API key. Neither a token nor its signature may reach a log line.
      io.modelguard.examples.issuer.DemoIssuer issuer = app.demoIssuer().orElseThrow();
      String freeToken = client.demoToken("{\"subject\":\"alice\",\"tier\":\"free\"}");
      String proToken = client.demoToken("{\"subject\":\"bob\",\"tier\":\"pro\",\"models\":[\"iris\"]}");
      String expired = issuer.mint("carol", "pro", List.of(), java.time.Instant.now().minusSeconds(900));
      String tampered = freeToken.substring(0, freeToken.lastIndexOf('.') + 1) + TestTokens.signature(proToken);
      String forged = io.jsonwebtoken.Jwts.builder().header().keyId(issuer.keyId()).and().issuer(issuer.issuer())
          .audience().add(io.modelguard.examples.issuer.DemoIssuer.AUDIENCE).and().subject("mallory")
          .expiration(java.util.Date.from(java.time.Instant.now().plusSeconds(300)))
          .signWith(TestTokens.ec().getPrivate(), io.jsonwebtoken.Jwts.SIG.ES256).compact();
      List<String> tokens = List.of(freeToken, proToken, expired, tampered, forged,
          "eyJhbGciOiJub25lIn0." + freeToken.split("\\.")[1] + ".");
      for (String token : tokens) {
        statuses.add(client.postBearer("/v1/models/digits/predict", token, digits).statusCode());
        statuses.add(client.postBearer("/v1/models/iris/predict", token, iris).statusCode());
        statuses.add(client.getWith("/v1/models", "Authorization", "Bearer " + token).statusCode());
        statuses.add(client.postWith("/v1/models/digits/predict", digits, "Authorization", "Bearer " + token,
            "X-API-Key", free).statusCode());
        statuses.add(client.getWith("/v1/models", "Authorization", "bearer  " + token + " ").statusCode());
        secrets.add(token);
        needles.add(TestTokens.signature(token).isEmpty() ? token : TestTokens.signature(token));
      }
    }

    // The secret part alone must not leak either (a log line could show a key with its prefix cut).
    needles.addAll(secrets);
    for (String s : secrets) {
      if (ApiKeyFormat.parse(s).isPresent()) {
        needles.add(s.substring(8 + ApiKeyFormat.KEY_ID_LENGTH, 8 + ApiKeyFormat.KEY_ID_LENGTH + ApiKeyFormat.SECRET_LENGTH));
      }
    }
    List<ILoggingEvent> events = captured.events();
    assertThat(statuses).contains(200, 401, 403, 422);
    assertThat(events).as("the capture saw the JSON audit log").anySatisfy(e -> {
      assertThat(e.getLoggerName()).isEqualTo(JsonAuditLog.LOGGER_NAME);
      assertThat(e.getFormattedMessage()).contains("\"outcome\":\"denied\",\"code\":\"auth.invalid_api_key\"");
    });
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("\"outcome\":\"allowed\""));
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("\"code\":\"authz.model_forbidden\""));
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("\"code\":\"auth.invalid_token\""));
    assertThat(events).as("JWT refusals were logged at DEBUG, and checked")
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).startsWith("JWT refused"));
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("\"outcome\":\"allowed\"")
        .contains("\"subject\":\"alice\",\"tenant\":\"demo\""));
    for (ILoggingEvent e : events) {
      String line = render(e);
      for (String needle : needles) {
        assertThat(line).as("log line of %s", e.getLoggerName()).doesNotContain(needle);
      }
    }
  }

  @Test
  void warnsWhenJettyWireLoggingCouldLeakKeys() throws Exception {
    try (LogCapture captured = LogCapture.of(ModelServingApp.class, Level.INFO)
            .withLevel(ModelServingApp.JETTY_PARSER_LOGGER, Level.DEBUG);
        ModelServingApp started = ModelServingApp.start(AppOptions.defaults().withPort(0),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      assertThat(started.port()).isPositive();

      assertThat(captured.messagesAt(Level.WARN)).anySatisfy(m -> assertThat(m).contains("including X-API-Key"));
    }
  }

  /** Everything an appender could write for the event. */
  private static String render(ILoggingEvent e) {
    StringBuilder b = new StringBuilder()
        .append(e.getLoggerName()).append(' ')
        .append(e.getThreadName()).append(' ')
        .append(e.getMessage()).append(' ')
        .append(e.getFormattedMessage()).append(' ')
        .append(e.getMDCPropertyMap()).append(' ')
        .append(e.getKeyValuePairs()).append(' ');
    if (e.getArgumentArray() != null) {
      for (Object arg : e.getArgumentArray()) {
        b.append(arg).append(' ');
      }
    }
    if (e.getThrowableProxy() != null) {
      b.append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
    }
    return b.toString();
  }
}
