package io.modelguard.benchmarks;

import io.modelguard.GuardDecision;
import io.modelguard.benchmarks.ExtractionModels.Digits;
import io.modelguard.benchmarks.ExtractionModels.Mlp;
import io.modelguard.benchmarks.ExtractionModels.Model;
import io.modelguard.benchmarks.ExtractionModels.Softmax;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.KeyedRandom;
import io.modelguard.extraction.KnnDetector;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.NoiseSource;
import io.modelguard.extraction.Perturbation;
import io.modelguard.test.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The extraction evaluation of {@code extraction.md}, on the digits data, in one JVM with no
 * downloads: two victims (softmax regression, 64-32-10 MLP), benign clients with and without ~10 %
 * exact retries, the attack families (equation solving at d+1 and 10·d queries, retraining on soft
 * and hard labels of uniform points, JBDA-style augmentation, natural-data knockoff, adversarial
 * search, averaging of repeats) against several defence settings, and one table per victim.
 *
 * <pre>
 * mvn -B -o package -pl modelguard-benchmarks -am -DskipTests
 * java -cp modelguard-benchmarks/target/benchmarks.jar io.modelguard.benchmarks.ExtractionEvaluation
 * </pre>
 *
 * Optional argument: attackers per family (default 10). Deterministic: fixed seeds throughout.
 */
public final class ExtractionEvaluation {
  static final int D = 64;
  static final int BENIGN_CLIENTS = 50;
  static final int BENIGN_QUERIES = 250;
  static final double SUCCESS = 0.85;
  static final int JBDA_SEEDS = Integer.getInteger("jbda.seeds", 50);
  static final int JBDA_ROUNDS = Integer.getInteger("jbda.rounds", 3);
  static final double JBDA_LAMBDA = Double.parseDouble(System.getProperty("jbda.lambda", "1.0"));

  private final double[][] trainX;
  private final int[] trainY;
  private final double[][] evalX;
  private final int[] evalY;
  private final double[][] benignPool;
  private final int[] benignY;
  private final double[][] attackerPool;
  private final double[][] uniform;
  private final int attackers;

  private ExtractionEvaluation(Digits digits, int attackers) {
    this.attackers = attackers;
    int n = digits.x().length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random random = new Random(42);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    trainX = rows(digits.x(), order, 0, 800);
    trainY = labels(digits.y(), order, 0, 800);
    evalX = rows(digits.x(), order, 800, 1100);
    evalY = labels(digits.y(), order, 800, 1100);
    benignPool = rows(digits.x(), order, 1100, 1500);
    benignY = labels(digits.y(), order, 1100, 1500);
    attackerPool = rows(digits.x(), order, 1500, n);
    uniform = new double[1000][];
    Random u = new Random(7);
    for (int i = 0; i < uniform.length; i++) {
      uniform[i] = uniformPoint(u);
    }
  }

  /** Runs the evaluation and prints one table per victim. */
  public static void main(String[] args) {
    int attackers = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    ExtractionEvaluation e = new ExtractionEvaluation(Digits.load(), attackers);
    e.run();
  }

  private void run() {
    List<double[]> xs = new ArrayList<>();
    List<double[]> ts = new ArrayList<>();
    for (int i = 0; i < trainX.length; i++) {
      xs.add(trainX[i]);
      ts.add(oneHot(trainY[i]));
    }
    Model softmax = Softmax.train(xs, ts, 500, 1.0, 1e-4);
    Model mlp = Mlp.train(trainX, trainY, 32, 40, 0.05, 3);
    double knnThreshold = calibrateKnn();
    System.out.printf(Locale.ROOT, "k-NN threshold (0.1th percentile of benign train streams, k=20, buffer 200, margin 0.5): %.3f%n%n",
        knnThreshold);
    System.out.printf(Locale.ROOT, "Memory per client, default detectors, after 10,000 queries: %,d bytes at 64 dimensions, %,d bytes at 784%n%n",
        retainedBytesPerClient(64), retainedBytesPerClient(784));
    evaluate("softmax regression", softmax, knnThreshold);
    evaluate("MLP 64-32-10", mlp, knnThreshold);
  }

  // ---------------------------------------------------------------- defence settings

