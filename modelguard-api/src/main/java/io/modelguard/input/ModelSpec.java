package io.modelguard.input;

import io.modelguard.Endpoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What one model accepts: the body cap, the media types, the JSON limits, and one input shape —
 * named JSON fields, KServe v2 tensors, or a raw image body. {@link ModelInputPolicy} enforces it.
 * Immutable.
 *
 * <pre>{@code
 * ModelSpec digits = ModelSpec.builder("digits")
 *     .maxBodyBytes(16 * 1024)
 *     .field("pixels", FieldSpec.numbers(64).range(0, 16))
 *     .build();
 * ModelSpec resnet = ModelSpec.builder("image-classifier")
 *     .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(1024).maxHeight(1024).build()))
 *     .build();
 * ModelSpec v2 = ModelSpec.builder("iris-v2")
 *     .tensor(TensorSpec.builder("input-0").shape(-1, 4).datatypes(TensorDatatype.FP32).build())
 *     .build();
 * ModelSpec upload = ModelSpec.builder("thumbnails").imageBody(ImageSpec.defaults()).build();
 * }</pre>
 */
public final class ModelSpec {
  /** The shape of a model's input. */
  public enum InputKind {
    /** A JSON object of named fields ({@link Builder#field}). */
    FIELDS,
    /** A KServe Open Inference Protocol v2 request ({@link Builder#tensor}). */
    TENSORS,
    /** A raw image body ({@link Builder#imageBody}). */
    IMAGE
  }

  private final String id;
  private final int maxBodyBytes;
  private final JsonLimits jsonLimits;
  private final InputKind kind;
  private final Map<String, FieldSpec> fields;
  final String[] fieldNames;
  final FieldSpec[] fieldSpecs;
  private final Map<String, Integer> fieldIndex;
  /** The field names by {@link #fold}: for telling a case variant of a field from an unknown one. */
  private final Map<String, String> foldedNames;
  private final Map<String, TensorSpec> tensors;
  final TensorSpec[] tensorSpecs;
  final long maxTensorElements;
  final long maxTensorBytes;
  private final ImageSpec image;
  private final boolean rejectUnknownFields;
  private final Set<String> mediaTypes;

