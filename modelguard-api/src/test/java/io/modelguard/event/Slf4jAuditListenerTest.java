package io.modelguard.event;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.modelguard.LogCapture;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The key=value audit line: a client's path or model id cannot add or override a field. */
class Slf4jAuditListenerTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  /** A logfmt reader: key=value or key="quoted value" (with \" and \\), separated by spaces. */
  private static final Pattern PAIR = Pattern.compile("([^ =]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|[^ ]*)");

  private static List<ILoggingEvent> log(GuardEvent event) {
    Logger logger = new LoggerContext().getLogger(Slf4jAuditListener.LOGGER_NAME);
    try (LogCapture lines = LogCapture.of(logger, Level.DEBUG)) {
      new Slf4jAuditListener(logger).onEvent(event);
      return lines.events();
    }
  }

  /** Every key=value pair of a line, in order; a key seen twice is recorded twice. */
  private static List<String> keys(String line) {
    Matcher m = PAIR.matcher(line);
    List<String> keys = new java.util.ArrayList<>();
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }

  private static Map<String, String> fields(String line) {
    Matcher m = PAIR.matcher(line);
    Map<String, String> fields = new LinkedHashMap<>();
    while (m.find()) {
      String v = m.group(2);
      if (v.startsWith("\"")) {
        v = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
      }
      fields.put(m.group(1), v);
    }
    return fields;
  }

  @Test
  void aPathWithSpacesCannotForgeFieldsOfTheDenial() {
    String model = "x decision=allow code=none";
    String path = "/v1/models/" + model + "/predict subject=admin tenant=acme decision=allow";

    List<ILoggingEvent> lines = log(new DecisionEvent(AT, "POST", path, "default", model, null, null, false,
        ReasonCode.AUTH_MISSING_CREDENTIALS, Phase.AUTHENTICATE, "api-key"));

    String line = lines.get(0).getFormattedMessage();
    assertThat(keys(line)).as(line).containsExactly("decision", "code", "phase", "policy", "chain", "model",
        "subject", "tenant", "method", "path");
    assertThat(fields(line)).containsEntry("decision", "deny").containsEntry("model", model)
        .containsEntry("path", path).containsEntry("subject", "-");
  }
  @Test
  void aDenialsOperatorNoteFollowsItsCode() {
    List<ILoggingEvent> lines = log(new DecisionEvent(AT, "POST", "/v1/models/img/predict", "default", "img", "svc",
        "acme", false, ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input", "ssrf_refused:DENIED_ADDRESS"));

    String line = lines.get(0).getFormattedMessage();
    assertThat(keys(line)).as(line).containsExactly("decision", "code", "operatorNote", "phase", "policy", "chain",
        "model", "subject", "tenant", "method", "path");
    assertThat(fields(line)).containsEntry("code", "input.fetch_failed")
        .containsEntry("operatorNote", "ssrf_refused:DENIED_ADDRESS");
  }

  @Test
  void aNoteMadeOutsideTheEngineCannotForgeFieldsEither() {
    // GuardDecision admits tokens only, but anyone may build an event.
    String note = "x decision=allow tenant=other";
    List<ILoggingEvent> lines = log(new DecisionEvent(AT, "POST", "/p", "default", null, null, null, false,
        ReasonCode.INTERNAL_ERROR, Phase.VALIDATE, "input", note));

    String line = lines.get(0).getFormattedMessage();
    assertThat(keys(line)).as(line).containsExactly("decision", "code", "operatorNote", "phase", "policy", "chain",
        "model", "subject", "tenant", "method", "path");
    assertThat(fields(line)).containsEntry("operatorNote", note).containsEntry("decision", "deny");
  }
}
