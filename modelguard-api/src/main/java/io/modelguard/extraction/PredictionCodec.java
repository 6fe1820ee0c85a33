package io.modelguard.extraction;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds the probability vector (and label) in a model's JSON response and writes a rewritten vector
 * back, leaving every other member as it was. Configured by JSON pointers; {@link #standard()}
 * handles the common {@code {"label": …, "probabilities": […]}}. Thread-safe.
 */
public final class PredictionCodec {
  /**
   * The fast parser for reading doubles (the probabilities are most of the work). Doubles are
   * written as Jackson writes them by default, as most model servers do, so a rewritten answer
   * does not stand out by its number format.
   */
  private final ObjectMapper mapper = JsonMapper.builder()
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();
  private final JsonPointer probabilities;
  private final JsonPointer label;
  private final List<String> labels;

  private PredictionCodec(String probabilities, String label, List<String> labels) {
    this.probabilities = JsonPointer.compile(Objects.requireNonNull(probabilities, "probabilities"));
    this.label = label == null ? null : JsonPointer.compile(label);
    this.labels = labels == null ? null : List.copyOf(labels);
  }

  /** {@code {"label": <index or name>, "probabilities": [...]}} with numeric labels. */
  public static PredictionCodec standard() {
    return new PredictionCodec("/probabilities", "/label", null);
  }

  /**
   * A codec reading the probabilities at {@code probabilitiesPointer} and rewriting the label at
   * {@code labelPointer} (null when the response has no label member). When {@code labelNames} is
   * given, the label is written as the name of the argmax class, otherwise as its index.
   */
  public static PredictionCodec of(String probabilitiesPointer, String labelPointer, List<String> labelNames) {
    return new PredictionCodec(probabilitiesPointer, labelPointer, labelNames);
  }

  /** The prediction in {@code json}, or empty if the probabilities are missing or not numbers. */
  public Optional<Prediction> decode(byte[] json) {
    try {
      // Streamed, not a tree (the same answer as decode(JsonNode)): the OBSERVE policy decodes
      // every response, and only a rewrite needs the tree.
      double[] p = JsonNumberArray.read(mapper.getFactory(), json, probabilities);
      return p == null ? Optional.empty() : Optional.of(Prediction.of(p));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private Optional<Prediction> decode(JsonNode root) {
    JsonNode array = root.at(probabilities);
    if (!array.isArray() || array.isEmpty()) {
      return Optional.empty();
    }
    double[] p = new double[array.size()];
    for (int i = 0; i < p.length; i++) {
      if (!array.get(i).isNumber()) {
        return Optional.empty();
      }
      p[i] = array.get(i).doubleValue();
    }
    return Optional.of(Prediction.of(p));
  }

  /**
   * {@code json} with its probabilities replaced by {@code rewritten} and its label (if the codec
   * has one) set to the argmax of {@code rewritten}.
   *
   * @throws IllegalArgumentException if {@code json} has no probability vector of the same length
   */
  public byte[] encode(byte[] json, double[] rewritten) {
    JsonNode root;
    try {
      root = mapper.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("response is not JSON", e);
    }
    return encode(root, rewritten);
  }

  /**
   * Decodes {@code json} once for a rewrite: its prediction, and {@link Decoded#encode} to write
   * the rewritten vector into the same parsed document (no second parse). Empty where {@link
   * #decode(byte[])} is.
   */
  public Optional<Decoded> decodeForRewrite(byte[] json) {
    try {
      JsonNode root = mapper.readTree(json);
      return decode(root).map(p -> new Decoded(root, p));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A decoded response, ready to be rewritten once. Not thread-safe. */
  public final class Decoded {
    private final JsonNode root;
    private final Prediction prediction;

    private Decoded(JsonNode root, Prediction prediction) {
      this.root = root;
      this.prediction = prediction;
    }

    /** The prediction read from the response. */
    public Prediction prediction() {
      return prediction;
    }

    /** As {@link PredictionCodec#encode(byte[], double[])} on the response this was decoded from. */
    public byte[] encode(double[] rewritten) {
      return PredictionCodec.this.encode(root, rewritten);
    }
  }

  private byte[] encode(JsonNode root, double[] rewritten) {
    try {
      JsonNode array = root.at(probabilities);
      if (!array.isArray() || array.size() != rewritten.length) {
        throw new IllegalArgumentException("response has no probability vector of length " + rewritten.length);
      }
      ArrayNode values = (ArrayNode) array;
      values.removeAll();
      for (double v : rewritten) {
        values.add(v);
      }
      if (label != null) {
        int index = Perturbation.argmax(rewritten);
        JsonNode parent = root.at(label.head());
        String field = label.last().getMatchingProperty();
        if (parent instanceof ObjectNode object && object.has(field)) {
          if (labels != null) {
            object.put(field, labels.get(index));
          } else if (object.get(field).isTextual()) {
            object.put(field, Integer.toString(index));
          } else {
            object.put(field, index);
          }
        }
      }
      return mapper.writeValueAsBytes((ContainerNode<?>) root);
    } catch (IOException e) {
      throw new IllegalArgumentException("response is not JSON", e);
    }
  }
}
