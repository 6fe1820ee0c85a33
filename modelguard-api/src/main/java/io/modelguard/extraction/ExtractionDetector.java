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

  /** A short stable name, used in events and metrics (for example {@code prada}). */
  String name();

  /** Fresh state for a new client. */
  State newState();

  /**
   * An upper bound of the bytes one client's state can ever retain for inputs of {@code
   * dimensions} features, however long its history. {@link ExtractionDefence} weighs each client
   * by the sum of these bounds to keep total memory under its limit.
   */
  long maxRetainedBytes(int dimensions);

  /** One client's state for this detector. Its memory and per-query cost must be bounded. */
  interface State {

    /** Records one query and returns true if it flags the client. */
    boolean observe(double[] features, Prediction prediction);

    /** An upper bound of the bytes this state retains, for sizing. */
    long retainedBytes();
  }
}
