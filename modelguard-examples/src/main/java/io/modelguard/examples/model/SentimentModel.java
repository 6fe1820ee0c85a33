package io.modelguard.examples.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A small text classifier: multinomial naive Bayes over hashed words, trained at start-up on {@code
 * sentiment.tsv} (short English sentences labelled {@code negative} or {@code positive}, written
 * for this project). Text is lower-cased and split into runs of letters, digits and apostrophes;
 * each word is hashed into {@value #BUCKETS} buckets, so the model's size does not depend on the
 * vocabulary. A bucket no training sentence reached is skipped when predicting: smoothing would
 * otherwise give it a likelihood that favours whichever class has fewer words in training, and
 * unseen words would push every answer that way. (Word pairs were tried too: on this small set
 * they fit the training sentences and generalise worse.) Deterministic: the same data and seed
 * give the same model. Immutable and thread-safe.
 */
public final class SentimentModel {
  /** The class names, by label index. */
  public static final List<String> LABELS = List.of("negative", "positive");
  /** How many hash buckets the features fall into. */
  public static final int BUCKETS = 1 << 14;
  /** The additive (Laplace) smoothing of the word counts. */
  static final double ALPHA = 1.0;

  private final String id;
  private final double[] logPrior;
  private final double[][] logLikelihood;
  private final boolean[] seen;
  private final Classifier.Evaluation evaluation;

  private SentimentModel(String id, double[] logPrior, double[][] logLikelihood, boolean[] seen,
      Classifier.Evaluation evaluation) {
    this.id = id;
    this.seen = seen;
    this.logPrior = logPrior;
    this.logLikelihood = logLikelihood;
    this.evaluation = evaluation;
  }

  /**
   * One labelled sentence.
   *
   * @param text the sentence
   * @param label the index of its class in {@link #LABELS}
   * @param group sentences of one group are held out together (a sentence and its counterpart)
   */
  public record Example(String text, int label, int group) {
    /** Validates the example. */
    public Example {
      Objects.requireNonNull(text, "text");
      if (label < 0 || label >= LABELS.size()) {
        throw new IllegalArgumentException("label must be 0.." + (LABELS.size() - 1) + ", was " + label);
      }
    }
  }

  /**
   * Reads {@code label<TAB>text} lines (after a header line) from the resource {@code name} next to
   * the other data sets; the label is a name in {@link #LABELS}. The lines come in pairs, a
   * sentence and its counterpart of the other class written with many of the same words; each
   * pair is one {@link Example#group()}.
   *
   * @throws IllegalStateException if the resource is missing or a line is malformed
   */
  public static List<Example> fromResource(String name) {
    String path = "/io/modelguard/examples/data/" + name;
    InputStream in = SentimentModel.class.getResourceAsStream(path);
    if (in == null) {
      throw new IllegalStateException("data set " + path + " is not on the class path");
    }
    List<Example> examples = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String header = reader.readLine();
      if (header == null || !header.equals("label\ttext")) {
        throw new IllegalStateException(path + ": the header must be 'label<TAB>text'");
      }
      int lineNumber = 1;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        lineNumber++;
        int tab = line.indexOf('\t');
        int label = tab < 0 ? -1 : LABELS.indexOf(line.substring(0, tab));
        if (label < 0 || line.length() == tab + 1) {
          throw new IllegalStateException(path + " line " + lineNumber + ": expected one of " + LABELS
              + ", a tab and a sentence");
        }
        examples.add(new Example(line.substring(tab + 1), label, examples.size() / 2));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(path + ": cannot read", e);
    }
    return examples;
  }

  /**
   * Splits {@code data} with {@code seed} ({@code testFraction} of the groups held out, whole:
   * a held-out sentence never has its counterpart in training, which would otherwise pull it
   * towards the other class through the words they share), fits the model on the training part
   * and measures accuracy on the held-out part.
   *
   * @throws IllegalArgumentException if a class has fewer than two examples
   */
  public static SentimentModel train(String id, List<Example> data, double testFraction, long seed) {
    Objects.requireNonNull(id, "id");
    for (int c = 0; c < LABELS.size(); c++) {
      int label = c;
      if (data.stream().filter(e -> e.label() == label).count() < 2) {
        throw new IllegalArgumentException("class '" + LABELS.get(c) + "' needs at least 2 examples");
      }
    }
    long start = System.nanoTime();
    List<Integer> groups = new ArrayList<>(new TreeSet<>(data.stream().map(Example::group).toList()));
    Collections.shuffle(groups, new Random(seed));
    Set<Integer> heldOut = new HashSet<>(groups.subList(0, Math.max(1, (int) Math.round(groups.size() * testFraction))));
    List<Example> train = new ArrayList<>();
    List<Example> test = new ArrayList<>();
    for (Example e : data) {
      (heldOut.contains(e.group()) ? test : train).add(e);
    }
    double[] classCount = new double[LABELS.size()];
    double[][] counts = new double[LABELS.size()][BUCKETS];
    double[] totals = new double[LABELS.size()];
    for (Example e : train) {
      classCount[e.label()]++;
      for (int bucket : features(e.text())) {
        counts[e.label()][bucket]++;
        totals[e.label()]++;
      }
    }
    boolean[] seen = new boolean[BUCKETS];
    int vocabulary = 0;
    for (int b = 0; b < BUCKETS; b++) {
      for (double[] ofClass : counts) {
        seen[b] |= ofClass[b] > 0;
      }
      vocabulary += seen[b] ? 1 : 0;
    }
    double[] logPrior = new double[LABELS.size()];
    double[][] logLikelihood = new double[LABELS.size()][BUCKETS];
    for (int c = 0; c < LABELS.size(); c++) {
      logPrior[c] = Math.log(classCount[c] / train.size());
      double denominator = Math.log(totals[c] + ALPHA * vocabulary);
      for (int b = 0; b < BUCKETS; b++) {
        logLikelihood[c][b] = Math.log(counts[c][b] + ALPHA) - denominator;
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    SentimentModel untested = new SentimentModel(id, logPrior, logLikelihood, seen, null);
    int correct = 0;
    for (Example e : test) {
      if (untested.predict(e.text()) == e.label()) {
        correct++;
      }
    }
    Classifier.Evaluation evaluation =
        new Classifier.Evaluation(train.size(), test.size(), (double) correct / test.size(), took);
    return new SentimentModel(id, logPrior, logLikelihood, seen, evaluation);
  }

  /** The model id, as it appears in {@code /v1/models/{model}/predict}. */
  public String id() {
    return id;
  }

  /** The held-out evaluation measured at training time. */
  public Classifier.Evaluation evaluation() {
    return evaluation;
  }

  /** The probabilities of {@link #LABELS} for {@code text}; the priors for text without a known word. */
  public double[] predictProba(String text) {
    double[] score = logPrior.clone();
    for (int bucket : features(text)) {
      if (!seen[bucket]) {
        continue;
      }
      for (int c = 0; c < score.length; c++) {
        score[c] += logLikelihood[c][bucket];
      }
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double s : score) {
      max = Math.max(max, s);
    }
    double sum = 0;
    double[] p = new double[score.length];
    for (int c = 0; c < score.length; c++) {
      p[c] = Math.exp(score[c] - max);
      sum += p[c];
    }
    for (int c = 0; c < p.length; c++) {
      p[c] /= sum;
    }
    return p;
  }

  /** The index in {@link #LABELS} of the likelier class of {@code text}. */
  public int predict(String text) {
    return SoftmaxRegression.argMax(predictProba(text));
  }

  /** The hash buckets of the words of {@code text}, one entry per occurrence. */
  static int[] features(String text) {
    List<String> tokens = tokens(text);
    int[] out = new int[tokens.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = bucket(tokens.get(i));
    }
    return out;
  }

  static List<String> tokens(String text) {
    List<String> tokens = new ArrayList<>();
    String lower = text.toLowerCase(Locale.ROOT);
    int start = -1;
    for (int i = 0; i <= lower.length(); i++) {
      boolean word = i < lower.length()
          && (Character.isLetterOrDigit(lower.charAt(i)) || lower.charAt(i) == '\'');
      if (word && start < 0) {
        start = i;
      } else if (!word && start >= 0) {
        tokens.add(lower.substring(start, i));
        start = -1;
      }
    }
    return tokens;
  }

  /** A stable bucket: {@link String#hashCode()} is specified, so buckets do not change between runs. */
  private static int bucket(String feature) {
    int h = feature.hashCode();
    h ^= h >>> 16;
    return h & (BUCKETS - 1);
  }
}