  /** One client's view of a defended model: null when denied. */
  interface Defence {
    double[] query(String client, double[] x, double[] p);

    boolean flagged(String client);

    /** The detector that flagged {@code client} first, or null. */
    default String flaggedBy(String client) {
      return null;
    }
  }

  private List<Map.Entry<String, Supplier<Defence>>> settings(double knnThreshold) {
    byte[] secret = new byte[32];
    new Random(11).nextBytes(secret);
    NoiseKeys keys = NoiseKeys.withSecret(secret);
    List<Map.Entry<String, Supplier<Defence>>> out = new ArrayList<>();
    out.add(Map.entry("none", () -> fixed((c, x, p) -> p)));
    out.add(Map.entry("label only", () -> fixed((c, x, p) -> Perturbation.classLabel().apply(p, keys.source(c, x)))));
    out.add(Map.entry("rounding 2dp", () -> fixed((c, x, p) -> Perturbation.rounding(2).apply(p, keys.source(c, x)))));
    out.add(Map.entry("reverse sigmoid", () -> fixed((c, x, p) -> Perturbation.reverseSigmoid(1, 0.1).apply(p, keys.source(c, x)))));
    out.add(Map.entry("keyed noise 0.2", () -> fixed((c, x, p) -> Perturbation.gaussianNoise(0.2).apply(p, keys.source(c, x)))));
    Random fresh = new Random(5);
    out.add(Map.entry("fresh noise 0.2 (anti-pattern)", () -> fixed((c, x, p) -> {
      long seed = fresh.nextLong();
      NoiseSource source = new NoiseSource() {
        @Override
        public KeyedRandom perQuery() {
          return new KeyedRandom(seed);
        }

        @Override
        public KeyedRandom perClient() {
          return new KeyedRandom(seed);
        }
      };
      return Perturbation.gaussianNoise(0.2).apply(p, source);
    })));
    out.add(Map.entry("PRADA only", () -> graduated(keys, null, io.modelguard.extraction.PradaDetector.builder(ExtractionModels.CLASSES).build())));
    out.add(Map.entry("hashing only", () -> graduated(keys, null, io.modelguard.extraction.HashingDetector.of(2.0, 8, 20, 18, 200))));
    out.add(Map.entry("default graduated", () -> graduated(keys, null, null)));
    out.add(Map.entry("default + k-NN", () -> graduated(keys, KnnDetector.of(20, 200, knnThreshold), null)));
    return out;
  }

  interface Answer {
    double[] apply(String client, double[] x, double[] p);
  }

  private static Defence fixed(Answer answer) {
    return new Defence() {
      @Override
      public double[] query(String client, double[] x, double[] p) {
        return answer.apply(client, x, p);
      }

      @Override
      public boolean flagged(String client) {
        return false;
      }
    };
  }

  private static Defence graduated(NoiseKeys keys, KnnDetector knn, io.modelguard.extraction.ExtractionDetector only) {
    FakeClock clock = FakeClock.standard();
    Map<String, String> flagged = new HashMap<>();
    ExtractionDefence.Builder b = ExtractionDefence.builder(keys, ExtractionModels.CLASSES)
        .clock(clock)
        .listener(e -> {
          if (!"coverage".equals(e.detector())) {
            flagged.putIfAbsent(e.client(), e.detector());
          }
        });
    if (only != null) {
      b.detector(only, 2);
    } else if (knn != null) {
      // Adding any detector replaces the default set, so it is spelled out here, plus k-NN.
      b.detector(io.modelguard.extraction.PradaDetector.builder(ExtractionModels.CLASSES).build(), 2)
          .detector(io.modelguard.extraction.HashingDetector.of(2.0, 8, 20, 18, 200), 2)
          .detector(io.modelguard.extraction.CoverageMonitor.of(1_000, 0.2), 1.25, io.modelguard.extraction.RiskLevel.PERTURB)
          .detector(knn, 2);
    }
    ExtractionDefence defence = b.build();
    return new Defence() {
      @Override
      public double[] query(String client, double[] x, double[] p) {
        clock.advance(Duration.ofSeconds(1));
        GuardDecision admitted = defence.admit(client);
        if (!admitted.isAllowed()) {
          return null;
        }
        return defence.answer(client, null, x, p);
      }

      @Override
      public boolean flagged(String client) {
        return flagged.containsKey(client);
      }

      @Override
      public String flaggedBy(String client) {
        return flagged.get(client);
      }
    };
  }

