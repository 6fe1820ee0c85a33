package io.modelguard.extraction;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds the probability vector (and label) in a model's JSON response and writes a rewritten vector
 * back. Configured by JSON pointers; {@link #standard()} handles the common {@code {"label": …,
 * "probabilities": […]}}. Thread-safe and immutable.
 *
 * <h2>What a rewritten answer keeps</h2>
 *
 * A rewritten answer keeps the probabilities, the label (written as an object member or an array
 * element where the label pointer says; a label it cannot write there is not kept either) and the
 * scalar members named with {@link #keeping}, and nothing else: members the codec does not know are removed (array elements the
 * kept pointers do not reach become {@code null}, so the others keep their indices). A model server
 * answering {@code {"label":…,"probabilities":[…],"logits":[…]}} would otherwise hand the exact
 * logits to the very clients whose probabilities are being cut or noised. Name the members that
 * carry nothing of the prediction ({@code keeping("/model", "/version")}), or keep everything
 * with {@link #keepingEverything()} when the answer is known to hold nothing else. A kept pointer
 * keeps a string, number, boolean or {@code null} only: an object or array there is removed as an
 * unknown member would be ({@code keeping("/model")} keeps {@code "model":"digits"}, not {@code
 * "model":{"name":"digits","logits":[…]}}); name its scalar members instead ({@code
 * keeping("/model/name")}). Answers that are not rewritten are not touched.
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
  /** What a rewrite keeps: the probabilities, the label and the pass-through pointers; null: everything. */
  private final List<Kept> kept;
  /** {@link #kept} without the label, for an answer whose label the codec could not write. */
  private final List<Kept> keptWithoutLabel;
  /** The pass-through pointers alone. */
  private final List<JsonPointer> passThrough;

  private PredictionCodec(JsonPointer probabilities, JsonPointer label, List<String> labels, List<JsonPointer> passThrough) {
    this.probabilities = probabilities;
    this.label = label;
    this.labels = labels;
    if (passThrough == null) {
      this.passThrough = null;
      this.kept = null;
      this.keptWithoutLabel = null;
    } else {
      this.passThrough = List.copyOf(passThrough);
      List<Kept> k = new ArrayList<>();
      for (JsonPointer p : passThrough) {
        k.add(new Kept(p, true));
      }
      // The probabilities array is kept whole; the label is a scalar once written.
      k.add(new Kept(probabilities, false));
      this.keptWithoutLabel = List.copyOf(k);
      if (label != null) {
        k.add(new Kept(label, false));
      }
      this.kept = List.copyOf(k);
    }
  }

  private PredictionCodec(String probabilities, String label, List<String> labels) {
    this(JsonPointer.compile(Objects.requireNonNull(probabilities, "probabilities")),
        label == null ? null : labelPointer(label), labels == null ? null : List.copyOf(labels), List.of());
  }

  /** The label's pointer: to a member or an element, never the whole answer. */
  private static JsonPointer labelPointer(String label) {
    if (!label.startsWith("/")) {
      throw new IllegalArgumentException("PredictionCodec: the label pointer must point into the answer, was '" + label + "'");
    }
    return JsonPointer.compile(label);
  }

  /**
   * {@code {"label": <index or name>, "probabilities": [...]}} with numeric labels.
   *
   * @return the standard codec
   */
  public static PredictionCodec standard() {
    return new PredictionCodec("/probabilities", "/label", null);
  }

  /**
   * A codec reading the probabilities at {@code probabilitiesPointer} and rewriting the label at
   * {@code labelPointer} (null when the response has no label member). When {@code labelNames} is
   * given, the label is written as the name of the argmax class (and dropped for a class beyond
   * the names), otherwise as its index.
   *
   * @param probabilitiesPointer the JSON pointer to the probability array
   * @param labelPointer the JSON pointer to the label member, or null for none
   * @param labelNames the class names by index, or null to write indices
   * @return a new codec
   * @throws IllegalArgumentException if a pointer is not a JSON pointer, or the label pointer is
   *     the empty pointer (the whole answer)
   */
  public static PredictionCodec of(String probabilitiesPointer, String labelPointer, List<String> labelNames) {
    return new PredictionCodec(probabilitiesPointer, labelPointer, labelNames);
  }

  /**
   * This codec, with the members at {@code pointers} (JSON pointers, such as {@code "/model"})
   * kept in rewritten answers too, beside those this codec already keeps. A pointer keeps its
   * value only if it is a scalar (a string, number, boolean or {@code null}): an object or array
   * there is removed, as a member not named would be, since it may hold the model's logits or
   * scores; name the scalar members within it instead ({@code "/model/name"}). A pointer that
   * reaches nothing keeps nothing.
   *
   * @param pointers JSON pointers to members, each starting with {@code /}
   * @return a new codec; this one is unchanged
   * @throws IllegalArgumentException if a pointer is not a JSON pointer
   */
  public PredictionCodec keeping(String... pointers) {
    List<JsonPointer> pass = new ArrayList<>();
    for (String p : pointers) {
      if (!Objects.requireNonNull(p, "pointer").startsWith("/")) {
        throw new IllegalArgumentException("PredictionCodec.keeping: not a JSON pointer to a member: '" + p + "'");
      }
      pass.add(JsonPointer.compile(p));
    }
    if (kept == null) {
      return this;
    }
    List<JsonPointer> all = new ArrayList<>(passThrough);
    all.addAll(pass);
    return new PredictionCodec(probabilities, label, labels, all);
  }

  /**
   * This codec, keeping every member of rewritten answers as the model wrote it: only for answers
   * known to carry nothing of the prediction beside the probabilities and the label (no logits,
   * scores, embeddings or per-class details), since those would reach the client exact.
   *
   * @return a new codec; this one is unchanged
   */
  public PredictionCodec keepingEverything() {
    return new PredictionCodec(probabilities, label, labels, null);
  }

  /**
   * The prediction in {@code json}, or empty if the probabilities are missing or not numbers.
   *
   * @param json the answer's body
   * @return the prediction, or empty
   */
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
   * @param json the answer's body, JSON
   * @param rewritten the probabilities to write, as many as the answer holds
   * @return the rewritten body, UTF-8 JSON
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
   *
   * @param json the answer's body
   * @return the parsed answer, or empty
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

    /**
     * The prediction read from the response.
     *
     * @return the prediction
     */
    public Prediction prediction() {
      return prediction;
    }

    /**
     * As {@link PredictionCodec#encode(byte[], double[])} on the response this was decoded from.
     *
     * @param rewritten the probabilities to write, as many as the answer holds
     * @return the rewritten body, UTF-8 JSON
     */
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
      boolean labelWritten = label != null && writeLabel(root, Perturbation.argmax(rewritten));
      if (kept != null) {
        // A label the codec could not write is the model's own: it goes with the other members.
        prune(root, labelWritten ? kept : keptWithoutLabel);
      }
      return mapper.writeValueAsBytes((ContainerNode<?>) root);
    } catch (IOException e) {
      throw new IllegalArgumentException("response is not JSON", e);
    }
  }

  /**
   * Writes class {@code index} at the label pointer, as a name when the codec has names, else as
   * the index (a string if the model wrote a string there): in an object member or an array
   * element that exists. Returns false if there is none.
   */
  private boolean writeLabel(JsonNode root, int index) {
    if (labels != null && index >= labels.size()) {
      // More classes than names: no name to write.
      return false;
    }
    JsonNode parent = root.at(label.head());
    JsonNode old;
    if (parent instanceof ObjectNode object && object.has(label.last().getMatchingProperty())) {
      old = object.get(label.last().getMatchingProperty());
      object.set(label.last().getMatchingProperty(), labelNode(old, index));
      return true;
    }
    int element = label.last().getMatchingIndex();
    if (parent instanceof ArrayNode array && element >= 0 && element < array.size()) {
      old = array.get(element);
      array.set(element, labelNode(old, index));
      return true;
    }
    return false;
  }

  private JsonNode labelNode(JsonNode old, int index) {
    if (labels != null) {
      return TextNode.valueOf(labels.get(index));
    }
    return old.isTextual() ? TextNode.valueOf(Integer.toString(index)) : IntNode.valueOf(index);
  }

  /**
   * Removes from {@code node} what none of {@code paths} (relative to it) reaches: object members
   * go, array elements become {@code null}. A path that ends at a node keeps all of it, unless it
   * keeps scalars only and the node is an object or array: then it keeps nothing there. A path
   * that leads on past a scalar (a {@code "/model/name"} where {@code "model"} is a string) reaches
   * nothing and keeps nothing.
   */
  private static void prune(JsonNode node, List<Kept> paths) {
    for (Kept k : paths) {
      if (k.pointer().matches()) {
        return;
      }
    }
    if (node instanceof ObjectNode object) {
      Iterator<Map.Entry<String, JsonNode>> members = object.properties().iterator();
      while (members.hasNext()) {
        Map.Entry<String, JsonNode> member = members.next();
        List<Kept> tails = new ArrayList<>();
        for (Kept k : paths) {
          k.tail(k.pointer().matchProperty(member.getKey()), member.getValue()).ifPresent(tails::add);
        }
        if (!reached(member.getValue(), tails)) {
          members.remove();
        } else {
          prune(member.getValue(), tails);
        }
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        List<Kept> tails = new ArrayList<>();
        for (Kept k : paths) {
          k.tail(k.pointer().matchElement(i), array.get(i)).ifPresent(tails::add);
        }
        if (!reached(array.get(i), tails)) {
          array.set(i, NullNode.getInstance());
        } else {
          prune(array.get(i), tails);
        }
      }
    }
  }

  /**
   * Whether {@code tails} (the paths continued into {@code child}) reach it: one ends there, or
   * {@code child} is an object or array one leads into.
   */
  private static boolean reached(JsonNode child, List<Kept> tails) {
    if (child.isContainerNode()) {
      return !tails.isEmpty();
    }
    for (Kept k : tails) {
      if (k.pointer().matches()) {
        return true;
      }
    }
    return false;
  }

  /**
   * A pointer a rewrite keeps, relative to the node being pruned; {@code scalarOnly} for a {@link
   * #keeping} pointer, which keeps no object or array it ends at.
   */
  private record Kept(JsonPointer pointer, boolean scalarOnly) {
    /**
     * This path continued into {@code child} by {@code tail} (null: it does not lead there); empty
     * if it does not, or if it keeps scalars only and ends at {@code child}, an object or array.
     */
    Optional<Kept> tail(JsonPointer tail, JsonNode child) {
      if (tail == null || (scalarOnly && tail.matches() && child.isContainerNode())) {
        return Optional.empty();
      }
      return Optional.of(new Kept(tail, scalarOnly));
    }
  }
}
