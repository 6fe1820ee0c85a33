package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What the engine writes to the log when a policy or listener throws, as Logback's own encoder
 * prints it: the exception's message may quote the client, and must not start a line of its own.
 */
class PolicyFailureLogTest {
  /** A client's header value, as a careless policy quotes it in its exception. */
  private static final String FORGED = "abc\r\nERROR io.modelguard.ModelGuard - admin logged in\u0085"
      + "ERROR forged NEL\u2028ERROR forged LS\u202eRLO";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ModelGuard.class);
  private final OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
  private Level previous;

  @BeforeEach
  void captureTheEnginesLogAsText() {
    LoggerContext context = logger.getLoggerContext();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%level %logger - %msg%n");
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    previous = logger.getLevel();
    logger.setLevel(Level.WARN);
    logger.addAppender(appender);
  }

  @AfterEach
  void detach() {
    logger.detachAppender(appender);
    appender.stop();
    logger.setLevel(previous);
  }

  /** The lines written so far, split where any reader of the log might split them. */
  private List<String> lines() {
    return List.of(out.toString(StandardCharsets.UTF_8).split("\r\n|[\r\n\u0085\u2028\u2029]"));
  }

  /** Each line is the engine's own, or a line of a stack trace: an exception's own line, or a frame's. */
  private void assertNoForgedLine() {
    assertThat(lines()).isNotEmpty().allSatisfy(line -> assertThat(line).matches(
        "(ERROR|WARN) io\\.modelguard\\.ModelGuard - ModelGuard: .*|(io\\.modelguard\\.internal\\.EscapedThrowable: )?java\\.lang\\.\\w+: .*|\tat .*|Caused by: .*|\t\\.\\.\\. \\d+ .*"
            + "|\tSuppressed: .*|\t\tat .*|\t\t\\.\\.\\. \\d+ .*"));
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("\u202e");
  }

  @Test
  void aPolicyExceptionQuotingTheClientCannotStartALogLine() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "careless", ctx -> {
          throw new IllegalArgumentException("bad header " + FORGED,
              new IllegalStateException("cause " + FORGED));
        }))
        .build();

    assertThat(guard.check(EngineFailureReviewTest.request()).reason()).contains(ReasonCode.INTERNAL_ERROR);

    assertNoForgedLine();
    String log = out.toString(StandardCharsets.UTF_8);
    // Still a useful report: the policy, the exception, its escaped message, its frames and its cause.
    assertThat(log)
        .contains("ERROR io.modelguard.ModelGuard - ModelGuard: policy 'careless' in chain 'default' failed")
        .contains("java.lang.IllegalArgumentException: bad header abc??ERROR io.modelguard.ModelGuard - admin logged")
        .contains("Caused by: ", "java.lang.IllegalStateException: cause abc??ERROR")
        .contains("\tat io.modelguard.PolicyFailureLogTest.");
  }

  @Test
  void aListenerExceptionQuotingTheClientCannotStartALogLine() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .listener(e -> {
          RuntimeException failure = new RuntimeException("listener " + FORGED);
          failure.addSuppressed(new IllegalStateException("suppressed " + FORGED));
          throw failure;
        })
        .chain("default", c -> c.policy(Phase.VALIDATE, "ok", ctx -> GuardDecision.allow()))
        .build();

    assertThat(guard.check(EngineFailureReviewTest.request()).isAllowed()).isTrue();

    assertNoForgedLine();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("java.lang.RuntimeException: listener abc??ERROR")
        .contains("\tSuppressed: ", "java.lang.IllegalStateException: suppressed abc??ERROR");
  }

  @Test
  void aPolicyExceptionWithNothingToEscapeIsLoggedWithItsOwnClass() {
    // Structured encoders and error trackers group by the exception's class: a stand-in only
    // where escaping is needed.
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "broken", ctx -> {
          throw new IllegalStateException("pool exhausted", new ArithmeticException("/ by zero"));
        }))
        .build();

    assertThat(guard.check(EngineFailureReviewTest.request()).reason()).contains(ReasonCode.INTERNAL_ERROR);

    assertNoForgedLine();
    assertThat(lines()).contains("java.lang.IllegalStateException: pool exhausted",
        "Caused by: java.lang.ArithmeticException: / by zero");
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("EscapedThrowable");
  }
}
