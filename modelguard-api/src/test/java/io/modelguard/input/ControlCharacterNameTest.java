package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A field name holding a C0 control character (escaped, as JSON requires) is refused wherever it
 * appears, even where unknown fields are skipped: a server in C or C++ may read {@code pixels}, NUL,
 * {@code x} as {@code pixels} and take the unchecked value for the checked field.
 */
class ControlCharacterNameTest {
  private static final String DETAIL = "The input contains a field name with a control character.";
  private static final ModelSpec LENIENT_DIGITS = ModelSpec.builder("digits")
      .field("pixels", FieldSpec.numbers(4).range(0, 16))
      .rejectUnknownFields(false)
      .build();
  private static final ModelSpec LENIENT_V2 = ModelSpec.builder("v2")
      .tensor(TensorSpec.builder("x").datatypes(TensorDatatype.FP32).shape(1).range(0, 1).build())
      .rejectUnknownFields(false)
      .build();
  private static final String TENSOR = "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}";

  private static GuardDecision check(ModelSpec spec, String json) {
    return ModelInputPolicy.of(spec).check(TestRequest.json(spec.id(), json));
  }

  private static String escaped(int c) {
    return String.format("\\u%04x", c);
  }

  @Test
  void anUnknownTopLevelFieldNamedLikeAKnownOneButForANulIsRefusedNotSkipped() {
    String smuggled = "{\"pixels\":[1,2,3,4],\"pixels\\u0000x\":[99999,-1,1e300,\"cmd\"]}";

    GuardDecision d = check(LENIENT_DIGITS, smuggled);

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(d.detail()).hasValue(DETAIL);
    String problem = ProblemRenderer.render(d).bodyAsString();
    assertThat(problem).doesNotContain("\u0000").doesNotContain("\\u0000").contains("\"status\":422");
  }

  @Test
  void everyC0ControlCharacterIsRefusedAndTheDetailNeverRepeatsIt() {
    for (int c = 0; c < 0x20; c++) {
      String json = "{\"pixels\":[1,2,3,4],\"pix" + escaped(c) + "els\":1}";

      GuardDecision d = check(LENIENT_DIGITS, json);

      assertThat(d.reason()).as(escaped(c)).contains(ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).as(escaped(c)).hasValue(DETAIL);
    }
    assertThat(check(LENIENT_DIGITS, "{\"pixels\":[1,2,3,4],\"caf\\u00e9 \\u007f\":1}").isAllowed())
        .as("other characters are names like any").isTrue();
  }

  @Test
  void aNameIsRefusedInsideASkippedValueToo() {
    assertThat(check(LENIENT_DIGITS, "{\"pixels\":[1,2,3,4],\"meta\":[{\"a\":{\"b\\u0000\":1}}]}").detail())
        .hasValue(DETAIL);
  }

  @Test
  void aNameIsRefusedInEveryPartOfATensorRequest() {
    for (String json : List.of(
        "{\"inputs\":[" + TENSOR + "],\"inputs\\u0000\":[]}",
        "{\"inputs\":[" + TENSOR.replace("}", ",\"data\\u0000x\":[1e30]}") + "]}",
        "{\"inputs\":[" + TENSOR.replace("}", ",\"parameters\":{\"content_type\\u0000\":\"np\"}}") + "]}",
        "{\"inputs\":[" + TENSOR + "],\"parameters\":{\"priority\\u001f\":1}}",
        "{\"inputs\":[" + TENSOR + "],\"outputs\":[{\"name\\t\":\"y\"}]}")) {
      GuardDecision d = check(LENIENT_V2, json);

      assertThat(d.reason()).as(json).contains(ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).as(json).hasValue(DETAIL);
    }
    assertThat(check(LENIENT_V2, "{\"inputs\":[" + TENSOR + "],\"extra\":1}").isAllowed()).isTrue();
  }

  @Test
  void anUnescapedControlCharacterIsNotJsonAtAll() {
    byte[] raw = "{\"pixels\":[1,2,3,4],\"pixels\u0000\":1}".getBytes(StandardCharsets.UTF_8);

    GuardDecision d = ModelInputPolicy.of(LENIENT_DIGITS).check(TestRequest.bytes("digits", "application/json", raw));

    assertThat(d.reason()).contains(ReasonCode.INPUT_MALFORMED);
  }
}
