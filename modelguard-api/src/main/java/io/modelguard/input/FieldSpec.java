package io.modelguard.input;

import java.util.Arrays;
import java.util.Objects;

/**
 * The type, shape, range and length of one named field of a JSON model input. Immutable; the
 * modifiers return copies.
 *
 * <pre>{@code
 * FieldSpec.numbers(64).range(0, 16)            // 64 numbers, each in 0..16 (the digits model)
 * FieldSpec.numbers(8, 8).range(0, 16).integer() // an 8 x 8 nested array of integers
 * FieldSpec.number().range(0, 120).optional()
 * FieldSpec.text(TextSpec.builder().maxLength(2000).build())
 * FieldSpec.imageUrl(ImageSpec.defaults())      // fetched through SafeUrlFetcher, then checked
 * }</pre>
 */
public final class FieldSpec {
  /** The kinds of field. */
  public enum Kind {
    /** One number. */
    NUMBER,
    /** An array of numbers of a fixed shape (nested arrays for more than one dimension) or a length range. */
    NUMBERS,
    /** A string checked by a {@link TextSpec}. */
    TEXT,
    /** {@code true} or {@code false}. */
    BOOLEAN,
    /** A URL string fetched through the policy's {@link SafeUrlFetcher}; the content is checked by an {@link ImageSpec}. */
    IMAGE_URL
  }

  final Kind kind;
  final int[] shape; // NUMBERS with a fixed shape
  final int minLength; // NUMBERS with a length range
  final int maxLength;
  final double min;
  final double max;
  final boolean integer;
  final boolean required;
  final TextSpec text;
  final ImageSpec image;

  private FieldSpec(Kind kind, int[] shape, int minLength, int maxLength, double min, double max,
      boolean integer, boolean required, TextSpec text, ImageSpec image) {
    this.kind = kind;
    this.shape = shape;
    this.minLength = minLength;
    this.maxLength = maxLength;
    this.min = min;
    this.max = max;
    this.integer = integer;
    this.required = required;
    this.text = text;
    this.image = image;
  }

  /**
   * One finite number, any value until {@link #range} narrows it. Fields have no element type: a
   * number is checked as a double, so without a range a field takes values a float32 model reads as
   * infinity (3.5e38). For such a model declare {@code range(-3.4028235e38, 3.4028235e38)} (float32's
   * largest finite value as float writers print it), or take the input as a {@link TensorSpec} of
   * {@link TensorDatatype#FP32}, whose datatype refuses them. The same holds for {@link #numbers}
   * and {@link #numberList}.
   *
   * @return a new number field, required
   */
  public static FieldSpec number() {
    return new FieldSpec(Kind.NUMBER, null, 0, 0, -Double.MAX_VALUE, Double.MAX_VALUE, false, true, null, null);
  }

  /**
   * Finite numbers in exactly this shape: {@code numbers(64)} is a flat array of 64, {@code
   * numbers(8, 8)} an array of 8 arrays of 8. At most 8 dimensions and 16,777,216 elements.
   *
   * @param shape the length of each dimension, outermost first: 1 to 8 dimensions, each at least 1
   * @return a new number array field, required
   * @throws IllegalArgumentException if the shape has no dimension or more than 8, a dimension
   *     below 1, or more than 16,777,216 elements in all
   */
  public static FieldSpec numbers(int... shape) {
    if (shape.length == 0 || shape.length > 8) {
      throw new IllegalArgumentException("FieldSpec.numbers: 1 to 8 dimensions, was " + shape.length);
    }
    long elements = 1;
    for (int d : shape) {
      if (d < 1) {
        throw new IllegalArgumentException("FieldSpec.numbers: every dimension must be at least 1, was " + Arrays.toString(shape));
      }
      elements *= d;
      if (elements > (1 << 24)) {
        throw new IllegalArgumentException("FieldSpec.numbers: more than 16,777,216 elements");
      }
    }
    return new FieldSpec(Kind.NUMBERS, shape.clone(), 0, 0, -Double.MAX_VALUE, Double.MAX_VALUE, false, true, null, null);
  }

