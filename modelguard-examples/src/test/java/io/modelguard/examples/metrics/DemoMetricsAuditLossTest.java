package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.FunctionCounter;
import io.modelguard.event.DecisionEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lines the --audit-log file writer loses are a meter, as the log's dropped lines are. */
class DemoMetricsAuditLossTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private final DemoMetrics metrics = new DemoMetrics(Set.of("digits"), Set.of("acme"), Set.of("burst"));

  private static DecisionEvent decision(String subject) {
    return new DecisionEvent(AT, "GET", "/v1/models", "catalog", null, subject, "acme", true, null, null, null);
  }

  private FunctionCounter lost() {
    return metrics.registry().find(DemoMetrics.AUDIT_LINES_LOST).functionCounter();
  }

  @Test
  void aFileTheWriterCannotWriteShowsItsLostLines() throws Exception {
    // Linux's /dev/full opens for appending and fails every write with "No space left on device".
    Path full = Path.of("/dev/full");
    assumeTrue(Files.isWritable(full), "needs /dev/full");
    try (JsonAuditLog audit = JsonAuditLog.toFile(full)) {
      assertThat(metrics.countLostAuditLines(audit)).isTrue();
      audit.onEvent(decision("alice"));
      audit.onEvent(decision("bob"));
      audit.flush();

      assertThat(lost()).as("registered").isNotNull();
      assertThat(lost().count()).as("both lines lost to the full disk").isEqualTo(2.0);
      assertThat(metrics.scrape()).contains("modelguard_demo_audit_lines_lost_total 2.0");
    }
  }

  @Test
  void aFileWrittenWellShowsNoneLost() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (JsonAuditLog audit = JsonAuditLog.toFile(file)) {
      assertThat(metrics.countLostAuditLines(audit)).isTrue();
      audit.onEvent(decision("alice"));
      audit.flush();

      assertThat(Files.readAllLines(file)).hasSize(1);
      assertThat(lost().count()).isZero();
    }
  }

  @Test
  void anAuditLogThroughTheLoggerRegistersNoCounter() {
    assertThat(metrics.countLostAuditLines(JsonAuditLog.toLogger())).isFalse();
    assertThat(lost()).isNull();
  }
}
