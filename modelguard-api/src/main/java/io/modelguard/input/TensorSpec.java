package io.modelguard.input;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One named input tensor of a KServe Open Inference Protocol (v2) request: {@code {"name": ...,
 * "shape": [...], "datatype": ..., "data": [...]}}. The declared shape must match {@link
 * #shape()} ({@code -1} matches any size), its product × element size must stay under {@link
 * #maxBytes()} — checked as soon as the shape is read, before the data is looked at — and the data
 * must hold exactly that many elements of the datatype, each in range, either flat (row-major) or
 * nested exactly as the shape declares (rows of another length, ragged rows or another depth are
 * refused). A tensor passed by reference instead of as JSON {@code data} — Triton's shared-memory
 * ({@code shared_memory_region}, ...) or binary data ({@code binary_data_size}) parameters — is
 * refused: the guard cannot check data it does not see, and there is no opt-in. Immutable.
 *
 * <pre>{@code
 * TensorSpec.builder("input-0").datatypes(TensorDatatype.FP32).shape(-1, 64).range(0, 16).build()
 * }</pre>
 */
public final class TensorSpec {
  private final String name;
  private final Set<TensorDatatype> datatypes;
  private final int[] shape;
  private final long maxElements;
  private final long maxBytes;
  private final double min;
  private final double max;
  private final boolean required;

  private TensorSpec(Builder b) {
    this.name = b.name;
    this.datatypes = Set.copyOf(b.datatypes);
    this.shape = b.shape.clone();
    this.maxElements = b.maxElements;
    this.maxBytes = b.maxBytes;
    this.min = b.min;
    this.max = b.max;
    this.required = b.required;
  }

  /**
   * Starts a spec for the tensor called {@code name}.
   *
   * @param name the tensor's name, 1 to 128 characters, as the request's {@code inputs[].name}
   *     gives it
   * @return a new builder with the defaults
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** {@return the tensor's name} */
  public String name() {
    return name;
  }

  /** {@return the accepted datatypes} */
  public Set<TensorDatatype> datatypes() {
    return datatypes;
  }

  /** {@return the shape pattern (a copy); {@code -1} matches any size} */
  public int[] shape() {
    return shape.clone();
  }

  /**
   * Most elements.
   *
   * @return the limit, at least 1
   */
  public long maxElements() {
    return maxElements;
  }

  /**
   * Most bytes (elements × element size; for {@link TensorDatatype#BYTES}, the UTF-8 bytes of all strings).
   *
   * @return the limit in bytes, at least 1
   */
  public long maxBytes() {
    return maxBytes;
  }

  double min() {
    return min;
  }

  double max() {
    return max;
  }

  boolean required() {
    return required;
  }

  /** Builds a {@link TensorSpec}. */
  public static final class Builder {
    private final String name;
    private Set<TensorDatatype> datatypes = EnumSet.of(TensorDatatype.FP32);
    private int[] shape = {-1};
    private long maxElements = 1 << 20;
    private long maxBytes = 16L << 20;
    private double min = Double.NEGATIVE_INFINITY;
    private double max = Double.POSITIVE_INFINITY;
    private boolean required = true;

    private Builder(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty() || name.length() > 128) {
        throw new IllegalArgumentException("TensorSpec.name must be 1 to 128 characters");
      }
      this.name = name;
    }

    /**
     * Accepted datatypes. Default FP32.
     *
     * @param types the datatypes, at least one
     * @return this builder
     */
    public Builder datatypes(TensorDatatype... types) {
      if (types.length == 0) {
        throw new IllegalArgumentException("TensorSpec.datatypes: at least one datatype is required");
      }
      this.datatypes = EnumSet.copyOf(Arrays.asList(types));
      return this;
    }

    /**
     * The shape pattern, 1 to 8 dimensions, each {@code -1} (any) or at least 0. Default {@code [-1]}.
     *
     * @param dims the length of each dimension, outermost first, or {@code -1} for any length
     * @return this builder
     */
    public Builder shape(int... dims) {
      if (dims.length == 0 || dims.length > 8) {
        throw new IllegalArgumentException("TensorSpec.shape: 1 to 8 dimensions, was " + dims.length);
      }
      for (int d : dims) {
        if (d < -1) {
          throw new IllegalArgumentException("TensorSpec.shape: dimensions are -1 or at least 0, was " + Arrays.toString(dims));
        }
      }
      this.shape = dims.clone();
      return this;
    }

    /**
     * Most elements. Default 1,048,576.
     *
     * @param v the limit, at least 1
     * @return this builder
     */
    public Builder maxElements(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("TensorSpec.maxElements must be at least 1, was " + v);
      }
      this.maxElements = v;
      return this;
    }

    /**
     * Most bytes (elements × element size; for {@link TensorDatatype#BYTES}, the UTF-8 bytes of all
     * strings, and at least 1 per element). Default 16 MiB.
     *
     * @param v the limit in bytes, at least 1
     * @return this builder
     */
    public Builder maxBytes(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("TensorSpec.maxBytes must be at least 1, was " + v);
      }
      this.maxBytes = v;
      return this;
    }

    /**
     * Numeric elements must lie in {@code min..max}, in addition to the datatype's own range. Default: the datatype's range.
     *
     * @param min the smallest value allowed
     * @param max the largest value allowed, not below {@code min}
     * @return this builder
     */
    public Builder range(double min, double max) {
      if (!(min <= max)) {
        throw new IllegalArgumentException("TensorSpec.range: min must not exceed max, was " + min + ".." + max);
      }
      this.min = min;
      this.max = max;
      return this;
    }

    /**
     * Whether the request may omit this tensor. Default: required.
     *
     * @return this builder
     */
    public Builder optional() {
      this.required = false;
      return this;
    }

    /**
     * Builds the spec.
     *
     * @return the spec, immutable
     */
    public TensorSpec build() {
      return new TensorSpec(this);
    }
  }
}
