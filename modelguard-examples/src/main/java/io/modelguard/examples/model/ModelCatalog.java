package io.modelguard.examples.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The demo's models, trained at start-up from the CSV files shipped in the jar:
 *
 * <ul>
 *   <li>{@value #DIGITS}: 8×8 handwritten digits, input {@code pixels} (64 grey levels 0..16), 10
 *       classes;
 *   <li>{@value #IRIS}: Fisher's iris flowers, input {@code features} (sepal length, sepal width,
 *       petal length, petal width in cm), 3 classes (setosa, versicolor, virginica).
 * </ul>
 *
 * Both use a fixed stratified 80/20 split and fixed training seeds, so every start-up trains the
 * same models. Immutable and thread-safe.
 */
public final class ModelCatalog {
  /** The digit classifier's id. */
  public static final String DIGITS = "digits";
  /** The iris classifier's id. */
  public static final String IRIS = "iris";
  /** The ids of the demo models, known before training (configuration is validated against them). */
  public static final Set<String> MODEL_IDS = Collections.unmodifiableSet(new LinkedHashSet<>(List.of(DIGITS, IRIS)));
  /** The fraction of each data set held out for evaluation. */
  public static final double TEST_FRACTION = 0.2;
  /** The seed of every split and training run. */
  public static final long SEED = 42L;

  private final Map<String, ServedModel> models;

  private ModelCatalog(Map<String, ServedModel> models) {
    this.models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
  }

  /**
   * A model as the server exposes it.
   *
   * @param classifier the trained model
   * @param input the JSON input it accepts
   * @param example a valid input (the first row of its data set), for documentation and demos
   */
  public record ServedModel(Classifier classifier, InputSpec input, double[] example) {
    /** Checks that the parts fit together. */
    public ServedModel {
      Objects.requireNonNull(classifier, "classifier");
      Objects.requireNonNull(input, "input");
      if (input.length() != classifier.featureCount() || example.length != input.length()) {
        throw new IllegalArgumentException("input spec of " + classifier.id() + " does not match the model");
      }
      example = example.clone();
    }

    /** The model id. */
    public String id() {
      return classifier.id();
    }

    /** A copy of the example input. */
    @Override
    public double[] example() {
      return example.clone();
    }
  }

  /** Trains both demo models (a fraction of a second on a small machine). */
  public static ModelCatalog trainDemoModels() {
    Dataset digits = Dataset.fromResource(DIGITS, "digits.csv");
    Dataset iris = Dataset.fromResource(IRIS, "iris.csv");
    Map<String, ServedModel> models = new LinkedHashMap<>();
    models.put(DIGITS, new ServedModel(
        Classifier.train(DIGITS, digits, TEST_FRACTION, SoftmaxRegression.Options.defaults(SEED)),
        new InputSpec("pixels", 64, 0, 16, "8x8 grey levels, row by row"),
        digits.features(0)));
    models.put(IRIS, new ServedModel(
        Classifier.train(IRIS, iris, TEST_FRACTION, new SoftmaxRegression.Options(300, 8, 0.3, 0.01, 1e-4, SEED)),
        new InputSpec("features", 4, 0, 100, "sepal length, sepal width, petal length, petal width in cm"),
        iris.features(0)));
    return new ModelCatalog(models);
  }

  /** The model called {@code id}, if there is one. */
  public Optional<ServedModel> get(String id) {
    return Optional.ofNullable(models.get(id));
  }

  /** The model ids, in a stable order. */
  public Set<String> ids() {
    return models.keySet();
  }

  /** Every model by id. */
  public Map<String, ServedModel> all() {
    return models;
  }
}
