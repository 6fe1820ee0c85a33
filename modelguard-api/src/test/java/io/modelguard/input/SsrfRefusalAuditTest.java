package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.Slf4jAuditListener;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A host name refused for resolving to an internal address is answered to the client as a name
 * that does not resolve; the operator's channels, the {@link DecisionEvent} and the audit line,
 * tell the two apart by the decision's operator note, which the client never sees.
 */
class SsrfRefusalAuditTest {
  private static final ModelSpec IMAGE_MODEL = InternalNameOracleTest.IMAGE_MODEL;
  private static WireMockServer redirector;

  private final FakeResolver resolver = new FakeResolver()
      .map("jenkins.corp.internal", "10.0.0.5")
      .map("public.example", "93.184.216.34");
  private final List<DecisionEvent> events = new CopyOnWriteArrayList<>();
  private Logger auditLogger;
  private LogCapture audit;

  @BeforeAll
  static void startRedirector() {
    redirector = InternalNameOracleTest.redirector();
  }

  @AfterAll
  static void stopRedirector() {
    redirector.stop();
  }

  @BeforeEach
  void captureAudit() {
    auditLogger = new LoggerContext().getLogger(Slf4jAuditListener.LOGGER_NAME);
    audit = LogCapture.of(auditLogger, Level.INFO);
  }

  @AfterEach
  void release() {
    audit.close();
  }

  /** A guard whose only policies authenticate tenant acme and validate the image URL through {@code fetcher}. */
  private ModelGuard guard(SafeUrlFetcher fetcher) {
    return ModelGuard.builder().auditLog(false).models("image-classifier")
        .listener(e -> {
          if (e instanceof DecisionEvent d) {
            events.add(d);
          }
        })
        .listener(new Slf4jAuditListener(auditLogger))
        .chain(ModelGuard.DEFAULT_CHAIN, c -> c
            .policy(Phase.AUTHENTICATE, "tenant",
                ctx -> GuardDecision.authenticated(Principal.builder("svc").tenant("acme").build()))
            .policy(Phase.VALIDATE, "input", ModelInputPolicy.builder().model(IMAGE_MODEL).fetcher(fetcher).build()))
        .build();
  }

  private SafeUrlFetcher fetcher() {
    return SafeUrlFetcher.builder().resolver(resolver).connector(new RecordingConnector(redirector.port()))
        .allowInternalEndpoint("127.0.0.1", redirector.port()).minUnresolvableTime(Duration.ZERO).build();
  }

  private static GuardDecision ask(ModelGuard guard, String url) {
    return guard.check(TestRequest.json("image-classifier", "{\"imageUrl\":\"" + url + "\"}"));
  }

  private static void assertSameProblem(GuardDecision a, GuardDecision b) {
    ProblemResponse pa = ProblemRenderer.render(a);
    ProblemResponse pb = ProblemRenderer.render(b);
    assertThat(pa.status()).isEqualTo(502).isEqualTo(pb.status());
    assertThat(pa.headers()).isEqualTo(pb.headers());
    assertThat(pa.body()).isEqualTo(pb.body());
  }

  @Test
  void anInternalNameIsAnUnresolvableOneToTheClientAndAnSsrfRefusalToTheAudit() {
    ModelGuard guard = guard(fetcher());

    GuardDecision unknown = ask(guard, "http://nope.corp.internal/cat.png");
    GuardDecision internal = ask(guard, "http://jenkins.corp.internal/cat.png");

    assertSameProblem(internal, unknown);
    assertThat(events).hasSize(2);
    assertThat(events.get(0).reason()).isEqualTo(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(events.get(0).operatorNote()).as("a name that does not resolve is no SSRF attempt").isNull();
    assertThat(events.get(1).reason()).isEqualTo(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(events.get(1).operatorNote()).isEqualTo("ssrf_refused:DENIED_ADDRESS");
    assertThat(events.get(1).tenant()).isEqualTo("acme");
    List<String> lines = audit.messagesAt(Level.INFO);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("decision=deny code=input.fetch_failed phase=VALIDATE ")
        .doesNotContain("operatorNote").doesNotContain("ssrf");
    assertThat(lines.get(1))
        .startsWith("decision=deny code=input.fetch_failed operatorNote=ssrf_refused:DENIED_ADDRESS phase=VALIDATE ");
  }

  @Test
  void aRedirectToAnInternalNameIsNotedToo() {
    ModelGuard guard = guard(fetcher());
    String base = "http://127.0.0.1:" + redirector.port();

    GuardDecision unknown = ask(guard, base + "/to-unknown-name");
    GuardDecision internal = ask(guard, base + "/to-internal-name");

    assertSameProblem(internal, unknown);
    assertThat(events).extracting(DecisionEvent::operatorNote).containsExactly(null, "ssrf_refused:DENIED_ADDRESS");
  }

  @Test
  void aPortAllowedOnlyForAnInternalEndpointIsNotedAsSuch() {
    SafeUrlFetcher exempt = SafeUrlFetcher.builder().resolver(resolver).connector(new RecordingConnector(8080))
        .allowInternalEndpoint("10.0.0.9", 8080).minUnresolvableTime(Duration.ZERO).build();
    ModelGuard guard = guard(exempt);

    GuardDecision unknown = ask(guard, "http://nope.corp.internal:8080/cat.png");
    GuardDecision publicName = ask(guard, "http://public.example:8080/cat.png");

    assertSameProblem(publicName, unknown);
    assertThat(events).extracting(DecisionEvent::operatorNote).containsExactly(null, "ssrf_refused:PORT_NOT_ALLOWED");
    assertThat(audit.messagesAt(Level.INFO).get(1)).contains(" operatorNote=ssrf_refused:PORT_NOT_ALLOWED ");
  }

  @Test
  void refusalsTheClientIsToldOfCarryNoNote() {
    // Their reason code, input.url_blocked, already says it to client and operator alike.
    ModelGuard guard = guard(fetcher());

    assertThat(ask(guard, "http://10.0.0.5/cat.png").reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(ask(guard, "http://localhost/cat.png").reason()).contains(ReasonCode.INPUT_URL_BLOCKED);

    assertThat(events).extracting(DecisionEvent::operatorNote).containsExactly(null, null);
  }
}
