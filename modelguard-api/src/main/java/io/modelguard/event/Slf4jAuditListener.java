package io.modelguard.event;

import io.modelguard.internal.LogText;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one audit line per decision to the SLF4J logger {@code io.modelguard.audit}: denials at
 * INFO, allowed requests at DEBUG; extraction detections at WARN when they raise the client's risk
 * level, else at INFO. Lines carry the outcome, reason, chain, model, subject and tenant
 * — never a credential — and a denial's {@linkplain DecisionEvent#operatorNote() operator note},
 * if it has one, right after its code ({@code code=input.fetch_failed
 * operatorNote=ssrf_refused:DENIED_ADDRESS}: a host name refused for resolving to an internal
 * address, which the client is told does not resolve). Request-controlled text is stripped of
 * control characters so a path cannot forge log lines, and a value holding a space, {@code =},
 * {@code "} or {@code \\} is written quoted (logfmt: {@code path="/a b"}, with {@code \"} and
 * {@code \\} escaped) so it cannot add or override a field either.
 */
public final class Slf4jAuditListener implements GuardListener {
  /** The logger name. */
  public static final String LOGGER_NAME = "io.modelguard.audit";

  private final Logger log;

  /** Logs to {@value #LOGGER_NAME}. */
  public Slf4jAuditListener() {
    this(LoggerFactory.getLogger(LOGGER_NAME));
  }

  /**
   * Logs to {@code logger}.
   *
   * @param logger the logger the audit lines go to
   */
  public Slf4jAuditListener(Logger logger) {
    this.log = logger;
  }

  @Override
  public void onEvent(GuardEvent event) {
    if (event instanceof DecisionEvent) {
      DecisionEvent d = (DecisionEvent) event;
      if (d.allowed()) {
        if (log.isDebugEnabled()) {
          log.debug(
              "decision=allow chain={} model={} subject={} tenant={} method={} path={}",
              d.chain(), orDash(d.model()), orDash(d.subject()), orDash(d.tenant()),
              clean(d.method()), clean(d.path()));
        }
      } else if (log.isInfoEnabled()) {
        // The note, when there is one, next to the code it explains: "input.fetch_failed" alone
        // would pass an SSRF attempt off as a flaky upstream.
        String note = d.operatorNote() == null ? "" : " operatorNote=" + clean(d.operatorNote());
        log.info(
            "decision=deny code={}{} phase={} policy={} chain={} model={} subject={} tenant={} method={} "
                + "path={}",
            d.reason().code(), note, d.phase() == null ? "-" : d.phase(), orDash(d.policy()), d.chain(),
            orDash(d.model()), orDash(d.subject()), orDash(d.tenant()), clean(d.method()), clean(d.path()));
      }
    } else if (event instanceof ExtractionDetectionEvent) {
      ExtractionDetectionEvent x = (ExtractionDetectionEvent) event;
      if (x.escalated() ? log.isWarnEnabled() : log.isInfoEnabled()) {
        String line = "extraction detectors={} level={} previous={} score={} query={} model={} client={} subject={} tenant={}";
        Object[] args = {String.join(",", x.detectors()), x.level(), x.previousLevel(), String.format(Locale.ROOT, "%.2f", x.score()),
            x.query(), orDash(x.model()), clean(x.client()), orDash(x.subject()), orDash(x.tenant())};
        if (x.escalated()) {
          log.warn(line, args);
        } else {
          log.info(line, args);
        }
      }
    } else if (event instanceof PolicyFailureEvent) {
      PolicyFailureEvent f = (PolicyFailureEvent) event;
      log.warn("policy-failure chain={} policy={} exception={} failedOpen={}",
          f.chain(), f.policy(), f.exceptionType(), f.failedOpen());
    }
  }

  private static String orDash(String s) {
    return s == null ? "-" : clean(s);
  }

  static String clean(String s) {
    if (s == null) {
      return "-";
    }
    String line = LogText.oneLine(s, 256);
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == ' ' || c == '=' || c == '"' || c == '\\') {
        return '"' + line.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
      }
    }
    return line.isEmpty() ? "\"\"" : line;
  }
}
