package io.modelguard.extraction;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.modelguard.InferenceRequest;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * Turns a request body into the feature vector the detectors compare. The built-in {@link
 * #jsonNumbers(String)} is the identity encoding for tabular models; images or text plug in their
 * own (for example an embedding). Implementations must be thread-safe.
 */
@FunctionalInterface
public interface QueryEncoder {

  /**
   * The features of {@code body}, or empty if the body has none this encoder understands.
   *
   * @param body the request body; not null
   * @return the features, or empty
   */
  Optional<double[]> encode(byte[] body);

  /**
   * The features of {@code request}: by default those of its body (read up to {@code
   * maxBodyBytes}). Override it for features the body does not hold, such as an image ModelGuard
   * fetched for the request ({@link io.modelguard.input.FetchedInputs}, a request attribute).
   *
   * @param request the request
   * @param maxBodyBytes the most body bytes to read
   * @return the features, or empty
   * @throws IOException if the body cannot be read
   */
  default Optional<double[]> encode(InferenceRequest request, int maxBodyBytes) throws IOException {
    return encode(request.body(maxBodyBytes));
  }

  /**
   * The numeric array at JSON pointer {@code pointer} (for example {@code /pixels}), used as is.
   * Empty if the body is not one JSON document (malformed, or anything but whitespace after it),
   * names a member twice in one object, the pointer is missing, or any element is not a finite
   * number: the model's parser may read another array in an ambiguous body (the first of two
   * members, every document of a stream), and the detectors and the noise key would then see
   * features the model did not answer.
   *
   * @param pointer the JSON pointer to the array, such as {@code /pixels}; not null
   * @return the encoder
   */
  static QueryEncoder jsonNumbers(String pointer) {
    JsonPointer ptr = JsonPointer.compile(Objects.requireNonNull(pointer, "pointer"));
    JsonFactory json = JsonFactory.builder()
        .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    return body -> {
      try {
        // Streamed, not a tree: this runs on every observed query.
        double[] out = JsonNumberArray.readWholeDocument(json, body, ptr);
        if (out == null) {
          return Optional.empty();
        }
        for (double v : out) {
          if (!Double.isFinite(v)) {
            return Optional.empty();
          }
        }
        return Optional.of(out);
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    };
  }
}
