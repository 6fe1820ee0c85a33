package io.modelguard.examples.model;

import java.util.Objects;

/**
 * The JSON input one model accepts: a single field holding an array of exactly {@code length}
 * finite numbers, each in {@code [min, max]}. For example digits: {@code {"pixels":[64 numbers
 * 0..16]}}.
 *
 * @param field the name of the one field of the request object
 * @param length how many numbers the array holds
 * @param min the smallest allowed value
 * @param max the largest allowed value
 * @param description what the numbers are, for error details and documentation
 */
public record InputSpec(String field, int length, double min, double max, String description) {
  /** Validates the spec. */
  public InputSpec {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(description, "description");
    if (length < 1 || !(min <= max)) {
      throw new IllegalArgumentException("invalid input spec for '" + field + "'");
    }
  }

  /** The client-safe explanation of a valid input, such as "'pixels' must be an array of 64 numbers from 0 to 16". */
  public String requirement() {
    return "'" + field + "' must be an array of " + length + " numbers from " + format(min) + " to " + format(max)
        + " (" + description + ")";
  }

  private static String format(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
