package io.modelguard.extraction;

/**
 * The detector SPI: a factory of per-client state that sees each (features, prediction) pair a
 * client obtains, in order, and says whether this query looks like extraction. {@link
 * ExtractionDefence} keeps one state per client and detector and folds the flags into the client's
 * risk. Detector instances must be thread-safe; a state is only used under its client's lock.
 * {@link ExtractionDefence} gives one client's state features of one length only, each a number
 * within float range (it refuses other queries); a state used on its own should skip such inputs
 * rather than fail or let them into its statistics, as the built-in detectors do.
 */
public interface ExtractionDetector {

  /**
   * A short stable name, used in events and metrics (for example {@code prada}).
   *
   * @return the name, the same for every instance of the detector
   */
  String name();

  /**
   * Fresh state for a new client.
   *
   * @return a new, empty state
   */
  State newState();

  /**
   * An upper bound of the bytes one client's state can ever retain for inputs of {@code
   * dimensions} features, however long its history. {@link ExtractionDefence} weighs each client
   * by the sum of these bounds to keep total memory under its limit.
   *
   * @param dimensions the number of features of each input, at least 1
   * @return the bound in bytes
   */
  long maxRetainedBytes(int dimensions);

  /** One client's state for this detector. Its memory and per-query cost must be bounded. */
  interface State {

    /**
     * Records one query and returns true if it flags the client.
     *
     * @param features the query's input features, of the client's input length
     * @param prediction the model's true answer to it
     * @return true if the query flags the client
     */
    boolean observe(double[] features, Prediction prediction);

    /**
     * An upper bound of the bytes this state retains, for sizing.
     *
     * @return the bound in bytes
     */
    long retainedBytes();
  }
}
