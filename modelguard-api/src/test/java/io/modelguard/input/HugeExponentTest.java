package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.FailureMode;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Numbers whose exponent no decimal holds ({@code 1e-9999999999}: short enough for the number
 * length limit): a decision like any other bad input, never the parser's exception out of the
 * policy (a 500; before the input policy had to fail closed, with it registered fail-open, every
 * later field left unchecked).
 */
class HugeExponentTest {
  private static final ModelSpec INTEGER_FIELD = ModelSpec.builder("m")
      .field("n", FieldSpec.number().range(-10, 10).integer())
      .field("k", FieldSpec.number().range(0, 1))
      .build();
  private static final TensorSpec X = TensorSpec.builder("x").datatypes(TensorDatatype.FP32, TensorDatatype.INT32)
      .shape(1).build();
  private static final ModelSpec TENSOR = ModelSpec.builder("t").tensor(X).build();

  private static GuardDecision check(ModelSpec spec, String body, FailureMode mode) {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models(spec.id())
        .chain(ModelGuard.DEFAULT_CHAIN, c -> c.policy(Phase.VALIDATE, "input", ModelInputPolicy.of(spec), mode))
        .build();
    return guard.check(TestRequest.json(spec.id(), body));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e-9999999999", "0.0e-2147483649", "1e9999999999", "-1E+9999999999"})
  void anIntegerFieldRefusesItAsOutOfRange(String number) {
    GuardDecision d = check(INTEGER_FIELD, "{\"n\":" + number + ",\"k\":0.5}", FailureMode.CLOSED);

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(ProblemRenderer.render(d).status()).isEqualTo(422);
    assertThat(ProblemRenderer.render(d).bodyAsString()).contains("Field 'n' must be");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0e-9999999999", "1e-9999999999"})
  void theFieldsAfterItAreStillChecked(String number) {
    // Had the policy thrown, this would be internal.error, not k's refusal. (Fail-open, it would have
    // allowed k far out of its range, which is why the input policy can no longer be registered so.)
    GuardDecision d = check(INTEGER_FIELD, "{\"n\":" + number + ",\"k\":999999}", FailureMode.CLOSED);

    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"INT32", "FP32"})
  void anInfiniteTensorElementIsOutOfRange(String datatype) {
    GuardDecision d = check(TENSOR,
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + datatype + "\",\"shape\":[1],\"data\":[1e9999999999]}]}",
        FailureMode.CLOSED);

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(ProblemRenderer.render(d).bodyAsString()).contains("range of " + datatype);
  }

  @ParameterizedTest
  @ValueSource(strings = {"INT32", "FP32"})
  void aTensorElementUnderflowingToZeroIsAFractionOrAFloat(String datatype) {
    GuardDecision d = check(TENSOR,
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + datatype + "\",\"shape\":[1],\"data\":[1e-9999999999]}]}",
        FailureMode.CLOSED);

    if (datatype.equals("FP32")) {
      assertThat(d.isAllowed()).as("a tiny float is a float").isTrue();
    } else {
      assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
      assertThat(ProblemRenderer.render(d).bodyAsString()).contains("must be an integer");
    }
  }
}
