package io.modelguard.extraction;

/**
 * A model's answer to one query: the class probabilities and the index of the predicted label.
 * The array is the caller's; treat it as read-only.
 */
public record Prediction(double[] probabilities, int label) {

  /**
   * A prediction whose label is the argmax of {@code probabilities}.
   *
   * @param probabilities the model's probabilities, at least one; not copied
   * @return the prediction
   */
  public static Prediction of(double[] probabilities) {
    return new Prediction(probabilities, Perturbation.argmax(probabilities));
  }
}
