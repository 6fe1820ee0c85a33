package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.PolicyFailureEvent;
import io.modelguard.extraction.RiskLevel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One JSON line per event, whatever the request put in its path. */
class JsonAuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir
  Path dir;

  @Test
  void aPathWithLineBreaksAndQuotesStaysOneParseableLine() throws Exception {
    List<String> lines = new ArrayList<>();
    JsonAuditLog log = JsonAuditLog.to(lines::add);
    String forged = "/v1/models/x\"}\n{\"event\":\"decision\",\"outcome\":\"allowed\"}/predict";

    log.onEvent(new DecisionEvent(AT, "POST", forged, "default", "x", null, null, false,
        ReasonCode.AUTH_MISSING_CREDENTIALS, Phase.AUTHENTICATE, null));

    assertThat(lines).singleElement().satisfies(line -> {
      assertThat(line).doesNotContain("\n");
      JsonNode json = JSON.readTree(line);
      assertThat(json.get("path").asText()).isEqualTo(forged);
      assertThat(json.get("outcome").asText()).isEqualTo("denied");
      assertThat(json.get("code").asText()).isEqualTo("auth.missing_credentials");
      assertThat(json.has("subject")).isFalse();
      assertThat(json.has("policy")).isFalse();
    });
  }

  @Test
  void aDenialsOperatorNoteFollowsItsCode() throws Exception {
    List<String> lines = new ArrayList<>();
    JsonAuditLog log = JsonAuditLog.to(lines::add);

    log.onEvent(new DecisionEvent(AT, "POST", "/v1/models/img/predict", "default", "img", "svc", "acme", false,
        ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input", "ssrf_refused:DENIED_ADDRESS"));
    log.onEvent(new DecisionEvent(AT, "POST", "/v1/models/img/predict", "default", "img", "svc", "acme", false,
        ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input"));

    JsonNode noted = JSON.readTree(lines.get(0));
    assertThat(noted.get("operatorNote").asText()).isEqualTo("ssrf_refused:DENIED_ADDRESS");
    List<String> fields = new ArrayList<>();
    noted.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("ts", "event", "outcome", "code", "operatorNote", "phase", "policy", "chain",
        "model", "subject", "tenant", "method", "path");
    assertThat(JSON.readTree(lines.get(1)).has("operatorNote")).isFalse();
  }

  @Test
  void extractionDetectionsGetALineWithLevelsAndDetectorsOnly() throws Exception {
    List<String> lines = new ArrayList<>();
    JsonAuditLog log = JsonAuditLog.to(lines::add);

    log.onEvent(new ExtractionDetectionEvent(AT, "p:alice", "alice", "acme", "digits", RiskLevel.OBSERVE,
        RiskLevel.PERTURB, List.of("prada", "hashing"), 1.5, 42));

    JsonNode json = JSON.readTree(lines.get(0));
    assertThat(json.get("event").asText()).isEqualTo("extraction_detection");
    assertThat(json.get("previousLevel").asText()).isEqualTo("OBSERVE");
    assertThat(json.get("level").asText()).isEqualTo("PERTURB");
    assertThat(json.get("detectors").toString()).isEqualTo("[\"prada\",\"hashing\"]");
    assertThat(json.get("query").asLong()).isEqualTo(42);
    assertThat(json.get("tenant").asText()).isEqualTo("acme");
    List<String> fields = new ArrayList<>();
    json.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("ts", "event", "model", "subject", "tenant", "client", "previousLevel", "level",
        "detectors", "score", "query");
  }

  @Test
  void cutsRequestControlledValuesTo256Characters() throws Exception {
    List<String> lines = new ArrayList<>();
    JsonAuditLog log = JsonAuditLog.to(lines::add);

    log.onEvent(new DecisionEvent(AT, "POST", "/" + "p".repeat(5000), "default", "m".repeat(5000), "alice", "acme",
        true, null, null, null));

    JsonNode json = JSON.readTree(lines.get(0));
    assertThat(json.get("path").asText()).hasSize(JsonAuditLog.MAX_TEXT);
    assertThat(json.get("model").asText()).hasSize(JsonAuditLog.MAX_TEXT);
    assertThat(json.get("subject").asText()).isEqualTo("alice");
  }

  @Test
  void theCutNeverLeavesHalfASurrogatePair() throws Exception {
    List<String> lines = new ArrayList<>();
    String path = "/" + "p".repeat(JsonAuditLog.MAX_TEXT - 2) + "\uD83D\uDE00/predict";

    JsonAuditLog.to(lines::add).onEvent(new DecisionEvent(AT, "POST", path, "default", null, null, null, false,
        ReasonCode.AUTH_MISSING_CREDENTIALS, Phase.AUTHENTICATE, null));

    String cut = JSON.readTree(lines.get(0)).get("path").asText();
    assertThat(cut).isEqualTo(path.substring(0, JsonAuditLog.MAX_TEXT - 1));
    assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 1))).isFalse();
  }

  @Test
  void aLoneSurrogateInAFileLineDoesNotStopTheLog() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (JsonAuditLog log = JsonAuditLog.toFile(file)) {
      log.onEvent(new DecisionEvent(AT, "GET", "/v1/models", "catalog", null, "\uD800", "globex", true, null,
          null, null));
      log.onEvent(new DecisionEvent(AT, "GET", "/v1/models", "catalog", null, "bob", "globex", true, null,
          null, null));
    }

    assertThat(Files.readAllLines(file)).hasSize(2).allSatisfy(line ->
        assertThat(JSON.readTree(line).get("tenant").asText()).isEqualTo("globex"));
  }

  @Test
  void policyFailuresAreLinesOfTheirOwnKind() throws Exception {
    List<String> lines = new ArrayList<>();
    JsonAuditLog.to(lines::add).onEvent(new PolicyFailureEvent(AT, "default", "quota", "java.lang.IllegalStateException",
        true));

    JsonNode json = JSON.readTree(lines.get(0));
    assertThat(json.get("event").asText()).isEqualTo("policy_failure");
    assertThat(json.get("policy").asText()).isEqualTo("quota");
    assertThat(json.get("failedOpen").asBoolean()).isTrue();
    assertThat(json.get("ts").asText()).isEqualTo("2026-01-01T00:00:00Z");
  }

  @Test
  void appendsToAFileAcrossRestarts() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    DecisionEvent allowed = new DecisionEvent(AT, "GET", "/v1/models", "catalog", null, "bob", "globex", true, null,
        null, null);
    try (JsonAuditLog log = JsonAuditLog.toFile(file)) {
      log.onEvent(allowed);
    }
    try (JsonAuditLog log = JsonAuditLog.toFile(file)) {
      log.onEvent(allowed);
    }

    assertThat(Files.readAllLines(file)).hasSize(2).allSatisfy(line ->
        assertThat(JSON.readTree(line).get("tenant").asText()).isEqualTo("globex"));
  }

  @Test
  void escapesEveryCharacterAsJacksonDoesAlongWithSeparatorsC1AndBidiControls() throws Exception {
    // Every UTF-16 unit, lone surrogates included, inside a value: the line must be what Jackson's
    // generator (the audit log's former writer) produces when told to escape those characters and
    // lone surrogates too.
    ObjectMapper escaping = new ObjectMapper();
    escaping.getFactory().setCharacterEscapes(new CharacterEscapes() {
      private final int[] ascii = withDel(CharacterEscapes.standardAsciiEscapesForJSON());

      private int[] withDel(int[] codes) {
        codes[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        return codes;
      }

      @Override
      public int[] getEscapeCodesForAscii() {
        return ascii;
      }

      @Override
      public SerializableString getEscapeSequence(int ch) {
        // Each surrogate here is a lone one ("a" + c + "b"), which the audit log escapes too.
        boolean escape = (ch >= 0x80 && ch <= 0x9f) || ch == 0x2028 || ch == 0x2029
            || (ch >= 0x202a && ch <= 0x202e) || (ch >= 0x2066 && ch <= 0x2069)
            || ch == 0x200e || ch == 0x200f || ch == 0x061c || (ch >= 0xd800 && ch <= 0xdfff);
        return escape ? new SerializedString(String.format("\\u%04X", ch)) : null;
      }
    });
    for (int c = 0; c <= 0xFFFF; c++) {
      String value = "a" + (char) c + "b";
      StringBuilder mine = new StringBuilder();
      JsonAuditLog.string(mine, value);
      StringWriter jackson = new StringWriter();
      try (JsonGenerator generator = escaping.getFactory().createGenerator(jackson)) {
        generator.writeString(value);
      }
      assertThat(mine.toString()).as("U+%04X", c).isEqualTo(jackson.toString());
    }
  }

  @Test
  void lineSeparatorsC1AndBidiControlsFromTheClientAreEscapedYetReadBackUnchanged() throws Exception {
    // A JWT subject may hold any text; the path is the container's decoded one.
    List<String> lines = new ArrayList<>();
    String subject = "mallory\u202e\u2066\u200f";
    String path = "/v1/models/x\u2028{\"outcome\":\"allowed\"}\u0085\u2029\u009b31m\u007f/predict";

    JsonAuditLog.to(lines::add).onEvent(new DecisionEvent(AT, "POST", path, "default", null, subject, "acme", false,
        ReasonCode.AUTHZ_MODEL_FORBIDDEN, Phase.AUTHORIZE, "model-access"));

    String line = lines.get(0);
    assertThat(line.chars()).noneMatch(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029
        || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
        || c == 0x200e || c == 0x200f || c == 0x061c);
    assertThat(line).contains("mallory\\u202E\\u2066\\u200F", "x\\u2028{", "\\u0085\\u2029\\u009B31m\\u007F/");
    JsonNode json = JSON.readTree(line);
    assertThat(json.get("subject").asText()).isEqualTo(subject);
    assertThat(json.get("path").asText()).isEqualTo(path);
    assertThat(json.get("outcome").asText()).isEqualTo("denied");
  }

  @Test
  void loneSurrogatesAreEscapedSoTheLineReadsBackUnchangedWhilePairsStayRaw() throws Exception {
    // A JWT subject is any JSON string, "\uDC00" escapes included; the pair is one emoji.
    List<String> lines = new ArrayList<>();
    String subject = "mallory\uDC00x\uD83D\uDE00y\uD800";
    String path = "/v1/models/\uDBFF/predict\uD83D";

    JsonAuditLog.to(lines::add).onEvent(new DecisionEvent(AT, "POST", path, "default", null, subject, "acme", false,
        ReasonCode.AUTHZ_MODEL_FORBIDDEN, Phase.AUTHORIZE, "model-access"));

    String line = lines.get(0);
    assertThat(line).contains("mallory\\uDC00x\uD83D\uDE00y\\uD800", "/v1/models/\\uDBFF/predict\\uD83D\"");
    // What an appender or a file writer gets is exactly encodable: no unit becomes '?' on the way.
    String written = new String(line.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    assertThat(written).isEqualTo(line);
    JsonNode json = JSON.readTree(written);
    assertThat(json.get("subject").asText()).isEqualTo(subject);
    assertThat(json.get("path").asText()).isEqualTo(path);
  }

  @Test
  void aFileLineKeepsALoneSurrogate() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    String subject = "eve\uDC00";
    try (JsonAuditLog log = JsonAuditLog.toFile(file)) {
      log.onEvent(new DecisionEvent(AT, "GET", "/v1/models", "catalog", null, subject, "acme", true, null, null,
          null));
    }

    assertThat(Files.readAllLines(file)).singleElement()
        .satisfies(line -> assertThat(JSON.readTree(line).get("subject").asText()).isEqualTo(subject));
  }

  @Test
  void aDecisionLineHasTheDocumentedFieldsInOrder() {
    List<String> lines = new ArrayList<>();
    JsonAuditLog.to(lines::add).onEvent(new DecisionEvent(Instant.parse("2026-01-01T00:00:00.123Z"), "POST",
        "/v1/models/iris/predict", "default", "iris", "demo-free", "demo-free", false,
        ReasonCode.AUTHZ_MODEL_FORBIDDEN, Phase.AUTHORIZE, "model-access"));
    assertThat(lines).containsExactly("{\"ts\":\"2026-01-01T00:00:00.123Z\",\"event\":\"decision\",\"outcome\":\"denied\","
        + "\"code\":\"authz.model_forbidden\",\"phase\":\"AUTHORIZE\",\"policy\":\"model-access\",\"chain\":\"default\","
        + "\"model\":\"iris\",\"subject\":\"demo-free\",\"tenant\":\"demo-free\",\"method\":\"POST\","
        + "\"path\":\"/v1/models/iris/predict\"}");
  }

  @Test
  void aDetectionLineWritesScoresAsJacksonDid() {
    List<String> lines = new ArrayList<>();
    JsonAuditLog log = JsonAuditLog.to(lines::add);
    log.onEvent(new ExtractionDetectionEvent(AT, "p:alice", "alice", "acme", "digits", RiskLevel.OBSERVE,
        RiskLevel.PERTURB, List.of("prada", "hashing"), 1.0, 12));
    log.onEvent(new ExtractionDetectionEvent(AT, "p:alice", null, null, "digits", RiskLevel.OBSERVE,
        RiskLevel.BLOCK, List.of("knn"), Double.NaN, 13));
    assertThat(lines).containsExactly(
        "{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"extraction_detection\",\"model\":\"digits\",\"subject\":\"alice\","
            + "\"tenant\":\"acme\",\"client\":\"p:alice\",\"previousLevel\":\"OBSERVE\",\"level\":\"PERTURB\","
            + "\"detectors\":[\"prada\",\"hashing\"],\"score\":1.0,\"query\":12}",
        "{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"extraction_detection\",\"model\":\"digits\","
            + "\"client\":\"p:alice\",\"previousLevel\":\"OBSERVE\",\"level\":\"BLOCK\",\"detectors\":[\"knn\"],"
            + "\"score\":\"NaN\",\"query\":13}");
  }
}