  /** A client's oracle: counts queries and notes when the defence first flagged it. */
  static final class Oracle {
    final Defence defence;
    final Model victim;
    final String client;
    int sent;
    int firstFlag = -1;

    Oracle(Defence defence, Model victim, String client) {
      this.defence = defence;
      this.victim = victim;
      this.client = client;
    }

    double[] query(double[] x) {
      sent++;
      double[] p = defence.query(client, x, victim.predict(x));
      if (firstFlag < 0 && defence.flagged(client)) {
        firstFlag = sent;
      }
      return p;
    }
  }

  // ---------------------------------------------------------------- evaluation

  private void evaluate(String victimName, Model victim, double knnThreshold) {
    System.out.printf(Locale.ROOT, "## Victim: %s (test accuracy %.3f)%n%n", victimName, accuracy(victim));
    System.out.println("| traffic / attack | defence | detected (by) | queries to first flag, median (max) | fidelity (eval) | fidelity (uniform) | successful (≥ 0.85) | benign FP | benign top-1 acc | mean L1 distortion |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    String[] attacks = {
      "equation solving d+1", "equation solving 10d", "retrain soft (uniform)", "retrain hard (uniform)",
      "JBDA-style", "natural data (knockoff)", "adversarial search", "averaging 10 repeats (soft retrain)"
    };
    Map<String, int[]> jbdaSuccess = new HashMap<>();
    Map<String, Double> fidelityBy = new HashMap<>();
    String only = System.getProperty("settings");
    for (Map.Entry<String, Supplier<Defence>> setting : settings(knnThreshold)) {
      if (only != null && !Arrays.asList(only.split(",")).contains(setting.getKey())) {
        continue;
      }
      Defence defence = setting.getValue().get();
      benignRow("benign", victim, defence, setting.getKey(), false);
      benignRow("benign + 10 % retries", victim, defence, setting.getKey(), true);
      for (String attack : attacks) {
        int detected = 0;
        List<Integer> flagAt = new ArrayList<>();
        Map<String, Integer> by = new java.util.TreeMap<>();
        double fidEval = 0;
        double fidUniform = 0;
        int successful = 0;
        boolean hasSurrogate = true;
        for (int a = 0; a < attackers; a++) {
          Oracle oracle = new Oracle(defence, victim, attack + "#" + a);
          // Attacker a draws the same uniform points in every family, so rows compare like with like.
          Random random = new Random(1000L * a);
          Model surrogate = attack(attack, oracle, random);
          if (oracle.firstFlag >= 0) {
            detected++;
            flagAt.add(oracle.firstFlag);
            by.merge(String.valueOf(defence.flaggedBy(oracle.client)), 1, Integer::sum);
          }
          if (surrogate == null) {
            hasSurrogate = false;
            continue;
          }
          double fe = fidelity(victim, surrogate, evalX);
          fidEval += fe;
          fidUniform += fidelity(victim, surrogate, uniform);
          if (fe >= SUCCESS) {
            successful++;
          }
        }
        fidelityBy.put(attack + "|" + setting.getKey(), fidEval / attackers);
        if (attack.equals("JBDA-style")) {
          jbdaSuccess.put(setting.getKey(), new int[] {successful, detected});
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %d/%d%s | %s | %s | %s | %s | | | |%n",
            attack, setting.getKey(), detected, attackers, by.isEmpty() ? "" : " " + by, median(flagAt),
            hasSurrogate ? String.format(Locale.ROOT, "%.3f", fidEval / attackers) : "–",
            hasSurrogate ? String.format(Locale.ROOT, "%.3f", fidUniform / attackers) : "–",
            hasSurrogate ? successful + "/" + attackers : "–");
      }
    }
    int[] undefended = jbdaSuccess.getOrDefault("none", new int[2]);
    int[] defended = jbdaSuccess.getOrDefault("default graduated", new int[2]);
    System.out.printf(Locale.ROOT, "%nJBDA-style successful extractions: %d/%d undefended → %d/%d under the default graduated response (%s fewer)%n%n",
        undefended[0], attackers, defended[0], attackers,
        undefended[0] == 0 ? "n/a" : String.format(Locale.ROOT, "%.0f %%", 100.0 * (undefended[0] - defended[0]) / undefended[0]));
    for (String noise : new String[] {"keyed noise 0.2", "fresh noise 0.2 (anti-pattern)"}) {
      Double once = fidelityBy.get("retrain soft (uniform)|" + noise);
      Double averaged = fidelityBy.get("averaging 10 repeats (soft retrain)|" + noise);
      if (once != null && averaged != null) {
        System.out.printf(Locale.ROOT, "%s: soft retraining on 640 uniform points, one pass %.3f → averaging 10 repeats %.3f%n", noise, once, averaged);
      }
    }
    System.out.println();
  }

