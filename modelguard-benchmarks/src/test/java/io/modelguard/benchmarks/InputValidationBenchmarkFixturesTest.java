package io.modelguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import org.junit.jupiter.api.Test;

/**
 * Checks that every {@link InputValidationBenchmark} method, run once on the state JMH builds, takes
 * the path its name claims: the valid inputs are allowed, the out-of-range one refused, and the
 * non-ASCII prompt really holds characters outside ASCII (else it would measure the ASCII shortcut).
 * Times nothing.
 */
class InputValidationBenchmarkFixturesTest {
  private final InputValidationBenchmark benchmark = new InputValidationBenchmark();
  private final InputValidationBenchmark.Inputs inputs = new InputValidationBenchmark.Inputs();

  @Test
  void validInputsAreAllowed() {
    assertThat(benchmark.digitsPolicy(inputs).isAllowed()).isTrue();
    assertThat(benchmark.digitsThroughEngine(inputs).isAllowed()).isTrue();
    assertThat(benchmark.irisTensorPolicy(inputs).isAllowed()).isTrue();
    assertThat(benchmark.promptPolicy(inputs).isAllowed()).isTrue();
    assertThat(benchmark.promptNonAsciiPolicy(inputs).isAllowed()).isTrue();
  }

  @Test
  void theNonAsciiPromptLeavesAsciiAndTheAsciiOneDoesNot() {
    assertThat(InputValidationBenchmark.PROMPT_NON_ASCII_JSON.chars()).anyMatch(c -> c >= 0x80);
    assertThat(InputValidationBenchmark.PROMPT_JSON.chars()).allMatch(c -> c < 0x80);
  }

  @Test
  void theOutOfRangeDigitsAreRefused() {
    GuardDecision d = benchmark.digitsOutOfRangeRefused(inputs);

    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
  }
}
