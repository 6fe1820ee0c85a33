package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import org.junit.jupiter.api.Test;

/** A registered model without an input specification is the operator's mistake: said once, in the log. */
class InputSpecWarningTest {

  @Test
  void aRegisteredModelWithoutASpecIsWarnedAboutOnceAndAnUnregisteredOneNever() {
    // A misspelled spec ("digit") is refused at build(); a registered model left out is only seen at run time.
    ModelInputPolicy inputs = ModelInputPolicy.of(
        ModelSpec.builder("iris").field("features", FieldSpec.numbers(4)).build()); // no spec for "digits"
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits", "iris")
        .chain("default", c -> c.policy(Phase.VALIDATE, "input", inputs)).build();
    try (LogCapture logs = LogCapture.all()) {
      for (int i = 0; i < 3; i++) {
        GuardDecision d = guard.check(FakeRequest.builder().model("digits").jsonBody("{\"pixels\":[]}").build());
        assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
      }
      guard.check(FakeRequest.builder().model("resnet").jsonBody("{}").build());

      assertThat(logs.lines()).filteredOn(l -> l.contains("has no input specification"))
          .singleElement().asString().contains("WARN").contains("'digits'").contains("forModels");
    }
  }
}
