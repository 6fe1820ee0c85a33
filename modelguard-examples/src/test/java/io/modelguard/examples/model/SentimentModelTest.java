package io.modelguard.examples.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The sentiment model trained on the shipped sentences, as the demo trains it. */
class SentimentModelTest {
  private static final List<SentimentModel.Example> DATA = SentimentModel.fromResource("sentiment.tsv");
  private static final SentimentModel MODEL =
      SentimentModel.train("sentiment", DATA, ModelCatalog.TEST_FRACTION, ModelCatalog.SEED);

  @Test
  void shipsAFewHundredBalancedSentences() {
    long positive = DATA.stream().filter(e -> e.label() == 1).count();
    assertThat(DATA).hasSizeGreaterThanOrEqualTo(400);
    assertThat(positive).isBetween(DATA.size() / 2L - 10, DATA.size() / 2L + 10);
    assertThat(DATA).extracting(SentimentModel.Example::text).doesNotHaveDuplicates();
  }

  @Test
  void classifiesHeldOutSentencesWell() {
    Classifier.Evaluation e = MODEL.evaluation();
    assertThat(e.trainRows() + e.testRows()).isEqualTo(DATA.size());
    assertThat(e.testRows()).isBetween(70, 100);
    // The held-out sentences never share a pair with a training sentence, and most of their words
    // are new: 0.75 with the demo's seed, 0.82 on average over seeds 0..19.
    assertThat(e.heldOutAccuracy()).isGreaterThanOrEqualTo(0.7);
  }

  @Test
  void trainingIsDeterministic() {
    SentimentModel again = SentimentModel.train("sentiment", DATA, ModelCatalog.TEST_FRACTION, ModelCatalog.SEED);
    String text = "The room was clean but the staff were rude";
    assertThat(again.predictProba(text)).containsExactly(MODEL.predictProba(text));
    assertThat(again.evaluation().heldOutAccuracy()).isEqualTo(MODEL.evaluation().heldOutAccuracy());
  }

  @Test
  void tellsPlainlyPositiveFromPlainlyNegativeSentencesItNeverSaw() {
    assertThat(MODEL.predict("What a wonderful and friendly little shop")).isEqualTo(1);
    assertThat(MODEL.predict("Delicious food and excellent service")).isEqualTo(1);
    assertThat(MODEL.predict("A dreadful, boring and useless evening")).isEqualTo(0);
    assertThat(MODEL.predict("The staff were rude and the food was cold")).isEqualTo(0);
  }

  @Test
  void probabilitiesAreADistributionEvenForTextWithoutWords() {
    for (String text : List.of("", "!!! ???", "great", "x".repeat(ModelCatalog.TEXT_MAX_LENGTH))) {
      double[] p = MODEL.predictProba(text);
      assertThat(p).hasSize(2);
      assertThat(p[0] + p[1]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(p[0]).isBetween(0.0, 1.0);
    }
  }

  @Test
  void tokensAreLowerCaseWordsHashedIntoBuckets() {
    assertThat(SentimentModel.tokens("Don't STOP, me-now!")).containsExactly("don't", "stop", "me", "now");
    assertThat(SentimentModel.features("a b c")).hasSize(3);
    assertThat(SentimentModel.features("")).isEmpty();
    for (int bucket : SentimentModel.features("one two three")) {
      assertThat(bucket).isBetween(0, SentimentModel.BUCKETS - 1);
    }
  }

  @Test
  void aHeldOutSentenceNeverHasItsCounterpartInTraining() {
    // Pairs share a group; a split by example would put about a fifth of the counterparts of
    // held-out sentences into training.
    assertThat(DATA.get(0).group()).isEqualTo(DATA.get(1).group());
    assertThat(DATA.get(0).label()).isNotEqualTo(DATA.get(1).label());
    assertThat(DATA.get(2).group()).isNotEqualTo(DATA.get(1).group());
  }

  @Test
  void refusesAClassWithoutExamples() {
    List<SentimentModel.Example> onlyPositive = DATA.stream().filter(e -> e.label() == 1).toList();
    assertThatThrownBy(() -> SentimentModel.train("s", onlyPositive, 0.2, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
  }
}
