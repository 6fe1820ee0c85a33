package io.modelguard.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.modelguard.LogCapture;
import io.modelguard.extraction.RiskLevel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The extraction detection event: what it must carry, and how the audit log writes it. */
class ExtractionDetectionEventTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

  private static ExtractionDetectionEvent event(RiskLevel from, RiskLevel to) {
    return new ExtractionDetectionEvent(AT, "p:alice", "alice", "acme", "digits", from, to, List.of("prada", "coverage"), 3.25, 120);
  }

  @Test
  void escalatedOnlyWhenTheLevelRises() {
    assertThat(event(RiskLevel.OBSERVE, RiskLevel.MISINFORM).escalated()).isTrue();
    assertThat(event(RiskLevel.MISINFORM, RiskLevel.MISINFORM).escalated()).isFalse();
  }

  @Test
  void requiresTheClientTheLevelsAndAtLeastOneDetector() {
    assertThatNullPointerException().isThrownBy(
        () -> new ExtractionDetectionEvent(AT, null, null, null, null, RiskLevel.OBSERVE, RiskLevel.PERTURB, List.of("prada"), 1, 1));
    assertThatNullPointerException().isThrownBy(
        () -> new ExtractionDetectionEvent(AT, "a:1", null, null, null, null, RiskLevel.PERTURB, List.of("prada"), 1, 1));
    assertThatIllegalArgumentException().isThrownBy(
        () -> new ExtractionDetectionEvent(AT, "a:1", null, null, null, RiskLevel.OBSERVE, RiskLevel.PERTURB, List.of(), 1, 1));
  }

  @Test
  void detectorsAreCopiedSoTheEventStaysImmutable() {
    List<String> names = new ArrayList<>(List.of("hashing"));
    ExtractionDetectionEvent e = new ExtractionDetectionEvent(AT, "a:1", null, null, null, RiskLevel.OBSERVE, RiskLevel.PERTURB, names, 2, 7);
    names.add("prada");
    assertThat(e.detectors()).containsExactly("hashing");
  }

  @Test
  void auditLogWarnsOnEscalationAndInformsOtherwise() {
    Logger logger = new LoggerContext().getLogger(Slf4jAuditListener.LOGGER_NAME);
    try (LogCapture lines = LogCapture.of(logger, Level.DEBUG)) {
      Slf4jAuditListener audit = new Slf4jAuditListener(logger);

      audit.onEvent(event(RiskLevel.PERTURB, RiskLevel.MISINFORM));
      audit.onEvent(event(RiskLevel.MISINFORM, RiskLevel.MISINFORM));
      audit.onEvent(new ExtractionDetectionEvent(AT, "a:10.0.0.1\nforged", null, null, null, RiskLevel.OBSERVE, RiskLevel.PERTURB, List.of("hashing"), 2, 7));

      assertThat(lines.events()).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO, Level.WARN);
      assertThat(lines.messages().get(0)).isEqualTo(
          "extraction detectors=prada,coverage level=MISINFORM previous=PERTURB score=3.25 query=120 model=digits client=p:alice subject=alice tenant=acme");
      assertThat(lines.messages().get(2)).contains("client=a:10.0.0.1?forged subject=- tenant=-").doesNotContain("\n");
    }
  }
}
