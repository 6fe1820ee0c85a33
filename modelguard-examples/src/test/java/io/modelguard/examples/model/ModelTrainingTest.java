package io.modelguard.examples.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo models are real: trained from the shipped data, deterministic, and accurate. */
class ModelTrainingTest {
  private static ModelCatalog catalog;
  private static Duration trainingTime;

  @BeforeAll
  static void train() {
    long start = System.nanoTime();
    catalog = ModelCatalog.trainDemoModels();
    trainingTime = Duration.ofNanos(System.nanoTime() - start);
  }

  @Test
  void digitsReachAtLeast93PercentOnHeldOutRows() {
    Classifier digits = catalog.get(ModelCatalog.DIGITS).orElseThrow().classifier();
    Dataset.Split split = Dataset.fromResource("digits", "digits.csv").split(ModelCatalog.TEST_FRACTION, ModelCatalog.SEED);

    // Re-measured independently on the same held-out rows, not just the number the model reports.
    assertThat(digits.accuracy(split.test())).isGreaterThanOrEqualTo(0.93);
    assertThat(digits.evaluation().heldOutAccuracy()).isEqualTo(digits.accuracy(split.test()));
    assertThat(digits.evaluation().testRows()).isEqualTo(split.test().size()).isEqualTo(359);
    assertThat(digits.featureCount()).isEqualTo(64);
    assertThat(digits.classCount()).isEqualTo(10);
  }

  @Test
  void irisIsLearnedFarAboveChance() {
    Classifier iris = catalog.get(ModelCatalog.IRIS).orElseThrow().classifier();

    assertThat(iris.evaluation().heldOutAccuracy()).isGreaterThanOrEqualTo(0.85);
    assertThat(iris.featureCount()).isEqualTo(4);
    assertThat(iris.classCount()).isEqualTo(3);
  }

  @Test
  void trainingBothModelsTakesWellUnderFiveSeconds() {
    assertThat(trainingTime).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void trainingIsDeterministic() {
    ModelCatalog again = ModelCatalog.trainDemoModels();
    for (String id : catalog.all().keySet()) {
      ModelCatalog.ServedModel a = catalog.get(id).orElseThrow();
      ModelCatalog.ServedModel b = again.get(id).orElseThrow();
      assertThat(b.classifier().predictProba(b.example())).containsExactly(a.classifier().predictProba(a.example()));
      assertThat(b.classifier().evaluation().heldOutAccuracy()).isEqualTo(a.classifier().evaluation().heldOutAccuracy());
    }
  }

  @Test
  void probabilitiesAreADistribution() {
    Classifier digits = catalog.get(ModelCatalog.DIGITS).orElseThrow().classifier();
    double[] p = digits.predictProba(new double[64]);

    assertThat(p).hasSize(10);
    assertThat(java.util.Arrays.stream(p).sum()).isCloseTo(1.0, within(1e-9));
    assertThat(java.util.Arrays.stream(p).allMatch(v -> v >= 0 && v <= 1)).isTrue();
  }

  @Test
  void rejectsInputsOfTheWrongLength() {
    Classifier iris = catalog.get(ModelCatalog.IRIS).orElseThrow().classifier();

    assertThatThrownBy(() -> iris.predictProba(new double[5])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void splitIsStratifiedAndReproducible() {
    Dataset iris = Dataset.fromResource("iris", "iris.csv");
    Dataset.Split a = iris.split(0.2, 1);
    Dataset.Split b = iris.split(0.2, 1);

    assertThat(a.train().size() + a.test().size()).isEqualTo(150);
    assertThat(a.test().size()).isEqualTo(30);
    int[] perClass = new int[3];
    for (int i = 0; i < a.test().size(); i++) {
      perClass[a.test().label(i)]++;
    }
    assertThat(perClass).containsExactly(10, 10, 10);
    for (int i = 0; i < a.test().size(); i++) {
      assertThat(a.test().features(i)).containsExactly(b.test().features(i));
    }
    assertThat(iris.split(0.2, 2).test().features(0)).isNotEqualTo(a.test().features(0));
  }

  @Test
  void standardizerLeavesConstantFeaturesAtZero() {
    Dataset data = Dataset.of("const", new double[][] {{0, 1}, {0, 3}}, new int[] {0, 1}, 2);
    Standardizer s = Standardizer.fit(data);

    assertThat(s.transform(new double[] {0, 2})).containsExactly(0.0, 0.0);
    assertThat(s.transform(new double[] {0, 3})).containsExactly(0.0, 1.0);
  }

  @Test
  void readsTheShippedDataSets() {
    Dataset digits = Dataset.fromResource("digits", "digits.csv");

    assertThat(digits.size()).isEqualTo(1797);
    assertThat(digits.featureCount()).isEqualTo(64);
    assertThat(digits.classCount()).isEqualTo(10);
    assertThat(digits.featureNames().get(0)).isEqualTo("p0");
  }
}
