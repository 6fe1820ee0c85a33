package io.modelguard.input;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

/**
 * Limits every JSON model input is parsed under. Jackson's {@link StreamReadConstraints} enforce
 * document length, nesting depth, string, number and name length and token count while tokens are
 * read, so with the defaults a 100,000-deep nesting fails at its 33rd level and a 50 MB string
 * after its first 64 K characters, not at its end; array length and fields per object, which
 * Jackson does not limit, are counted by ModelGuard's streaming validator. Duplicate field names
 * and trailing content after the document are refused too, so the application's parser cannot see
 * a different document than the one validated. Immutable.
 *
 * <p>Defaults (chosen for model inputs, far below Jackson's general-purpose ones): document 1 MiB,
 * depth 32, string 65,536 characters, number 64 characters, field name 256 characters, array
 * 100,000 elements, 1,000 fields per object, 2,000,000 tokens.
 */
public final class JsonLimits {
  private static final JsonLimits DEFAULTS = builder().build();

  private final int maxDocumentBytes;
  private final int maxDepth;
  private final int maxStringLength;
  private final int maxNumberLength;
  private final int maxNameLength;
  private final int maxArrayLength;
  private final int maxObjectFields;
  private final long maxTokens;
  private final JsonFactory factory;

  private JsonLimits(Builder b) {
    this.maxDocumentBytes = b.maxDocumentBytes;
    this.maxDepth = b.maxDepth;
    this.maxStringLength = b.maxStringLength;
    this.maxNumberLength = b.maxNumberLength;
    this.maxNameLength = b.maxNameLength;
    this.maxArrayLength = b.maxArrayLength;
    this.maxObjectFields = b.maxObjectFields;
    this.maxTokens = b.maxTokens;
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxDocumentLength(maxDocumentBytes)
        .maxNestingDepth(maxDepth)
        .maxStringLength(maxStringLength)
        .maxNumberLength(maxNumberLength)
        .maxNameLength(maxNameLength)
        .maxTokenCount(maxTokens)
        .build();
    this.factory = JsonFactory.builder()
        .streamReadConstraints(constraints)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        // Client-chosen field names must not end up in the JVM's string pool.
        .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
        .build();
  }

  /** {@return the defaults listed in the class comment} */
  public static JsonLimits defaults() {
    return DEFAULTS;
  }

  /**
   * Starts a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Largest document, in bytes.
   *
   * @return the limit, at least 1
   */
  public int maxDocumentBytes() {
    return maxDocumentBytes;
  }

  /**
   * Deepest nesting of arrays and objects.
   *
   * @return the limit, at least 1
   */
  public int maxDepth() {
    return maxDepth;
  }

  /**
   * Longest string value, in characters.
   *
   * @return the limit, at least 1
   */
  public int maxStringLength() {
    return maxStringLength;
  }

  /**
   * Longest number literal, in characters.
   *
   * @return the limit, at least 1
   */
  public int maxNumberLength() {
    return maxNumberLength;
  }

  /**
   * Longest field name, in characters.
   *
   * @return the limit, at least 1
   */
  public int maxNameLength() {
    return maxNameLength;
  }

  /**
   * Most elements in one array, except the arrays whose length the model spec declares itself: a
   * tensor's data, held to its tensor's element and byte limits instead (a flat 224 × 224 × 3 image
   * tensor has 150,528 values), and a number field of fixed length.
   *
   * @return the limit, at least 1
   */
  public int maxArrayLength() {
    return maxArrayLength;
  }

  /**
   * Most fields in one object.
   *
   * @return the limit, at least 1
   */
  public int maxObjectFields() {
    return maxObjectFields;
  }

  /**
   * Most tokens in the document.
   *
   * @return the limit, at least 1
   */
  public long maxTokens() {
    return maxTokens;
  }

  /** The thread-safe parser factory configured with these limits. */
  JsonFactory factory() {
    return factory;
  }

  /** Builds {@link JsonLimits}; every setter rejects values below 1 naming the field. */
  public static final class Builder {
    private int maxDocumentBytes = 1 << 20;
    private int maxDepth = 32;
    private int maxStringLength = 65_536;
    private int maxNumberLength = 64;
    private int maxNameLength = 256;
    private int maxArrayLength = 100_000;
    private int maxObjectFields = 1_000;
    private long maxTokens = 2_000_000;

    private Builder() {}

    /**
     * Largest document in bytes. Default 1 MiB.
     *
     * @param v the limit in bytes, at least 1
     * @return this builder
     */
    public Builder maxDocumentBytes(int v) {
      this.maxDocumentBytes = atLeastOne(v, "maxDocumentBytes");
      return this;
    }

    /**
     * Deepest nesting. Default 32.
     *
     * @param v the most nested arrays and objects, at least 1
     * @return this builder
     */
    public Builder maxDepth(int v) {
      this.maxDepth = atLeastOne(v, "maxDepth");
      return this;
    }

    /**
     * Longest string value in characters. Default 65,536.
     *
     * @param v the limit in characters, at least 1
     * @return this builder
     */
    public Builder maxStringLength(int v) {
      this.maxStringLength = atLeastOne(v, "maxStringLength");
      return this;
    }

    /**
     * Longest number literal in characters. Default 64.
     *
     * @param v the limit in characters, at least 1
     * @return this builder
     */
    public Builder maxNumberLength(int v) {
      this.maxNumberLength = atLeastOne(v, "maxNumberLength");
      return this;
    }

    /**
     * Longest field name in characters. Default 256.
     *
     * @param v the limit in characters, at least 1
     * @return this builder
     */
    public Builder maxNameLength(int v) {
      this.maxNameLength = atLeastOne(v, "maxNameLength");
      return this;
    }

    /**
     * Most elements in one array, but for a tensor's data and a fixed-length number field (see
     * {@link JsonLimits#maxArrayLength()}). Default 100,000.
     *
     * @param v the limit in elements, at least 1
     * @return this builder
     */
    public Builder maxArrayLength(int v) {
      this.maxArrayLength = atLeastOne(v, "maxArrayLength");
      return this;
    }

    /**
     * Most fields in one object. Default 1,000.
     *
     * @param v the limit in fields, at least 1
     * @return this builder
     */
    public Builder maxObjectFields(int v) {
      this.maxObjectFields = atLeastOne(v, "maxObjectFields");
      return this;
    }

    /**
     * Most tokens in the document. Default 2,000,000.
     *
     * @param v the limit in tokens, at least 1
     * @return this builder
     */
    public Builder maxTokens(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("JsonLimits.maxTokens must be at least 1, was " + v);
      }
      this.maxTokens = v;
      return this;
    }

    private static int atLeastOne(int v, String field) {
      if (v < 1) {
        throw new IllegalArgumentException("JsonLimits." + field + " must be at least 1, was " + v);
      }
      return v;
    }

    /**
     * Builds the limits.
     *
     * @return the limits, immutable
     */
    public JsonLimits build() {
      return new JsonLimits(this);
    }
  }
}