  private ModelSpec(Builder b) {
    this.id = b.id;
    this.maxBodyBytes = b.maxBodyBytes;
    this.jsonLimits = b.jsonLimits;
    this.rejectUnknownFields = b.rejectUnknownFields;
    this.fields = Collections.unmodifiableMap(new LinkedHashMap<>(b.fields));
    this.fieldNames = b.fields.keySet().toArray(new String[0]);
    this.fieldSpecs = b.fields.values().toArray(new FieldSpec[0]);
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < fieldNames.length; i++) {
      index.put(fieldNames[i], i);
    }
    this.fieldIndex = Map.copyOf(index);
    Map<String, String> folded = new HashMap<>();
    for (String name : fieldNames) {
      folded.putIfAbsent(fold(name), name);
    }
    this.foldedNames = Map.copyOf(folded);
    this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(b.tensors));
    this.tensorSpecs = b.tensors.values().toArray(new TensorSpec[0]);
    long elements = 0;
    long bytes = 0;
    for (TensorSpec t : tensorSpecs) {
      elements = Math.max(elements, t.maxElements());
      bytes = Math.max(bytes, t.maxBytes());
    }
    this.maxTensorElements = elements;
    this.maxTensorBytes = bytes;
    this.image = b.image;
    this.kind = !b.fields.isEmpty() ? InputKind.FIELDS : !b.tensors.isEmpty() ? InputKind.TENSORS : InputKind.IMAGE;
    Set<String> types = new LinkedHashSet<>();
    if (kind == InputKind.IMAGE) {
      for (ImageFormat f : EnumSet.copyOf(image.formats())) {
        types.add(f.mediaType());
      }
    } else {
      types.add("application/json");
    }
    this.mediaTypes = Collections.unmodifiableSet(types);
  }

  /**
   * Starts a spec for model {@code id}. Defaults: 1 MiB body cap, {@link JsonLimits#defaults()}
   * (document length lowered to the body cap), unknown fields refused.
   *
   * @param id the model id the spec is for
   * @return a new builder with those defaults
   * @throws IllegalArgumentException if {@code id} is not a valid model id
   */
  public static Builder builder(String id) {
    if (!Endpoint.isValidModelId(id)) {
      throw new IllegalArgumentException("ModelSpec.id: '" + id + "' is not a valid model id ([A-Za-z0-9][A-Za-z0-9._-]{0,63})");
    }
    return new Builder(id);
  }

  /** {@return the model id} */
  public String id() {
    return id;
  }

  /** {@return the largest body accepted, in bytes} */
  public int maxBodyBytes() {
    return maxBodyBytes;
  }

  /** {@return the JSON limits (unused for an image body)} */
  public JsonLimits jsonLimits() {
    return jsonLimits;
  }

  /** {@return the shape of the input} */
  public InputKind inputKind() {
    return kind;
  }

  /** {@return the named fields, in declaration order (empty unless {@link InputKind#FIELDS})} */
  public Map<String, FieldSpec> fields() {
    return fields;
  }

  /** {@return the tensors by name (empty unless {@link InputKind#TENSORS})} */
  public Map<String, TensorSpec> tensors() {
    return tensors;
  }

  /** {@return the image body spec, or null unless {@link InputKind#IMAGE}} */
  public ImageSpec imageBody() {
    return image;
  }

  /** {@return whether fields (or top-level members, or tensor members) not in the spec are refused} */
  public boolean rejectsUnknownFields() {
    return rejectUnknownFields;
  }

  /** {@return the accepted media types (lower case, without parameters)} */
  public Set<String> mediaTypes() {
    return mediaTypes;
  }

  /** Whether any field is an image URL, so the policy needs a fetcher. */
  boolean fetchesUrls() {
    for (FieldSpec f : fieldSpecs) {
      if (f.kind == FieldSpec.Kind.IMAGE_URL) {
        return true;
      }
    }
    return false;
  }

  int fieldIndex(String name) {
    Integer i = fieldIndex.get(name);
    return i == null ? -1 : i;
  }

  /**
   * The specified field that {@code name}, a name not in the spec, equals but for case (Unicode
   * simple case folding, as Go's encoding/json, .NET or a case-insensitive Jackson bind it), or
   * null.
   */
  String caseVariantOf(String name) {
    return foldedNames.get(fold(name));
  }

  /** Upper then lower case, so that the long s and the Kelvin sign meet {@code s} and {@code k}. */
  static String fold(String name) {
    return name.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "ModelSpec[" + id + ", " + kind + ", maxBodyBytes=" + maxBodyBytes + "]";
  }

  /** Builds a {@link ModelSpec}; {@link #build()} reports every problem, naming the field. */
  public static final class Builder {
    private final String id;
    private int maxBodyBytes = 1 << 20;
    private JsonLimits jsonLimits;
    private boolean rejectUnknownFields = true;
    private final Map<String, FieldSpec> fields = new LinkedHashMap<>();
    private final Map<String, TensorSpec> tensors = new LinkedHashMap<>();
    private ImageSpec image;
    private final List<String> errors = new ArrayList<>();

    private Builder(String id) {
      this.id = id;
    }

    /**
     * The largest body accepted, in bytes; refused with 413 beyond it, without reading further. Default 1 MiB.
     *
     * @param bytes the limit in bytes, 1 to 2^30
     * @return this builder
     */
    public Builder maxBodyBytes(int bytes) {
      if (bytes < 1 || bytes > (1 << 30)) {
        throw new IllegalArgumentException("ModelSpec.maxBodyBytes must be in 1..2^30, was " + bytes);
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * The JSON limits. Default {@link JsonLimits#defaults()} with the document length lowered to the body cap.
     *
     * @param limits the limits; not null
     * @return this builder
     */
    public Builder jsonLimits(JsonLimits limits) {
      this.jsonLimits = Objects.requireNonNull(limits, "jsonLimits");
      return this;
    }

    /**
     * Whether unknown fields are refused (true, the default) or skipped within the JSON limits. A
     * field whose name differs from a specified one only in case ({@code PIXELS} beside {@code
     * pixels}) is refused either way: many JSON binders match names ignoring case, so the
     * application could read the unchecked value as the specified field. So is any field name
     * holding a control character (U+0000 to U+001F): a C or C++ server may read the name {@code
     * pixels}, NUL, {@code x} as {@code pixels}.
     *
     * @param reject false to skip unknown fields instead of refusing them
     * @return this builder
     */
    public Builder rejectUnknownFields(boolean reject) {
      this.rejectUnknownFields = reject;
      return this;
    }

    /**
     * Adds a named field of a JSON object input.
     *
     * @param name the field name, 1 to 128 characters, declared once (else {@link #build()} fails)
     * @param spec the field's rules; not null
     * @return this builder
     */
    public Builder field(String name, FieldSpec spec) {
      Objects.requireNonNull(spec, "spec");
      if (name == null || name.isEmpty() || name.length() > 128) {
        errors.add("fields: a field name must be 1 to 128 characters");
      } else if (fields.putIfAbsent(name, spec) != null) {
        errors.add("fields: '" + name + "' is declared twice");
      }
      return this;
    }

    /**
     * Adds a tensor of a KServe v2 input.
     *
     * @param spec the tensor's rules; not null (a second tensor of the same name makes {@link
     *     #build()} fail)
     * @return this builder
     */
    public Builder tensor(TensorSpec spec) {
      Objects.requireNonNull(spec, "spec");
      if (tensors.putIfAbsent(spec.name(), spec) != null) {
        errors.add("tensors: '" + spec.name() + "' is declared twice");
      }
      return this;
    }

    /**
     * Makes the input a raw image body ({@code image/png}, ...), checked by {@code spec}.
     *
     * @param spec the rules the body image must satisfy; not null
     * @return this builder
     */
    public Builder imageBody(ImageSpec spec) {
      this.image = Objects.requireNonNull(spec, "imageBody");
      return this;
    }

    /**
     * Builds the spec.
     *
     * @return the spec, immutable
     * @throws IllegalStateException listing every problem: no input declared, or more than one kind
     */
    public ModelSpec build() {
      List<String> problems = new ArrayList<>(errors);
      int kinds = (fields.isEmpty() ? 0 : 1) + (tensors.isEmpty() ? 0 : 1) + (image == null ? 0 : 1);
      if (kinds == 0) {
        problems.add("input: declare fields, tensors or an image body");
      } else if (kinds > 1) {
        problems.add("input: declare only one of fields, tensors or an image body");
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("Invalid ModelSpec '" + id + "':\n - " + String.join("\n - ", problems));
      }
      if (jsonLimits == null) {
        JsonLimits d = JsonLimits.defaults();
        jsonLimits = JsonLimits.builder()
            .maxDocumentBytes(Math.min(d.maxDocumentBytes(), maxBodyBytes))
            .maxDepth(d.maxDepth()).maxStringLength(d.maxStringLength()).maxNumberLength(d.maxNumberLength())
            .maxNameLength(d.maxNameLength()).maxArrayLength(d.maxArrayLength())
            .maxObjectFields(d.maxObjectFields()).maxTokens(d.maxTokens())
            .build();
      }
      return new ModelSpec(this);
    }
  }
}
