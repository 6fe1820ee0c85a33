package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.DigitsRequest;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An adversarial review of the extraction defence's output side: what a client of a cut or noised
 * tier can make the model's exact answer, or fresh noise on one answer, come back with.
 */
class ExtractionOutputReviewTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final int CAP = 64;
  private static final String ANSWER = "{\"label\":1,\"probabilities\":[0.1,0.7,0.2]}";

  private static ModelGuard guard(ExtractionDefence defence, String tier) {
    return ExtractionChains.guard(defence, tier, CAP);
  }

  private static ExtractionDefence defence() {
    return ExtractionDefence.builder(KEYS, 3)
        .tierPerturbation("free", Perturbation.classLabel())
        .tierPerturbation("noisy", Perturbation.gaussianNoise(0.2))
        .build();
  }

  private static String answer(ModelGuard guard, String body, int status) {
    DigitsRequest request = new DigitsRequest(body);
    return guard.onResponse(request, guard.check(request), status, ModelOutput.json(ANSWER)).bodyAsString();
  }

  /**
   * The engine passes error answers through the output policies because they can carry a
   * prediction (a 422's partial scores, a 500's debug body). The perturbation let such an answer
   * through as the model wrote it whenever the request's input could not be read, so a free-tier
   * client padding its query past the cap got the exact probabilities of any error answer.
   */
  @Test
  void anErrorAnswerCarryingAPredictionIsWithheldWhenTheQueryCannotBeRead() {
    ModelGuard guard = guard(defence(), "free");
    assertThat(answer(guard, "{\"x\":[4,2,9]}", 422)).isEqualTo("{\"label\":1,\"probabilities\":[0.0,1.0,0.0]}");

    String padded = "{\"x\":[4,2,9]}" + " ".repeat(CAP);
    for (int status : new int[] {422, 500}) {
      assertThatThrownBy(() -> answer(guard, padded, status)).isInstanceOf(GuardFailureException.class);
    }
    // An error answer with no prediction in it still passes: there is nothing to protect.
    DigitsRequest request = new DigitsRequest(padded);
    ModelOutput problem = ModelOutput.json("{\"error\":\"bad input\"}");
    assertThat(guard.onResponse(request, guard.check(request), 400, problem)).isSameAs(problem);
  }

  /**
   * The noise is keyed by the features the encoder reads. A body that is not one JSON document, or
   * that names the features twice, can be read otherwise by the model (a parser that keeps the first
   * of repeated members, a server answering every document of a stream): each junk spelling then
   * keyed fresh noise on one and the same answer, and averaging those answers gave back the exact
   * probabilities (and the detectors saw junk). Such a body is not read, so the answer is withheld.
   */
  @Test
  void aBodyWhoseFeaturesAreAmbiguousKeysNoNoiseAndIsWithheld() {
    ModelGuard guard = guard(defence(), "noisy");
    Set<String> answers = new HashSet<>();
    for (String body : List.of("{\"x\":[4,2,9]}", "{\"x\":[4.0, 2e0, 9]}", " {\"y\":1, \"x\" : [4,2,9] }\n")) {
      answers.add(answer(guard, body, 200));
    }
    assertThat(answers).as("spellings of one input get one noise").hasSize(1);

    for (String junk : List.of("[1,1,1]", "[5,5,5]")) {
      for (String body : List.of(
          "{\"x\":[4,2,9],\"x\":" + junk + "}",
          "{\"x\":[4,2,9],\"pad\":{\"x\":1,\"x\":2}}",
          "{\"x\":" + junk + "}{\"x\":[4,2,9]}",
          "{\"x\":" + junk + "} trailing")) {
        assertThatThrownBy(() -> answer(guard, body, 200)).as(body).isInstanceOf(GuardFailureException.class);
      }
    }
  }

  @Test
  void theJsonNumbersEncoderReadsOnlyOneUnambiguousDocument() {
    QueryEncoder pixels = QueryEncoder.jsonNumbers("/pixels");
    assertThat(pixels.encode(bytes("{\"pixels\":[1,2]}\n"))).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2));
    assertThat(pixels.encode(bytes("{\"pixels\":[1,2],\"pixels\":[3,4]}"))).isEmpty();
    assertThat(pixels.encode(bytes("{\"pixels\":[1,2]}{\"pixels\":[3,4]}"))).isEmpty();
    assertThat(pixels.encode(bytes("{\"pixels\":[1,2]} 7"))).isEmpty();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
