package io.modelguard.test.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.test.FakeRequest;
import org.junit.jupiter.api.Test;

/** The input conformance cases hold for the engine itself, so any adapter that differs is at fault. */
class InputConformanceTest {

  @Test
  void everyCaseGetsItsDocumentedAnswerFromTheEngine() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits", "image-classifier")
        .chain(InputConformance.CHAIN, InputConformance.chain()).build();

    for (InputConformance.Case c : InputConformance.cases()) {
      FakeRequest request = FakeRequest.builder()
          .path(c.path())
          .endpoint(Endpoint.of(c.model(), InputConformance.CHAIN, 1))
          .header("Content-Type", c.contentType())
          .header("Content-Length", Integer.toString(c.body().length))
          .body(c.body())
          .build();

      GuardDecision d = guard.check(request);

      if (c.status() == 200) {
        assertThat(d.isAllowed()).as(c.name()).isTrue();
        continue;
      }
      ProblemResponse p = ProblemRenderer.render(d);
      assertThat(p.status()).as(c.name()).isEqualTo(c.status());
      assertThat(d.reason().orElseThrow().code()).as(c.name()).isEqualTo(c.code());
      assertThat(p.bodyAsString()).as(c.name())
          .contains("\"detail\":\"" + c.detail().replace("\"", "\\\"") + "\"")
          .contains("\"code\":\"" + c.code() + "\"");
    }
  }
}