  private void benignRow(String name, Model victim, Defence defence, String setting, boolean retries) {
    int flagged = 0;
    int correct = 0;
    int undefendedCorrect = 0;
    int answered = 0;
    double l1 = 0;
    for (int c = 0; c < BENIGN_CLIENTS; c++) {
      Oracle oracle = new Oracle(defence, victim, name + "#" + c);
      Random random = new Random(31L * c + (retries ? 1 : 0));
      int[] order = shuffled(benignPool.length, random);
      for (int q = 0; q < BENIGN_QUERIES; q++) {
        int i = order[q];
        int repeats = retries && random.nextDouble() < 0.1 ? 2 : 1;
        for (int r = 0; r < repeats; r++) {
          double[] p = victim.predict(benignPool[i]);
          double[] answer = oracle.query(benignPool[i]);
          if (r > 0) {
            continue;
          }
          undefendedCorrect += ExtractionModels.argmax(p) == benignY[i] ? 1 : 0;
          if (answer != null) {
            answered++;
            correct += ExtractionModels.argmax(answer) == benignY[i] ? 1 : 0;
            for (int k = 0; k < p.length; k++) {
              l1 += Math.abs(answer[k] - p[k]);
            }
          }
        }
      }
      if (oracle.firstFlag >= 0) {
        flagged++;
      }
    }
    int total = BENIGN_CLIENTS * BENIGN_QUERIES;
    System.out.printf(Locale.ROOT, "| %s | %s | | | | | | %d/%d | %.4f (undefended %.4f) | %.4f |%n",
        name, setting, flagged, BENIGN_CLIENTS, (double) correct / total, (double) undefendedCorrect / total,
        answered == 0 ? 0 : l1 / answered);
  }

  // ---------------------------------------------------------------- attacks

