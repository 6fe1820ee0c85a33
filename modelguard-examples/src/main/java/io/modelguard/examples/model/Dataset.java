package io.modelguard.examples.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * A small labelled data set held in memory: one row of numeric features per example and an
 * integer class label in {@code 0..classCount-1}. Immutable: accessors return copies.
 *
 * <p>The CSV form is the one shipped under {@code /io/modelguard/examples/data/}: a header line,
 * numeric feature columns, and a last column named {@code label}.
 */
public final class Dataset {
  private final String name;
  private final List<String> featureNames;
  private final double[][] features;
  private final int[] labels;
  private final int classCount;

  private Dataset(String name, List<String> featureNames, double[][] features, int[] labels, int classCount) {
    this.name = name;
    this.featureNames = List.copyOf(featureNames);
    this.features = features;
    this.labels = labels;
    this.classCount = classCount;
  }

  /**
   * Reads a data set from the class path resource {@code /io/modelguard/examples/data/<file>}.
   *
   * @throws IllegalStateException if the resource is missing or malformed (the message names the
   *     line)
   */
  public static Dataset fromResource(String name, String file) {
    String path = "/io/modelguard/examples/data/" + file;
    try (InputStream in = Dataset.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("data set resource " + path + " is missing from the class path");
      }
      return fromCsv(name, in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read data set resource " + path, e);
    }
  }

  /**
   * Reads a data set from CSV: a header line, numeric features, and an integer {@code label} as
   * the last column. The stream is not closed.
   *
   * @throws IllegalStateException naming the line if the CSV is malformed
   * @throws IOException if reading fails
   */
  public static Dataset fromCsv(String name, InputStream in) throws IOException {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String header = reader.readLine();
    if (header == null) {
      throw new IllegalStateException(name + ": the CSV is empty");
    }
    String[] columns = header.trim().split(",");
    if (columns.length < 2 || !columns[columns.length - 1].trim().equals("label")) {
      throw new IllegalStateException(name + ": the last CSV column must be 'label'");
    }
    int width = columns.length - 1;
    List<String> featureNames = new ArrayList<>(width);
    for (int i = 0; i < width; i++) {
      featureNames.add(columns[i].trim());
    }
    List<double[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int maxLabel = -1;
    int lineNo = 1;
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String[] cells = line.trim().split(",");
      if (cells.length != columns.length) {
        throw new IllegalStateException(
            name + ": line " + lineNo + " has " + cells.length + " columns, expected " + columns.length);
      }
      double[] row = new double[width];
      try {
        for (int i = 0; i < width; i++) {
          row[i] = Double.parseDouble(cells[i].trim());
        }
        int label = Integer.parseInt(cells[width].trim());
        if (label < 0) {
          throw new IllegalStateException(name + ": line " + lineNo + " has a negative label");
        }
        maxLabel = Math.max(maxLabel, label);
        labels.add(label);
      } catch (NumberFormatException e) {
        throw new IllegalStateException(name + ": line " + lineNo + " has a non-numeric cell", e);
      }
      rows.add(row);
    }
    if (rows.isEmpty()) {
      throw new IllegalStateException(name + ": the CSV has no data rows");
    }
    return new Dataset(name, featureNames, rows.toArray(new double[0][]),
        labels.stream().mapToInt(Integer::intValue).toArray(), maxLabel + 1);
  }

  /**
   * A data set from arrays (copied).
   *
   * @throws IllegalArgumentException if the shapes disagree or a label is out of range
   */
  public static Dataset of(String name, double[][] features, int[] labels, int classCount) {
    Objects.requireNonNull(name, "name");
    if (features.length != labels.length || features.length == 0) {
      throw new IllegalArgumentException("features and labels must be non-empty and of equal length");
    }
    int width = features[0].length;
    double[][] x = new double[features.length][];
    for (int i = 0; i < features.length; i++) {
      if (features[i].length != width) {
        throw new IllegalArgumentException("row " + i + " has " + features[i].length + " features, expected " + width);
      }
      if (labels[i] < 0 || labels[i] >= classCount) {
        throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " is outside 0.." + (classCount - 1));
      }
      x[i] = features[i].clone();
    }
    List<String> names = new ArrayList<>(width);
    for (int i = 0; i < width; i++) {
      names.add("x" + i);
    }
    return new Dataset(name, names, x, labels.clone(), classCount);
  }

  /**
   * A reproducible, stratified split: within each class the rows are shuffled with {@code seed}
   * and the first {@code round(n * testFraction)} go to the test part, so both parts keep the class
   * balance and the same seed always yields the same split.
   *
   * @throws IllegalArgumentException if {@code testFraction} is not strictly between 0 and 1
   */
  public Split split(double testFraction, long seed) {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new IllegalArgumentException("testFraction must be in (0, 1), was " + testFraction);
    }
    Random random = new Random(seed);
    List<Integer> train = new ArrayList<>();
    List<Integer> test = new ArrayList<>();
    for (int c = 0; c < classCount; c++) {
      List<Integer> members = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == c) {
          members.add(i);
        }
      }
      shuffle(members, random);
      int testCount = (int) Math.round(members.size() * testFraction);
      test.addAll(members.subList(0, testCount));
      train.addAll(members.subList(testCount, members.size()));
    }
    shuffle(train, random);
    shuffle(test, random);
    return new Split(subset(name + "/train", train), subset(name + "/test", test));
  }

  private static void shuffle(List<Integer> list, Random random) {
    // Fisher-Yates with java.util.Random: its sequence is specified, so splits match across JDKs.
    for (int i = list.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Integer t = list.get(i);
      list.set(i, list.get(j));
      list.set(j, t);
    }
  }

  private Dataset subset(String subsetName, List<Integer> rows) {
    double[][] x = new double[rows.size()][];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      x[i] = features[rows.get(i)];
      y[i] = labels[rows.get(i)];
    }
    return new Dataset(subsetName, featureNames, x, y, classCount);
  }

  /** The data set's name, for logs. */
  public String name() {
    return name;
  }

  /** The feature column names, in order. */
  public List<String> featureNames() {
    return featureNames;
  }

  /** The number of rows. */
  public int size() {
    return labels.length;
  }

  /** The number of features per row. */
  public int featureCount() {
    return featureNames.size();
  }

  /** The number of classes (largest label + 1). */
  public int classCount() {
    return classCount;
  }

  /** A copy of row {@code i}'s features. */
  public double[] features(int i) {
    return features[i].clone();
  }

  /** The label of row {@code i}. */
  public int label(int i) {
    return labels[i];
  }

  /** A copy of every row's features. */
  public double[][] features() {
    double[][] copy = new double[features.length][];
    for (int i = 0; i < features.length; i++) {
      copy[i] = features[i].clone();
    }
    return copy;
  }

  /** A copy of the labels. */
  public int[] labels() {
    return labels.clone();
  }

  @Override
  public String toString() {
    return "Dataset[" + name + ", rows=" + size() + ", features=" + featureCount() + ", classes=" + classCount + "]";
  }

  /**
   * The two parts of a {@link #split}.
   *
   * @param train the rows to fit on
   * @param test the held-out rows to measure accuracy on
   */
  public record Split(Dataset train, Dataset test) {}

  /** Package-private view without copying, for training loops. */
  double[][] rawFeatures() {
    return features;
  }

  /** Package-private view without copying, for training loops. */
  int[] rawLabels() {
    return labels;
  }
}