  /**
   * {@return a flat array of {@code minLength} to {@code maxLength} finite numbers}
   *
   * @param minLength the fewest numbers, at least 0
   * @param maxLength the most numbers, from {@code minLength} (and at least 1) to 16,777,216
   * @throws IllegalArgumentException if the lengths are out of those bounds
   */
  public static FieldSpec numberList(int minLength, int maxLength) {
    if (minLength < 0 || maxLength < 1 || minLength > maxLength || maxLength > (1 << 24)) {
      throw new IllegalArgumentException(
          "FieldSpec.numberList: need 0 <= minLength <= maxLength <= 16,777,216, was " + minLength + ".." + maxLength);
    }
    return new FieldSpec(Kind.NUMBERS, null, minLength, maxLength, -Double.MAX_VALUE, Double.MAX_VALUE, false, true, null, null);
  }

  /**
   * {@return a string checked against {@code spec}}
   *
   * @param spec the text rules; not null
   */
  public static FieldSpec text(TextSpec spec) {
    return new FieldSpec(Kind.TEXT, null, 0, 0, 0, 0, false, true, Objects.requireNonNull(spec, "spec"), null);
  }

  /** {@return a boolean} */
  public static FieldSpec bool() {
    return new FieldSpec(Kind.BOOLEAN, null, 0, 0, 0, 0, false, true, null, null);
  }

  /**
   * An http(s) URL string (at most 2,048 characters) that the input policy fetches through its
   * {@link SafeUrlFetcher}; the fetched bytes must satisfy {@code image}. The policy exposes them to
   * the application as {@link FetchedInputs}.
   *
   * @param image the rules the fetched image must satisfy; not null
   * @return a new image URL field, required
   */
  public static FieldSpec imageUrl(ImageSpec image) {
    return new FieldSpec(Kind.IMAGE_URL, null, 0, 0, 0, 0, false, true, null, Objects.requireNonNull(image, "image"));
  }

  /**
   * A copy whose numbers must lie in {@code min..max} (inclusive).
   *
   * @param min the smallest value allowed, not NaN
   * @param max the largest value allowed, not NaN nor below {@code min}
   * @return a new field; this one is unchanged
   * @throws IllegalStateException if this is not a number field
   * @throws IllegalArgumentException if {@code min} exceeds {@code max} or either is NaN
   */
  public FieldSpec range(double min, double max) {
    if (kind != Kind.NUMBER && kind != Kind.NUMBERS) {
      throw new IllegalStateException("FieldSpec.range applies to number fields only, not " + kind);
    }
    if (!(min <= max) || Double.isNaN(min) || Double.isNaN(max)) {
      throw new IllegalArgumentException("FieldSpec.range: min must not exceed max, was " + min + ".." + max);
    }
    return new FieldSpec(kind, shape, minLength, maxLength, min, max, integer, required, text, image);
  }

  /**
   * A copy whose numbers must be integral. An integral value counts however it is written ({@code
   * 1.0} and {@code 1e2} are integers); the check and the range are exact, not through doubles, so
   * {@code 1.00000000000000001} is refused, and so is {@code 1000000000000000001} under {@code
   * range(0, 1e18)}.
   *
   * @return a new field; this one is unchanged
   * @throws IllegalStateException if this is not a number field
   */
  public FieldSpec integer() {
    if (kind != Kind.NUMBER && kind != Kind.NUMBERS) {
      throw new IllegalStateException("FieldSpec.integer applies to number fields only, not " + kind);
    }
    return new FieldSpec(kind, shape, minLength, maxLength, min, max, true, required, text, image);
  }

  /** {@return a copy that may be absent (fields are required by default). {@code null} counts as absent} */
  public FieldSpec optional() {
    return new FieldSpec(kind, shape, minLength, maxLength, min, max, integer, false, text, image);
  }

  /** {@return the kind of field} */
  public Kind kind() {
    return kind;
  }

  /** {@return whether the field must be present} */
  public boolean isRequired() {
    return required;
  }

  /** {@return the fixed shape of a {@link Kind#NUMBERS} field (a copy), or an empty array for a length range or another kind} */
  public int[] shape() {
    return shape == null ? new int[0] : shape.clone();
  }

  /** The image spec of an {@link Kind#IMAGE_URL} field, or null. */
  ImageSpec image() {
    return image;
  }

  String describeRange() {
    return (integer ? "an integer" : "a number") + " in " + fmt(min) + ".." + fmt(max);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