  private Model attack(String name, Oracle oracle, Random random) {
    switch (name) {
      case "equation solving d+1":
        return equationSolving(oracle, uniformPoints(D + 1, random));
      case "equation solving 10d":
        return equationSolving(oracle, uniformPoints(10 * D, random));
      case "retrain soft (uniform)":
        return retrain(oracle, uniformPoints(10 * D, random), true);
      case "retrain hard (uniform)":
        return retrain(oracle, uniformPoints(10 * D, random), false);
      case "JBDA-style":
        return jbda(oracle, random);
      case "natural data (knockoff)": {
        int[] order = shuffled(attackerPool.length, random);
        List<double[]> xs = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
          xs.add(attackerPool[order[i]]);
        }
        return retrain(oracle, xs, true);
      }
      case "adversarial search":
        adversarialSearch(oracle, random);
        return null;
      case "averaging 10 repeats (soft retrain)":
        return averaging(oracle, uniformPoints(10 * D, random), 10);
      default:
        throw new IllegalArgumentException(name);
    }
  }

  /** Solves log(p_c / p_0) = Δw_c·x + Δb_c by least squares; exact for softmax with d+1 points. */
  private static Model equationSolving(Oracle oracle, List<double[]> points) {
    List<double[]> xs = new ArrayList<>();
    List<double[]> ps = new ArrayList<>();
    for (double[] x : points) {
      double[] p = oracle.query(x);
      if (p != null) {
        xs.add(x);
        ps.add(p);
      }
    }
    return solve(xs, ps);
  }

  private static Model averaging(Oracle oracle, List<double[]> points, int repeats) {
    List<double[]> xs = new ArrayList<>();
    List<double[]> ps = new ArrayList<>();
    for (double[] x : points) {
      double[] sum = new double[ExtractionModels.CLASSES];
      int got = 0;
      for (int r = 0; r < repeats; r++) {
        double[] p = oracle.query(x);
        if (p != null) {
          got++;
          for (int k = 0; k < sum.length; k++) {
            sum[k] += p[k];
          }
        }
      }
      if (got > 0) {
        for (int k = 0; k < sum.length; k++) {
          sum[k] /= got;
        }
        xs.add(x);
        ps.add(sum);
      }
    }
    return xs.isEmpty()
        ? new Softmax(new double[ExtractionModels.CLASSES][D], new double[ExtractionModels.CLASSES])
        : Softmax.train(xs, ps, 200, 1.0, 1e-4);
  }

  private static Model solve(List<double[]> xs, List<double[]> ps) {
    int n = xs.size();
    if (n == 0) {
      return new Softmax(new double[ExtractionModels.CLASSES][D], new double[ExtractionModels.CLASSES]);
    }
    double[][] a = new double[n][D + 1];
    double[][] b = new double[n][ExtractionModels.CLASSES];
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < D; i++) {
        a[r][i] = xs.get(r)[i] / ExtractionModels.PIXEL_MAX;
      }
      a[r][D] = 1;
      double[] p = ps.get(r);
      double base = Math.log(Math.max(p[0], Double.MIN_NORMAL));
      for (int c = 0; c < ExtractionModels.CLASSES; c++) {
        b[r][c] = Math.log(Math.max(p[c], Double.MIN_NORMAL)) - base;
      }
    }
    double[][] sol = ExtractionModels.leastSquares(a, b, 1e-9);
    double[][] w = new double[ExtractionModels.CLASSES][D];
    double[] bias = new double[ExtractionModels.CLASSES];
    for (int c = 0; c < ExtractionModels.CLASSES; c++) {
      for (int i = 0; i < D; i++) {
        w[c][i] = sol[i][c];
      }
      bias[c] = sol[D][c];
    }
    return new Softmax(w, bias);
  }

  private static Model retrain(Oracle oracle, List<double[]> points, boolean soft) {
    List<double[]> xs = new ArrayList<>();
    List<double[]> ts = new ArrayList<>();
    for (double[] x : points) {
      double[] p = oracle.query(x);
      if (p != null) {
        xs.add(x);
        ts.add(soft ? p : oneHot(ExtractionModels.argmax(p)));
      }
    }
    if (xs.isEmpty()) {
      return new Softmax(new double[ExtractionModels.CLASSES][D], new double[ExtractionModels.CLASSES]);
    }
    return Softmax.train(xs, ts, 200, 1.0, 1e-4);
  }

  /** Papernot-style Jacobian-based augmentation: 50 natural seeds, 3 doubling rounds, λ = 1 pixel (400 queries). */
  private Model jbda(Oracle oracle, Random random) {
    int[] order = shuffled(attackerPool.length, random);
    List<double[]> xs = new ArrayList<>();
    List<double[]> ts = new ArrayList<>();
    List<double[]> fresh = new ArrayList<>();
    for (int i = 0; i < JBDA_SEEDS; i++) {
      fresh.add(attackerPool[order[i]]);
    }
    Softmax surrogate = null;
    double lambda = JBDA_LAMBDA;
    for (int round = 0; round <= JBDA_ROUNDS; round++) {
      for (double[] x : fresh) {
        double[] p = oracle.query(x);
        if (p != null) {
          xs.add(x);
          ts.add(p);
        }
      }
      if (xs.isEmpty()) {
        break;
      }
      surrogate = Softmax.train(xs, ts, 200, 1.0, 1e-4);
      if (round == JBDA_ROUNDS) {
        break;
      }
      fresh = new ArrayList<>();
      double step = round % 3 == 2 ? -lambda : lambda;
      for (int k = 0; k < xs.size(); k++) {
        double[] x = xs.get(k);
        double[] g = surrogate.inputGradient(x, ExtractionModels.argmax(ts.get(k)));
        double[] y = new double[D];
        for (int i = 0; i < D; i++) {
          y[i] = Math.min(ExtractionModels.PIXEL_MAX, Math.max(0, x[i] + step * Math.signum(g[i])));
        }
        fresh.add(y);
      }
    }
    return surrogate == null ? new Softmax(new double[ExtractionModels.CLASSES][D], new double[ExtractionModels.CLASSES]) : surrogate;
  }

  /** Greedy random search for an adversarial example: 300 small steps around one input. */
  private void adversarialSearch(Oracle oracle, Random random) {
    double[] x = attackerPool[random.nextInt(attackerPool.length)].clone();
    double[] p = oracle.query(x);
    if (p == null) {
      return;
    }
    int label = ExtractionModels.argmax(p);
    double best = p[label];
    for (int q = 0; q < 300; q++) {
      double[] y = x.clone();
      for (int k = 0; k < 4; k++) {
        int i = random.nextInt(D);
        y[i] = Math.min(ExtractionModels.PIXEL_MAX, Math.max(0, y[i] + random.nextGaussian()));
      }
      double[] r = oracle.query(y);
      if (r != null && r[label] < best) {
        best = r[label];
        x = y;
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private double calibrateKnn() {
    List<double[][]> streams = new ArrayList<>();
    Random random = new Random(99);
    for (int c = 0; c < 20; c++) {
      int[] order = shuffled(trainX.length, random);
      double[][] stream = new double[BENIGN_QUERIES][];
      for (int q = 0; q < stream.length; q++) {
        stream[q] = trainX[order[q]];
      }
      streams.add(stream);
    }
    return KnnDetector.calibrate(streams, 20, 200, 0.1, 0.5);
  }

  private double accuracy(Model m) {
    int ok = 0;
    for (int i = 0; i < evalX.length; i++) {
      ok += ExtractionModels.argmax(m.predict(evalX[i])) == evalY[i] ? 1 : 0;
    }
    return (double) ok / evalX.length;
  }

  private static double fidelity(Model victim, Model surrogate, double[][] points) {
    int agree = 0;
    for (double[] x : points) {
      agree += ExtractionModels.argmax(victim.predict(x)) == ExtractionModels.argmax(surrogate.predict(x)) ? 1 : 0;
    }
    return (double) agree / points.length;
  }

  /** "median (max)" of the queries to first flag. */
  private static String median(List<Integer> values) {
    if (values.isEmpty()) {
      return "–";
    }
    int[] v = values.stream().mapToInt(Integer::intValue).sorted().toArray();
    String median = v.length % 2 == 1 ? Integer.toString(v[v.length / 2])
        : String.format(Locale.ROOT, "%.1f", (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0);
    return median + " (max " + v[v.length - 1] + ")";
  }

  /** The bytes the default defence retains for one client after 10,000 distinct queries of {@code dims} features. */
  static long retainedBytesPerClient(int dims) {
    ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), ExtractionModels.CLASSES).build();
    Random random = new Random(1);
    for (int q = 0; q < 10_000; q++) {
      double[] x = new double[dims];
      for (int i = 0; i < dims; i++) {
        x[i] = random.nextInt(17);
      }
      double[] p = new double[ExtractionModels.CLASSES];
      p[q % ExtractionModels.CLASSES] = 1;
      defence.observe("client", x, io.modelguard.extraction.Prediction.of(p));
    }
    return defence.retainedBytes("client");
  }

  private static List<double[]> uniformPoints(int n, Random random) {
    List<double[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(uniformPoint(random));
    }
    return out;
  }

  private static double[] uniformPoint(Random random) {
    double[] x = new double[D];
    for (int i = 0; i < D; i++) {
      x[i] = random.nextDouble() * ExtractionModels.PIXEL_MAX;
    }
    return x;
  }

  private static double[] oneHot(int label) {
    double[] t = new double[ExtractionModels.CLASSES];
    t[label] = 1;
    return t;
  }

  private static int[] shuffled(int n, Random random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  private static double[][] rows(double[][] x, int[] order, int from, int to) {
    double[][] out = new double[to - from][];
    for (int i = from; i < to; i++) {
      out[i - from] = x[order[i]];
    }
    return out;
  }

  private static int[] labels(int[] y, int[] order, int from, int to) {
    return Arrays.copyOfRange(Arrays.stream(order).map(i -> y[i]).toArray(), from, to);
  }
}
