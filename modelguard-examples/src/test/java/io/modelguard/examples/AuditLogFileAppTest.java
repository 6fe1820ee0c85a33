package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code --audit-log} file over the real app, whatever an unauthenticated client puts in its path. */
class AuditLogFileAppTest {
  @TempDir
  Path dir;

  @Test
  void aPathWhoseCutSplitsASurrogatePairKeepsTheFileWriting() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withAuditLogFile(file),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      // "/v1/models/" is 11 characters: the emoji's two UTF-16 units sit at 255 and 256, across the
      // audit log's 256-character cut of a path.
      String prefix = "/v1/models/" + "a".repeat(244);
      String path = prefix + "%F0%9F%98%80/predict";
      HttpResponse<String> split = client.post(path, null, "{}");
      assertThat(split.statusCode()).isEqualTo(401);
      HttpResponse<String> later = client.post("/v1/models/digits/predict", null, "{}");
      assertThat(later.statusCode()).isEqualTo(401);

      app.flushAuditLog();
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      assertThat(lines).hasSize(2);
      List<JsonNode> json = new ArrayList<>();
      for (String line : lines) {
        json.add(DemoClient.JSON.readTree(line));
      }
      assertThat(json.get(0).get("path").asText()).startsWith(prefix).hasSizeLessThanOrEqualTo(256);
      assertThat(json.get(1).get("path").asText()).isEqualTo("/v1/models/digits/predict");
    }
  }

  @Test
  void metricsCountTheLinesTheFileWriterLost() throws Exception {
    // /dev/full opens for appending and fails every write: each audit line is lost, and counted.
    Path full = Path.of("/dev/full");
    assumeTrue(Files.isWritable(full), "needs Linux's /dev/full");
    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withAuditLogFile(full),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      assertThat(client.post("/v1/models/digits/predict", null, "{}").statusCode()).isEqualTo(401);

      app.flushAuditLog();
      HttpResponse<String> metrics = client.get("/metrics", null);
      assertThat(metrics.body()).contains("modelguard_demo_audit_lines_lost_total 1.0");
    }
  }

  @Test
  void aPathWithLineSeparatorsC1AndBidiControlsIsOneLineWithNoneOfThemRaw() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withAuditLogFile(file),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      // U+2028, NEL (U+0085), RLO (U+202E) and CSI (U+009B), percent-encoded: the container decodes them.
      HttpResponse<String> refused = client.post("/v1/models/x%E2%80%A8y%C2%85z%E2%80%AEw%C2%9B/predict", null, "{}");
      assertThat(refused.statusCode()).isEqualTo(401);

      app.flushAuditLog();
      String text = Files.readString(file, StandardCharsets.UTF_8);
      assertThat(text.chars()).noneMatch(c -> c == 0x2028 || c == 0x85 || c == 0x202e || c == 0x9b);
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      assertThat(lines).hasSize(1);
      assertThat(DemoClient.JSON.readTree(lines.get(0)).get("path").asText())
          .isEqualTo("/v1/models/x\u2028y\u0085z\u202ew\u009b/predict");
    }
  }
}
