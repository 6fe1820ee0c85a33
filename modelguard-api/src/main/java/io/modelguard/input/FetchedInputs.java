package io.modelguard.input;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link ModelInputPolicy} fetched for one request: for every {@link FieldSpec.Kind#IMAGE_URL}
 * field, the bytes that passed the URL, content and image checks. The application uses these bytes
 * rather than fetching the URL again (a second fetch could get different content, from a different
 * address). Immutable.
 *
 * <p>How the application gets them: the policy stores them as the request attribute {@link
 * #ATTRIBUTE} when the adapter's request implements {@link RequestAttributes} (servlet: {@code
 * request.getAttribute(FetchedInputs.ATTRIBUTE)}), and passes them to the listener given to
 * {@link ModelInputPolicy.Builder#onFetched}.
 */
public final class FetchedInputs {
  /** The request attribute name: {@code io.modelguard.input.FetchedInputs}. */
  public static final String ATTRIBUTE = "io.modelguard.input.FetchedInputs";

  private final Map<String, FetchedImage> images;

  FetchedInputs(Map<String, FetchedImage> images) {
    this.images = Collections.unmodifiableMap(new LinkedHashMap<>(images));
  }

  /**
   * {@return the image fetched for {@code field}, if that field was present}
   *
   * @param field the field name, as in the model's spec
   */
  public Optional<FetchedImage> image(String field) {
    return Optional.ofNullable(images.get(field));
  }

  /** {@return every fetched image by field name, in the spec's order} */
  public Map<String, FetchedImage> images() {
    return images;
  }

  /**
   * {@return the inputs a policy stored on {@code request}, if it carries attributes and has some}
   *
   * @param request the request a {@link ModelInputPolicy} checked
   */
  public static Optional<FetchedInputs> from(RequestAttributes request) {
    return request.attribute(ATTRIBUTE).filter(FetchedInputs.class::isInstance).map(FetchedInputs.class::cast);
  }

  @Override
  public String toString() {
    return "FetchedInputs" + images.keySet();
  }

  /**
   * One fetched image: its bytes and the header the checks read.
   *
   * @param header format and dimensions read from the header (no decoding happened)
   * @param bytes the fetched bytes (not copied: do not modify)
   */
  public record FetchedImage(ImageHeader header, byte[] bytes) {}
}
