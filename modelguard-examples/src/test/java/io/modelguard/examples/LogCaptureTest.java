package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.modelguard.RandomSource;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.event.Slf4jAuditListener;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Audit and application logs never contain key material: run valid and invalid keys through the
 * real app while capturing every log event at TRACE, then search every line for every key, every
 * key's 32-character secret, and every invalid key sent.
 *
 * <p>The root logger, {@code io.modelguard} and the audit logger are raised to TRACE; Jetty stays
 * at the INFO level the demo's logging configuration pins it to, because Jetty's own DEBUG output
 * dumps raw request headers (API keys included): see {@link #warnsWhenJettyWireLoggingCouldLeakKeys}.
 */
class LogCaptureTest {
  /** Loggers raised to TRACE for the test (besides the root). */
  private static final List<String> RAISED = List.of("io.modelguard", Slf4jAuditListener.LOGGER_NAME);

  @Test
  void noKeyMaterialAppearsInAnyLogLine() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.setContext(context);
    captured.start();
    Map<Logger, Level> previous = new LinkedHashMap<>();
    previous.put(root, root.getLevel());
    for (String name : RAISED) {
      Logger l = context.getLogger(name);
      previous.put(l, l.getLevel());
    }
    previous.keySet().forEach(l -> l.setLevel(Level.TRACE));
    root.addAppender(captured);

    Set<String> secrets = new LinkedHashSet<>();
    List<Integer> statuses = new ArrayList<>();
    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0),
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
    } finally {
      root.detachAppender(captured);
      previous.forEach(Logger::setLevel);
    }

    // The secret part alone must not leak either (a log line could show a key with its prefix cut).
    Set<String> needles = new LinkedHashSet<>(secrets);
    for (String s : secrets) {
      if (ApiKeyFormat.parse(s).isPresent()) {
        needles.add(s.substring(8 + ApiKeyFormat.KEY_ID_LENGTH, 8 + ApiKeyFormat.KEY_ID_LENGTH + ApiKeyFormat.SECRET_LENGTH));
      }
    }
    List<ILoggingEvent> events = new ArrayList<>(captured.list);
    assertThat(statuses).contains(200, 401, 403, 422);
    assertThat(events).as("the capture saw the audit log").anySatisfy(e -> {
      assertThat(e.getLoggerName()).isEqualTo(Slf4jAuditListener.LOGGER_NAME);
      assertThat(e.getFormattedMessage()).contains("decision=deny code=auth.invalid_api_key");
    });
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("decision=allow"));
    assertThat(events).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("code=authz.model_forbidden"));
    for (ILoggingEvent e : events) {
      String line = render(e);
      for (String needle : needles) {
        assertThat(line).as("log line of %s", e.getLoggerName()).doesNotContain(needle);
      }
    }
  }

  @Test
  void warnsWhenJettyWireLoggingCouldLeakKeys() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger parser = context.getLogger(ModelServingApp.JETTY_PARSER_LOGGER);
    Logger app = context.getLogger(ModelServingApp.class);
    Level previous = parser.getLevel();
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.setContext(context);
    captured.start();
    app.addAppender(captured);
    parser.setLevel(Level.DEBUG);
    try (ModelServingApp started = ModelServingApp.start(AppOptions.defaults().withPort(0),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      assertThat(started.port()).isPositive();
    } finally {
      parser.setLevel(previous);
      app.detachAppender(captured);
    }

    assertThat(captured.list).anySatisfy(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).contains("including X-API-Key");
    });
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
