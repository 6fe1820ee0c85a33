package io.modelguard.test.input;

import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ImageSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import io.modelguard.input.SafeUrlFetcher;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Input-validation cases every adapter on every runtime must answer identically: the requests, and
 * the exact status, code and detail of each answer. A runtime's conformance test deploys an
 * endpoint at {@link #PATH} whose chain is {@link #chain()} (the VALIDATE policy only, no
 * authentication) and replays {@link #cases()}.
 *
 * <p>No case connects anywhere: URL refusals are decided before connecting, and the one fetch
 * failure comes from a resolver that knows no name, so the case is deterministic on any machine
 * and sends no DNS query.
 */
public final class InputConformance {
  /** The chain name to register with {@link #chain()}. */
  public static final String CHAIN = "input";
  /** The path template of the validated prediction endpoint ({@code @ModelSecured(model = "{model}", chain = "input")}). */
  public static final String PATH = "/v1/models/{model}/validate";
  /** The digits model's body cap. */
  public static final int DIGITS_MAX_BODY = 16 * 1024;

  private InputConformance() {}

  /**
   * One request and the answer it must get.
   *
   * @param name what the case shows
   * @param model the model in the path
   * @param contentType the request's {@code Content-Type}
   * @param body the request body
   * @param status the expected HTTP status (200 for allowed)
   * @param code the expected problem code, or null when allowed
   * @param detail the expected problem detail, or null when allowed
   */
  public record Case(String name, String model, String contentType, byte[] body, int status, String code, String detail) {
    /** {@return the path of this case's request} */
    public String path() {
      return PATH.replace("{model}", model);
    }
  }

  /**
   * The policy: {@code digits} (64 pixels in 0..16, 16 KiB) and {@code image-classifier} (an
   * {@code imageUrl}), with a fetcher whose resolver knows no name.
   *
   * @return a new policy with the two models and the name-less fetcher
   */
  public static ModelInputPolicy policy() {
    return ModelInputPolicy.builder()
        .model(ModelSpec.builder("digits").maxBodyBytes(DIGITS_MAX_BODY)
            .field("pixels", FieldSpec.numbers(64).range(0, 16)).build())
        .model(ModelSpec.builder("image-classifier").maxBodyBytes(4096)
            .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(1024).maxHeight(1024).build())).build())
        .fetcher(SafeUrlFetcher.builder().resolver(host -> {
          throw new UnknownHostException("the conformance resolver knows no names");
        }).build())
        .build();
  }

  /**
   * Adds {@link #policy()} in {@link Phase#VALIDATE} to a chain.
   *
   * @return a chain customizer adding one shared instance of {@link #policy()} under the name
   *     {@code input}
   */
  public static Consumer<PolicyChain.Builder> chain() {
    ModelInputPolicy policy = policy();
    return c -> c.policy(Phase.VALIDATE, "input", policy);
  }

  private static String pixels(String value) {
    return IntStream.range(0, 64).mapToObj(i -> value).collect(Collectors.joining(",", "{\"pixels\":[", "]}"));
  }

  private static Case json(String name, String model, String json, int status, String code, String detail) {
    return new Case(name, model, "application/json", json.getBytes(StandardCharsets.UTF_8), status, code, detail);
  }

  /** {@return every case, allowed ones first} */
  public static List<Case> cases() {
    return List.of(
        json("valid digits input", "digits", pixels("3"), 200, null, null),
        json("pixel out of range", "digits", pixels("17"), 422, "input.invalid",
            "Field 'pixels' element 0 must be a number in 0..16."),
        json("too few pixels", "digits", "{\"pixels\":[1,2,3]}", 422, "input.invalid",
            "Field 'pixels' must be an array of 64 numbers (it has 3)."),
        json("unparseable JSON", "digits", "{\"pixels\":[1,2", 400, "input.malformed",
            "The request body could not be parsed."),
        json("duplicate field", "digits", pixels("1").replace("}", "," + pixels("2").substring(1)), 400, "input.malformed",
            "The request body could not be parsed."),
        json("unknown field", "digits", pixels("1").replace("}", ",\"debug\":true}"), 422, "input.invalid",
            "The input contains a field that is not in the model's input specification."),
        new Case("wrong media type", "digits", "text/plain", pixels("3").getBytes(StandardCharsets.UTF_8), 415,
            "input.unsupported_media_type", "This model accepts application/json."),
        json("body over the cap", "digits", "{\"pixels\":\"" + "x".repeat(DIGITS_MAX_BODY) + "\"}", 413, "input.too_large",
            "The request body is larger than this model accepts (16384 bytes)."),
        json("metadata URL", "image-classifier", "{\"imageUrl\":\"http://169.254.169.254/latest/meta-data/\"}", 422,
            "input.url_blocked", "Field 'imageUrl': The URL's host is not a public address."),
        json("short-form loopback URL", "image-classifier", "{\"imageUrl\":\"http://127.1/\"}", 422,
            "input.url_blocked", "Field 'imageUrl': The URL's host is an ambiguous IP address form."),
        json("IPv4-mapped loopback URL", "image-classifier", "{\"imageUrl\":\"http://[::ffff:127.0.0.1]/\"}", 422,
            "input.url_blocked", "Field 'imageUrl': The URL's host is not a public address."),
        json("metadata name", "image-classifier", "{\"imageUrl\":\"http://metadata.google.internal/\"}", 422,
            "input.url_blocked", "Field 'imageUrl': The URL's host is not allowed."),
        json("file URL", "image-classifier", "{\"imageUrl\":\"file:///etc/passwd\"}", 422,
            "input.url_blocked", "Field 'imageUrl': Only http and https URLs are allowed."),
        json("userinfo URL", "image-classifier", "{\"imageUrl\":\"http://images.example.com@127.0.0.1/\"}", 422,
            "input.url_blocked", "Field 'imageUrl': URLs with user information are not allowed."),
        json("unresolvable host", "image-classifier", "{\"imageUrl\":\"https://images.example.com/cat.png\"}", 502,
            "input.fetch_failed", "Field 'imageUrl': The URL's host could not be resolved."),
        json("URL not a string", "image-classifier", "{\"imageUrl\":42}", 422, "input.invalid",
            "Field 'imageUrl' must be a URL string."));
  }
}
