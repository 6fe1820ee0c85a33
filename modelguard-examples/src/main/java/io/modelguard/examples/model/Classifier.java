package io.modelguard.examples.model;

import java.time.Duration;
import java.util.Objects;

/**
 * A trained, ready-to-serve classifier: a {@link Standardizer} fitted on the training rows in
 * front of a {@link SoftmaxRegression}, together with how it was evaluated. Takes raw features (for
 * the digits, grey levels 0..16). Immutable and thread-safe.
 */
public final class Classifier {
  private final String id;
  private final Standardizer standardizer;
  private final SoftmaxRegression model;
  private final Evaluation evaluation;

  private Classifier(String id, Standardizer standardizer, SoftmaxRegression model, Evaluation evaluation) {
    this.id = id;
    this.standardizer = standardizer;
    this.model = model;
    this.evaluation = evaluation;
  }

  /**
   * How a classifier did on rows it was not trained on.
   *
   * @param trainRows rows it was fitted on
   * @param testRows held-out rows it was measured on
   * @param heldOutAccuracy the fraction of held-out rows classified correctly
   * @param trainingTime how long fitting took
   */
  public record Evaluation(int trainRows, int testRows, double heldOutAccuracy, Duration trainingTime) {}

  /**
   * Splits {@code data} with {@code seed} (stratified, {@code testFraction} held out), fits a
   * standardiser and a softmax regression on the training part, and measures accuracy on the
   * held-out part. The same inputs always give the same model.
   */
  public static Classifier train(String id, Dataset data, double testFraction, SoftmaxRegression.Options options) {
    Objects.requireNonNull(id, "id");
    long start = System.nanoTime();
    Dataset.Split split = data.split(testFraction, options.seed());
    Standardizer standardizer = Standardizer.fit(split.train());
    SoftmaxRegression model = SoftmaxRegression.fit(standardizer.transform(split.train()), options);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    Dataset test = split.test();
    int correct = 0;
    for (int i = 0; i < test.size(); i++) {
      if (model.predict(standardizer.transform(test.rawFeatures()[i])) == test.label(i)) {
        correct++;
      }
    }
    Evaluation evaluation =
        new Evaluation(split.train().size(), test.size(), (double) correct / test.size(), took);
    return new Classifier(id, standardizer, model, evaluation);
  }

  /** The model id, as it appears in {@code /v1/models/{model}/predict}. */
  public String id() {
    return id;
  }

  /** How many raw features one input has. */
  public int featureCount() {
    return model.featureCount();
  }

  /** How many classes the model tells apart. */
  public int classCount() {
    return model.classCount();
  }

  /** The held-out evaluation measured at training time. */
  public Evaluation evaluation() {
    return evaluation;
  }

  /**
   * The class probabilities of raw input {@code features}.
   *
   * @throws IllegalArgumentException if the input has the wrong length
   */
  public double[] predictProba(double[] features) {
    return model.predictProba(standardizer.transform(features));
  }

  /** The accuracy on {@code data} (raw features), for example on a held-out set. */
  public double accuracy(Dataset data) {
    int correct = 0;
    for (int i = 0; i < data.size(); i++) {
      if (SoftmaxRegression.argMax(predictProba(data.rawFeatures()[i])) == data.label(i)) {
        correct++;
      }
    }
    return (double) correct / data.size();
  }
}
