package io.modelguard.examples.model;

import io.modelguard.extraction.PredictionCodec;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ImageFormat;
import io.modelguard.input.ImageSpec;
import io.modelguard.input.ModelSpec;
import io.modelguard.input.TextSpec;
import java.awt.image.BufferedImage;
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
 *       petal length, petal width in cm), 3 classes (setosa, versicolor, virginica);
 *   <li>{@value #IMAGE_CLASSIFIER}: input {@code imageUrl}, a PNG, JPEG or GIF image of a digit
 *       that ModelGuard fetches (see {@link #IMAGE_SPEC}); the image is reduced to 8×8 grey levels
 *       ({@link DigitImages}) and classified by the {@value #DIGITS} model;
 *   <li>{@value #SENTIMENT}: input {@code text}, a short English sentence (see {@link #TEXT_SPEC}),
 *       2 classes (negative, positive); a {@link SentimentModel} trained on {@code sentiment.tsv}.
 * </ul>
 *
 * The trained models use a fixed stratified 80/20 split and fixed training seeds, so every
 * start-up trains the same models. What each model accepts is also declared for ModelGuard's
 * input validation ({@link #inputSpecs()}). Immutable and thread-safe.
 */
public final class ModelCatalog {
  /** The digit classifier's id. */
  public static final String DIGITS = "digits";
  /** The iris classifier's id. */
  public static final String IRIS = "iris";
  /** The id of the classifier of digit images fetched from a URL. */
  public static final String IMAGE_CLASSIFIER = "image-classifier";
  /** The sentiment classifier's id. */
  public static final String SENTIMENT = "sentiment";
  /** The ids of the demo models, known before training (configuration is validated against them). */
  public static final Set<String> MODEL_IDS =
      Collections.unmodifiableSet(new LinkedHashSet<>(List.of(DIGITS, IRIS, IMAGE_CLASSIFIER, SENTIMENT)));
  /** The input of {@value #DIGITS}. */
  public static final InputSpec DIGITS_INPUT = new InputSpec("pixels", 64, 0, 16, "8x8 grey levels, row by row");
  /** The input of {@value #IRIS}. */
  public static final InputSpec IRIS_INPUT =
      new InputSpec("features", 4, 0, 100, "sepal length, sepal width, petal length, petal width in cm");
  /** The field of {@value #IMAGE_CLASSIFIER}'s input: {@code {"imageUrl":"https://..."}}. */
  public static final String IMAGE_URL_FIELD = "imageUrl";
  /** The largest request body of {@value #DIGITS} and {@value #IRIS}; a digits request is well under 1 KiB. */
  public static final int MAX_BODY_BYTES = 16 * 1024;
  /** The largest request body of {@value #IMAGE_CLASSIFIER} (a URL of at most 2,048 characters). */
  public static final int IMAGE_REQUEST_MAX_BODY_BYTES = 4096;
  /** The largest image {@value #IMAGE_CLASSIFIER} fetches, in bytes. */
  public static final int IMAGE_MAX_BYTES = 1 << 20;
  /** The largest width and height of an image {@value #IMAGE_CLASSIFIER} decodes. */
  public static final int IMAGE_MAX_SIDE = 1024;
  /**
   * What {@value #IMAGE_CLASSIFIER} accepts as an image: PNG, JPEG or GIF (by magic bytes), at most
   * {@value #IMAGE_MAX_BYTES} bytes, {@value #IMAGE_MAX_SIDE} × {@value #IMAGE_MAX_SIDE} pixels and
   * 16 frames, all read from the header before any decoder runs.
   */
  public static final ImageSpec IMAGE_SPEC = ImageSpec.builder()
      .formats(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.GIF)
      .maxBytes(IMAGE_MAX_BYTES)
      .maxWidth(IMAGE_MAX_SIDE)
      .maxHeight(IMAGE_MAX_SIDE)
      .maxPixels((long) IMAGE_MAX_SIDE * IMAGE_MAX_SIDE)
      .maxFrames(16)
      .build();
  /** The field of {@value #SENTIMENT}'s input: {@code {"text":"..."}}. */
  public static final String TEXT_FIELD = "text";
  /** The most code points {@value #SENTIMENT} accepts. */
  public static final int TEXT_MAX_LENGTH = 500;
  /**
   * The largest request body of {@value #SENTIMENT}: the longest text, even written as JSON escapes,
   * fits. An ASCII-only encoder writes a character outside the BMP as a surrogate pair of
   * backslash-u escapes, 12 bytes: {@value #TEXT_MAX_LENGTH} of them and {@code {"text":""}} are 6,011 bytes.
   */
  public static final int TEXT_REQUEST_MAX_BODY_BYTES = 8192;
  /**
   * What {@value #SENTIMENT} accepts as text: 1 to {@value #TEXT_MAX_LENGTH} code points, no
   * invisible or control characters (zero-width spaces, bidi controls, ...), line breaks allowed.
   */
  public static final TextSpec TEXT_SPEC = TextSpec.builder().minLength(1).maxLength(TEXT_MAX_LENGTH).build();
  /** The fraction of each data set held out for evaluation. */
  public static final double TEST_FRACTION = 0.2;
  /** The seed of every split and training run. */
  public static final long SEED = 42L;
  /** Where each model's answer keeps its probabilities and label; a rewrite keeps the model's name too. */
  private static final Map<String, PredictionCodec> CODECS = Map.of(
      DIGITS, PredictionCodec.standard().keeping("/model"),
      IRIS, PredictionCodec.standard().keeping("/model"),
      IMAGE_CLASSIFIER, PredictionCodec.standard().keeping("/model"),
      SENTIMENT, PredictionCodec.of("/probabilities", "/label", SentimentModel.LABELS).keeping("/model"));

  private final Map<String, ServedModel> models;
  private final SentimentModel sentiment;

  private ModelCatalog(Map<String, ServedModel> models, SentimentModel sentiment) {
    this.models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
    this.sentiment = Objects.requireNonNull(sentiment, "sentiment");
  }

  /**
   * How the demo's output policies (the free tier's cut, the extraction defence) read and rewrite
   * {@code model}'s answers: {@code {"model":…,"label":…,"probabilities":[…]}}, a rewrite keeping
   * the probabilities, the label and the model's name. Empty for a model not of the demo's.
   */
  public static Optional<PredictionCodec> codec(String model) {
    return Optional.ofNullable(model).map(CODECS::get);
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

  /**
   * What each demo model accepts, for ModelGuard's {@link io.modelguard.input.ModelInputPolicy}:
   * {@value #DIGITS} and {@value #IRIS} take their one array field ({@link InputSpec}) within
   * {@value #MAX_BODY_BYTES} bytes; {@value #IMAGE_CLASSIFIER} takes {@code imageUrl}, fetched and
   * checked against {@link #IMAGE_SPEC}; {@value #SENTIMENT} takes {@code text} ({@link
   * #TEXT_SPEC}) within {@value #TEXT_REQUEST_MAX_BODY_BYTES} bytes. Unknown fields are refused.
   */
  public static List<ModelSpec> inputSpecs() {
    return List.of(
        tabular(DIGITS, DIGITS_INPUT),
        tabular(IRIS, IRIS_INPUT),
        ModelSpec.builder(IMAGE_CLASSIFIER)
            .maxBodyBytes(IMAGE_REQUEST_MAX_BODY_BYTES)
            .field(IMAGE_URL_FIELD, FieldSpec.imageUrl(IMAGE_SPEC))
            .build(),
        ModelSpec.builder(SENTIMENT)
            .maxBodyBytes(TEXT_REQUEST_MAX_BODY_BYTES)
            .field(TEXT_FIELD, FieldSpec.text(TEXT_SPEC))
            .build());
  }

  private static ModelSpec tabular(String id, InputSpec input) {
    return ModelSpec.builder(id)
        .maxBodyBytes(MAX_BODY_BYTES)
        .field(input.field(), FieldSpec.numbers(input.length()).range(input.min(), input.max()))
        .build();
  }

  /** Trains the digits, iris and sentiment models (a fraction of a second on a small machine). */
  public static ModelCatalog trainDemoModels() {
    Dataset digits = Dataset.fromResource(DIGITS, "digits.csv");
    Dataset iris = Dataset.fromResource(IRIS, "iris.csv");
    Map<String, ServedModel> models = new LinkedHashMap<>();
    models.put(DIGITS, new ServedModel(
        Classifier.train(DIGITS, digits, TEST_FRACTION, SoftmaxRegression.Options.defaults(SEED)),
        DIGITS_INPUT,
        digits.features(0)));
    models.put(IRIS, new ServedModel(
        Classifier.train(IRIS, iris, TEST_FRACTION, new SoftmaxRegression.Options(300, 8, 0.3, 0.01, 1e-4, SEED)),
        IRIS_INPUT,
        iris.features(0)));
    SentimentModel sentiment =
        SentimentModel.train(SENTIMENT, SentimentModel.fromResource("sentiment.tsv"), TEST_FRACTION, SEED);
    return new ModelCatalog(models, sentiment);
  }

  /** The sentiment classifier ({@value #SENTIMENT}). */
  public SentimentModel sentiment() {
    return sentiment;
  }

  /**
   * The trained model called {@code id} ({@value #DIGITS} or {@value #IRIS}), if there is one.
   * {@value #IMAGE_CLASSIFIER} has none of its own: it uses {@value #DIGITS}.
   */
  public Optional<ServedModel> get(String id) {
    return Optional.ofNullable(models.get(id));
  }

  /** The ids of every served model, {@value #IMAGE_CLASSIFIER} included, in a stable order. */
  public Set<String> ids() {
    return MODEL_IDS;
  }

  /** The trained models of numeric input ({@value #DIGITS} and {@value #IRIS}) by id; see also {@link #sentiment()}. */
  public Map<String, ServedModel> all() {
    return models;
  }

  /**
   * Classifies the digit in {@code image} ({@value #IMAGE_CLASSIFIER}): {@link
   * DigitImages#toPixels} then the {@value #DIGITS} model. Returns the 10 class probabilities.
   */
  public double[] classifyDigitImage(BufferedImage image) {
    return models.get(DIGITS).classifier().predictProba(DigitImages.toPixels(image));
  }
}
