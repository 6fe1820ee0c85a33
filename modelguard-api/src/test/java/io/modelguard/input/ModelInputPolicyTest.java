package io.modelguard.input;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The VALIDATE policy end to end: body cap → media type → JSON limits → spec → URL fetch. */
class ModelInputPolicyTest {
  static final ModelSpec DIGITS = ModelSpec.builder("digits")
      .maxBodyBytes(16 * 1024)
      .field("pixels", FieldSpec.numbers(64).range(0, 16))
      .build();

  static String pixels(int n, String value) {
    return IntStream.range(0, n).mapToObj(i -> value).collect(Collectors.joining(",", "[", "]"));
  }

  static String digits(String pixelsJson) {
    return "{\"pixels\":" + pixelsJson + "}";
  }

  static GuardDecision check(ModelInputPolicy policy, InferenceRequest request) {
    return policy.check(request);
  }

  static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  static void assertDenied(GuardDecision d, ReasonCode code) {
    assertThat(d.isAllowed()).as("allowed?").isFalse();
    assertThat(d.reason()).contains(code);
  }

  private final ModelInputPolicy digitsPolicy = ModelInputPolicy.of(DIGITS);

  @Test
  void acceptsATypicalDigitsInput() {
    GuardDecision d = digitsPolicy.check(TestRequest.json("digits", digits(pixels(64, "7"))));

    assertThat(d.isAllowed()).isTrue();
  }

  @Test
  void anImageUrlFieldAcceptingAFormatTheFetcherRefusesFailsAtBuild() {
    // WebP allowed by the spec, but the default fetcher accepts PNG, JPEG and GIF only: every WebP
    // image would have been refused as a failed fetch (502), with nothing telling the operator why.
    ModelSpec webp = ModelSpec.builder("classifier")
        .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().formats(ImageFormat.PNG, ImageFormat.WEBP).build()))
        .build();
    assertThatThrownBy(() -> ModelInputPolicy.of(webp))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("ModelInputPolicy: model 'classifier', field 'imageUrl': its ImageSpec accepts [WEBP], which "
            + "the fetcher does not accept (its acceptedFormats are [PNG, JPEG, GIF]), so every such image would be "
            + "refused as a failed fetch; add them with SafeUrlFetcher.builder().acceptedFormats(...) or drop them "
            + "from the ImageSpec");
    // A fetcher that accepts it too, or one accepting any content, builds.
    assertThat(ModelInputPolicy.builder().model(webp)
        .fetcher(SafeUrlFetcher.builder().acceptedFormats(ImageFormat.PNG, ImageFormat.WEBP).build()).build()
        .spec("classifier")).isPresent();
    assertThat(ModelInputPolicy.builder().model(webp).fetcher(SafeUrlFetcher.builder().acceptAnyContent().build())
        .build().spec("classifier")).isPresent();
  }

  @Test
  void refusesAModelWithoutSpecFailingClosed() {
    assertDenied(digitsPolicy.check(TestRequest.json("iris", "{}")), ReasonCode.INPUT_INVALID);
  }

  @Nested
  class BodyLimits {
    @Test
    void aDeclaredContentLengthAboveTheCapIsRefusedWithoutReadingTheBody() {
      TestRequest r = TestRequest.json("digits", digits(pixels(64, "1"))).header("Content-Length", "10485760");

      assertDenied(digitsPolicy.check(r), ReasonCode.INPUT_TOO_LARGE);
      assertThat(r.bytesRead()).isZero();
    }

    @Test
    void aTenMegabyteBodyToAOneMegabyteModelIsRefusedAfterReadingAtMostTheCap() {
      ModelSpec spec = ModelSpec.builder("big").maxBodyBytes(1 << 20).field("text", FieldSpec.text(TextSpec.defaults())).build();
      // No Content-Length (a chunked upload): the cap must hold while reading.
      TestRequest r = new TestRequest("big", "application/json",
          TestRequest.generated(10L << 20, "{\"text\":\"".getBytes(StandardCharsets.UTF_8), (byte) 'a', "\"}".getBytes(StandardCharsets.UTF_8)));

      GuardDecision d = ModelInputPolicy.of(spec).check(r);

      assertDenied(d, ReasonCode.INPUT_TOO_LARGE);
      assertThat(r.bytesRead()).isLessThanOrEqualTo((1 << 20) + 1);
      assertThat(d.detail()).contains("The request body is larger than this model accepts (1048576 bytes).");
    }
  }

  @Nested
  class MediaTypes {
    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16",
        "application/jsonx", "image/png", "multipart/form-data; boundary=x"})
    void refusesMediaTypesTheModelDoesNotAccept(String type) {
      TestRequest r = TestRequest.bytes("digits", type, digits(pixels(64, "1")).getBytes(StandardCharsets.UTF_8));

      assertDenied(digitsPolicy.check(r), ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
      assertThat(r.bytesRead()).isZero();
    }

    @Test
    void refusesAMissingContentType() {
      assertDenied(digitsPolicy.check(TestRequest.bytes("digits", null, new byte[] {'{', '}'})),
          ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json", "Application/JSON", "application/json; charset=UTF-8",
        "application/json;charset=\"utf-8\""})
    void acceptsJsonInUtf8(String type) {
      TestRequest r = TestRequest.bytes("digits", type, digits(pixels(64, "1")).getBytes(StandardCharsets.UTF_8));

      assertThat(digitsPolicy.check(r).isAllowed()).isTrue();
    }

    private final ModelSpec upload = ModelSpec.builder("thumbs").imageBody(ImageSpec.builder().maxWidth(64).maxHeight(64).build()).build();

    @Test
    void acceptsAnImageBodyWhoseMagicBytesMatchItsType() {
      assertThat(ModelInputPolicy.of(upload).check(TestRequest.bytes("thumbs", "image/png", TestImages.real("png", 32, 32))).isAllowed()).isTrue();
      assertThat(ModelInputPolicy.of(upload).check(TestRequest.bytes("thumbs", "image/jpeg", TestImages.real("jpeg", 32, 32))).isAllowed()).isTrue();
      assertThat(ModelInputPolicy.of(upload).check(TestRequest.bytes("thumbs", "image/gif", TestImages.real("gif", 32, 32))).isAllowed()).isTrue();
    }

    @Test
    void refusesAnImageBodyWhoseBytesAreNotTheDeclaredFormat() {
      ModelInputPolicy p = ModelInputPolicy.of(upload);
      assertDenied(p.check(TestRequest.bytes("thumbs", "image/png", TestImages.real("jpeg", 8, 8))), ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
      assertDenied(p.check(TestRequest.bytes("thumbs", "image/gif", "<svg onload=alert(1)>".getBytes(StandardCharsets.UTF_8))),
          ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
      assertDenied(p.check(TestRequest.bytes("thumbs", "image/svg+xml", "<svg/>".getBytes(StandardCharsets.UTF_8))),
          ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
    }

    @Test
    void refusesImagesWhoseHeadersDeclareTooManyPixelsWithoutDecoding() {
      ModelInputPolicy p = ModelInputPolicy.of(upload);
      GuardDecision png = p.check(TestRequest.bytes("thumbs", "image/png", TestImages.pngDeclaring(20_000, 20_000, 6144)));
      GuardDecision jpeg = p.check(TestRequest.bytes("thumbs", "image/jpeg", TestImages.jpegDeclaring(30_000, 30_000)));
      GuardDecision gif = p.check(TestRequest.bytes("thumbs", "image/gif", TestImages.gifWithLargeFrame(60_000, 60_000)));

      for (GuardDecision d : List.of(png, jpeg, gif)) {
        assertDenied(d, ReasonCode.INPUT_INVALID);
        assertThat(d.detail()).contains("The image is larger than 64 x 64 pixels.");
      }
    }
  }

  @Nested
  class MalformedJson {
    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"pixels\": [1,2,}", "NaN", "{\"pixels\": NaN}", "{'pixels': [1]}",
        "{\"pixels\": PIX /* comment */}", "{\"pixels\": PIX} trailing", "{\"pixels\": PIX}{\"b\":2}",
        "{\"pixels\": PIX, \"pixels\": PIX}", "{\"pixels\": [01]}", "", "   ", "{]", "{\"pixels\": [1,,2]}",
        "{\"pixels\": PIX,}", "{\"pixels\": [Infinity]}"})
    void unparseableJsonIsMalformedWithTheGenericDetail(String template) {
      String json = template.replace("PIX", pixels(64, "1"));
      GuardDecision d = digitsPolicy.check(TestRequest.json("digits", json));

      assertDenied(d, ReasonCode.INPUT_MALFORMED);
      assertThat(d.detail()).as("never Jackson's message").isEmpty();
      assertThat(ProblemRenderer.render(d).bodyAsString()).contains("\"detail\":\"The request body could not be parsed.\"");
    }

    @Test
    void jsonThatIsNotUtf8IsMalformed() {
      byte[] utf16 = digits(pixels(64, "1")).getBytes(StandardCharsets.UTF_16BE);
      byte[] badUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xc3, (byte) 0x28, '"', '}'};

      assertDenied(digitsPolicy.check(TestRequest.bytes("digits", "application/json", utf16)), ReasonCode.INPUT_MALFORMED);
      ModelInputPolicy text = ModelInputPolicy.of(ModelSpec.builder("t").field("a", FieldSpec.text(TextSpec.defaults())).build());
      assertDenied(text.check(TestRequest.bytes("t", "application/json", badUtf8)), ReasonCode.INPUT_MALFORMED);
    }

    @Test
    void overlongAndOutOfRangeUtf8IsMalformedNotDecodedAsAscii() {
      // Jackson decodes C1 AF as 'o' and C0 AF as '/', so the validator would check "prompt" and
      // "/" while Python's json refuses the body and replacing decoders (servlet readers, Go, Node)
      // see U+FFFD U+FFFD: another name, another text, two or three characters for one.
      ModelInputPolicy text = ModelInputPolicy.of(ModelSpec.builder("t").field("prompt", FieldSpec.text(TextSpec.defaults())).build());
      byte[][] bodies = {
          {'{', '"', 'p', 'r', (byte) 0xc1, (byte) 0xaf, 'm', 'p', 't', '"', ':', '"', 'a', '"', '}'}, // overlong 'o' in a name
          {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xc0, (byte) 0xaf, '"', '}'}, // overlong '/'
          {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xe0, (byte) 0x80, (byte) 0xaf, '"', '}'}, // 3-byte overlong
          {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xf0, (byte) 0x80, (byte) 0x81, (byte) 0xaf, '"', '}'},
          {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"', '}'}, // > U+10FFFF
          {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', 'a', '"', ',', '"', 'x', '"', ':', (byte) 0xc3, '}'},
      };
      for (byte[] body : bodies) {
        assertDenied(text.check(TestRequest.bytes("t", "application/json", body)), ReasonCode.INPUT_MALFORMED);
      }
      byte[] fine = "{\"prompt\":\"caf\u00e9 \u20ac \uD83D\uDE00\"}".getBytes(StandardCharsets.UTF_8);
      assertThat(text.check(TestRequest.bytes("t", "application/json", fine)).isAllowed()).isTrue();
    }
  }

  @Nested
  class FieldSpecs {
    @Test
    void namesTheFieldAndTheRuleButNeverTheValue() {
      List<String> details = new ArrayList<>();
      for (String body : List.of(
          digits(pixels(63, "1")), digits(pixels(65, "1")), digits(pixels(64, "99999")), digits(pixels(64, "-12345")),
          digits(pixels(64, "\"secret-token\"")), "{}", "{\"pixels\":null}", "[1,2]", digits("\"x\""),
          "{\"pixels\":" + pixels(64, "1") + ",\"extra\":\"secret-token\"}", digits(pixels(64, "1e400")))) {
        GuardDecision d = digitsPolicy.check(TestRequest.json("digits", body));
        assertDenied(d, ReasonCode.INPUT_INVALID);
        details.add(d.detail().orElseThrow());
      }
      assertThat(details).containsExactly(
          "Field 'pixels' must be an array of 64 numbers (it has 63).",
          "Field 'pixels' must be an array of 64 numbers (it has more).",
          "Field 'pixels' element 0 must be a number in 0..16.",
          "Field 'pixels' element 0 must be a number in 0..16.",
          "Field 'pixels' element 0 must be a number.",
          "Field 'pixels' is required.",
          "Field 'pixels' is required.",
          "The input must be a JSON object.",
          "Field 'pixels' must be an array of 64 numbers.",
          "The input contains a field that is not in the model's input specification.",
          "Field 'pixels' element 0 must be a number in 0..16.");
      assertThat(String.join(" ", details)).doesNotContain("99999", "12345", "secret-token", "extra");
    }

    @Test
    void checksNestedShapesIntegersAndOptionalFields() {
      ModelSpec spec = ModelSpec.builder("grid")
          .field("image", FieldSpec.numbers(2, 3).range(0, 255).integer())
          .field("age", FieldSpec.number().range(0, 120).optional())
          .field("flag", FieldSpec.bool().optional())
          .field("scores", FieldSpec.numberList(1, 4))
          .build();
      ModelInputPolicy p = ModelInputPolicy.of(spec);

      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"scores\":[0.5]}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"age\":null,\"flag\":true,\"scores\":[1,2,3,4]}"))
          .isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6.5]],\"scores\":[1]}")).detail())
          .contains("Field 'image' element 5 must be an integer in 0..255.");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3]],\"scores\":[1]}")).detail())
          .contains("Field 'image' must be an array of 2 arrays of 3 numbers (it has 1).");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[1,2,3,4,5,6],\"scores\":[1]}")).detail())
          .contains("Field 'image' must be an array of 3 numbers.");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"scores\":[]}")).detail())
          .contains("Field 'scores' must have at least 1 numbers.");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"scores\":[1,2,3,4,5]}")).detail())
          .contains("Field 'scores' must have at most 4 numbers.");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"scores\":[1],\"age\":121}")).detail())
          .contains("Field 'age' must be a number in 0..120.");
      assertThat(p.check(TestRequest.json("grid", "{\"image\":[[1,2,3],[4,5,6]],\"scores\":[1],\"flag\":\"yes\"}")).detail())
          .contains("Field 'flag' must be true or false.");
    }

    @Test
    void checksIntegerFieldsExactlyNotThroughDoubles() {
      ModelSpec spec = ModelSpec.builder("count").field("n", FieldSpec.number().range(0, 1e18).integer()).build();
      ModelInputPolicy p = ModelInputPolicy.of(spec);

      // An integral value counts as an integer however it is written, as it always has.
      for (String ok : new String[] {"1", "1.0", "1e2", "1000000000000000000", "1.0E18"}) {
        assertThat(p.check(TestRequest.json("count", "{\"n\":" + ok + "}")).isAllowed()).as(ok).isTrue();
      }
      for (String bad : new String[] {"1.00000000000000001", "1000000000000000001", "1000000000000000000.5", "-1", "1e400", "1e-400"}) {
        assertThat(p.check(TestRequest.json("count", "{\"n\":" + bad + "}")).detail()).as(bad)
            .contains("Field 'n' must be an integer in 0..1.0E18.");
      }
    }

    @Test
    void anIntegerOneAboveTwoToThe53IsNotTakenForItsDouble() {
      // 9007199254740993 (2^53 + 1) reads as the double 2^53, which passed as exact.
      ModelInputPolicy p = ModelInputPolicy.of(ModelSpec.builder("id")
          .field("n", FieldSpec.number().range(-0x1p53, 0x1p53).integer()).build());

      assertThat(p.check(TestRequest.json("id", "{\"n\":9007199254740992}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("id", "{\"n\":-9007199254740992}")).isAllowed()).isTrue();
      for (String over : new String[] {"9007199254740993", "-9007199254740993"}) {
        assertThat(p.check(TestRequest.json("id", "{\"n\":" + over + "}")).detail()).as(over)
            .contains("Field 'n' must be an integer in -9.007199254740992E15..9.007199254740992E15.");
      }
    }

    @Test
    void aNumberFieldHasNoElementTypeSoAFloat32ModelDeclaresFloat32sRange() {
      // A field is a JSON number, checked as a double: without a range it takes any finite double,
      // 3.5e38 included, which a float32 model reads as infinity. A tensor of FP32 refuses that by
      // its datatype (TensorInputTest); a field says so with a range.
      ModelSpec spec = ModelSpec.builder("floats")
          .field("any", FieldSpec.number())
          .field("f32", FieldSpec.number().range(-3.4028235e38, 3.4028235e38).optional()).build();
      ModelInputPolicy p = ModelInputPolicy.of(spec);

      assertThat(p.check(TestRequest.json("floats", "{\"any\":3.5e38}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("floats", "{\"any\":1.7976931348623157e308}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("floats", "{\"any\":0,\"f32\":" + Float.MAX_VALUE + "}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("floats", "{\"any\":0,\"f32\":" + -Float.MAX_VALUE + "}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("floats", "{\"any\":0,\"f32\":3.5e38}")).detail())
          .contains("Field 'f32' must be a number in -3.4028235E38..3.4028235E38.");
    }

    @Test
    void anIntegerFieldWithoutARangeDoesNotBuildItsBoundsExactlyForEveryElement() {
      // The default range is +-Double.MAX_VALUE: each element written as a decimal ("1.0") built
      // both bounds as 309-digit BigDecimals, about 3 KB per element: some 780 MB for one 1 MiB
      // body, where the same body to a number field costs about 30 MB.
      int n = 262_000;
      ModelInputPolicy p = ModelInputPolicy.of(ModelSpec.builder("ints").field("x", FieldSpec.numbers(n).integer()).build());
      String body = "{\"x\":[" + "1.0,".repeat(n - 1) + "1.0]}";
      assertThat(p.check(TestRequest.json("ints", body)).isAllowed()).isTrue(); // warm-up

      long before = allocatedByThisThread();
      GuardDecision d = p.check(TestRequest.json("ints", body));
      long allocated = allocatedByThisThread() - before;

      assertThat(d.isAllowed()).isTrue();
      assertThat(allocated).as("bytes allocated for a %d-byte body", body.length()).isLessThan(150L << 20);
    }

    @Test
    void checksTextLengthInvisibleUnicodeAndDenyPatternsWithoutQuotingTheText() {
      ModelSpec spec = ModelSpec.builder("chat").field("prompt", FieldSpec.text(TextSpec.builder()
          .maxLength(50)
          .denyPattern("api-key", "sk-[A-Za-z0-9]{20,}")
          .denyPattern("ignore-instructions", "(?i)ignore (all )?previous instructions")
          .build())).build();
      ModelInputPolicy p = ModelInputPolicy.of(spec);

      assertThat(p.check(TestRequest.json("chat", "{\"prompt\":\"What is 2 + 2?\\nThanks\"}")).isAllowed()).isTrue();
      assertThat(p.check(TestRequest.json("chat", "{\"prompt\":\"Grüße, 世界 👋\"}")).isAllowed()).isTrue();
      assertThat(detail(p, "{\"prompt\":\"" + "x".repeat(51) + "\"}")).isEqualTo("Field 'prompt' is longer than 50 characters.");
      assertThat(detail(p, "{\"prompt\":\"hi\\u200bthere\"}")).isEqualTo("Field 'prompt' contains invisible or control characters.");
      assertThat(detail(p, "{\"prompt\":\"hi\\u202ethere\"}")).isEqualTo("Field 'prompt' contains invisible or control characters.");
      assertThat(detail(p, "{\"prompt\":\"tag \udb40\udc41\"}")).isEqualTo("Field 'prompt' contains invisible or control characters.");
      assertThat(detail(p, "{\"prompt\":\"bell\\u0007\"}")).isEqualTo("Field 'prompt' contains invisible or control characters.");
      assertThat(detail(p, "{\"prompt\":\"my key sk-ABCDEFGHIJKLMNOPQRSTUVWX\"}"))
          .isEqualTo("Field 'prompt' matches the denied pattern 'api-key'.");
      assertThat(detail(p, "{\"prompt\":\"Please IGNORE previous instructions\"}"))
          .isEqualTo("Field 'prompt' matches the denied pattern 'ignore-instructions'.");
      assertThat(detail(p, "{\"prompt\":42}")).isEqualTo("Field 'prompt' must be a string.");
    }

    private String detail(ModelInputPolicy p, String json) {
      GuardDecision d = p.check(TestRequest.json("chat", json));
      assertDenied(d, ReasonCode.INPUT_INVALID);
      return d.detail().orElseThrow();
    }
  }

  @Nested
  class EngineIntegration {
    @Test
    void theRefusalsRenderAsTheDocumentedProblems() {
      ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
          .chain(ModelGuard.DEFAULT_CHAIN, c -> c.policy(Phase.VALIDATE, "input", digitsPolicy)).build();

      assertThat(guard.check(TestRequest.json("digits", digits(pixels(64, "3")))).isAllowed()).isTrue();
      ProblemResponse tooLarge = ProblemRenderer.render(guard.check(
          TestRequest.json("digits", "{}").header("Content-Length", "999999")));
      ProblemResponse mediaType = ProblemRenderer.render(guard.check(TestRequest.bytes("digits", "text/plain", new byte[1])));
      ProblemResponse malformed = ProblemRenderer.render(guard.check(TestRequest.json("digits", "{")));
      ProblemResponse invalid = ProblemRenderer.render(guard.check(TestRequest.json("digits", digits(pixels(64, "17")))));

      assertThat(tooLarge.status()).isEqualTo(413);
      assertThat(mediaType.status()).isEqualTo(415);
      assertThat(malformed.status()).isEqualTo(400);
      assertThat(invalid.status()).isEqualTo(422);
      assertThat(invalid.bodyAsString()).isEqualTo("{\"type\":\"urn:modelguard:problem:input.invalid\",\"title\":\"Invalid input\","
          + "\"status\":422,\"detail\":\"Field 'pixels' element 0 must be a number in 0..16.\",\"code\":\"input.invalid\"}");
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ImageUrls {
    private WireMockServer server;
    private final byte[] png = TestImages.real("png", 16, 16);

    @BeforeAll
    void start() {
      server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
      server.start();
      server.stubFor(get("/cat.png").willReturn(aResponse().withBody(png)));
      server.stubFor(get("/huge.png").willReturn(aResponse().withBody(TestImages.pngDeclaring(20_000, 20_000, 6144))));
      server.stubFor(get("/missing.png").willReturn(aResponse().withStatus(404).withBody("no such file /var/data/x")));
      server.stubFor(get("/to-metadata").willReturn(aResponse().withStatus(302)
          .withHeader("Location", "http://169.254.169.254/latest/meta-data/")));
    }

    @AfterAll
    void stop() {
      server.stop();
    }

    private ModelInputPolicy policy(List<FetchedInputs> seen) {
      ModelSpec spec = ModelSpec.builder("image-classifier")
          .maxBodyBytes(4096)
          .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(1024).maxHeight(1024).build()))
          .build();
      return ModelInputPolicy.builder().model(spec)
          .fetcher(SafeUrlFetcher.builder().allowInternalEndpoint("127.0.0.1", server.port()).build())
          .onFetched((request, inputs) -> seen.add(inputs))
          .build();
    }

    private TestRequest request(String url) {
      return TestRequest.json("image-classifier", "{\"imageUrl\":\"" + url + "\"}");
    }

    @Test
    void fetchesTheImageAndHandsTheCheckedBytesToTheApplication() {
      List<FetchedInputs> seen = new ArrayList<>();
      TestRequest r = request("http://127.0.0.1:" + server.port() + "/cat.png");

      GuardDecision d = policy(seen).check(r);

      assertThat(d.isAllowed()).isTrue();
      FetchedInputs inputs = FetchedInputs.from(r).orElseThrow();
      assertThat(inputs.image("imageUrl").orElseThrow().bytes()).isEqualTo(png);
      assertThat(inputs.image("imageUrl").orElseThrow().header()).isEqualTo(new ImageHeader(ImageFormat.PNG, 16, 16, 1));
      assertThat(seen).containsExactly(inputs);
    }

    @Test
    void anInternalUrlIsBlockedNamingTheField() {
      List<FetchedInputs> seen = new ArrayList<>();
      for (String url : List.of("http://169.254.169.254/latest/meta-data/", "http://localhost:" + server.port() + "/cat.png",
          "http://127.0.0.1:" + server.port() + "/to-metadata", "file:///etc/passwd")) {
        GuardDecision d = policy(seen).check(request(url));
        assertDenied(d, ReasonCode.INPUT_URL_BLOCKED);
        assertThat(d.detail().orElseThrow()).startsWith("Field 'imageUrl': ");
        assertThat(ProblemRenderer.render(d).status()).isEqualTo(422);
      }
      assertThat(seen).isEmpty();
    }

    @Test
    void anAllowedUrlThatFailsIsFetchFailedWithoutTheUpstreamText() {
      GuardDecision d = policy(new ArrayList<>()).check(request("http://127.0.0.1:" + server.port() + "/missing.png"));

      assertDenied(d, ReasonCode.INPUT_FETCH_FAILED);
      assertThat(ProblemRenderer.render(d).status()).isEqualTo(502);
      assertThat(d.detail().orElseThrow()).doesNotContain("/var/data").doesNotContain("404");
    }

    @Test
    void aFetchedImageOverTheSpecsDimensionsIsInvalid() {
      GuardDecision d = policy(new ArrayList<>()).check(request("http://127.0.0.1:" + server.port() + "/huge.png"));

      assertDenied(d, ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).contains("Field 'imageUrl': the fetched image is larger than 1024 x 1024 pixels.");
    }

    @Test
    void aUrlThatIsNotAStringOrTooLongIsInvalidBeforeAnyFetch() {
      assertDenied(policy(new ArrayList<>()).check(TestRequest.json("image-classifier", "{\"imageUrl\":42}")), ReasonCode.INPUT_INVALID);
      assertDenied(policy(new ArrayList<>()).check(request("http://example.com/" + "a".repeat(3000))), ReasonCode.INPUT_INVALID);
    }
  }

  /**
   * An image URL field's download stops at the field's {@link ImageSpec#maxBytes()}, not at the
   * fetcher's larger cap: a 64 KiB field served a 4 MiB PNG reads 64 KiB + 1 byte (plus at most one
   * socket buffer), however the body is framed, and fails as too large like the fetcher's own cap.
   */
  @Nested
  class ImageUrlByteCap {
    private static final int FIELD_CAP = 64 * 1024;
    private static final int BODY = 4 << 20;
    /** The response head plus one 8 KiB socket buffer the fetcher may read past the cap. */
    private static final int SLACK = 16 * 1024;

    /** A real PNG padded with zeros after its end to {@code BODY} bytes: valid, just too big. */
    private final byte[] paddedPng = Arrays.copyOf(TestImages.real("png", 16, 16), BODY);

    private byte[] response(String framing) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(BODY + 1024);
      out.writeBytes("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n".getBytes(StandardCharsets.US_ASCII));
      switch (framing) {
        case "content-length":
          out.writeBytes(("Content-Length: " + BODY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.writeBytes(paddedPng);
          break;
        case "chunked":
          out.writeBytes("Transfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          for (int off = 0; off < BODY; off += 0x4000) {
            out.writeBytes("4000\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(paddedPng, off, 0x4000);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
          }
          out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          break;
        default: // until the server closes the connection
          out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
          out.writeBytes(paddedPng);
          break;
      }
      return out.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"content-length", "chunked", "until-close"})
    void aFieldsImageByteCapStopsTheDownloadNotJustTheResult(String framing) throws Exception {
      try (RawHttpServer server = new RawHttpServer(response(framing), 0, 0)) {
        ByteCountingConnector counting = new ByteCountingConnector();
        // The fetcher's own cap stays at its 5 MiB default: only the field's cap is lower.
        SafeUrlFetcher fetcher = SafeUrlFetcher.builder().connector(counting)
            .allowInternalEndpoint("127.0.0.1", server.port()).build();
        ModelSpec spec = ModelSpec.builder("image-classifier")
            .maxBodyBytes(4096)
            .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxBytes(FIELD_CAP).build()))
            .build();
        ModelInputPolicy policy = ModelInputPolicy.builder().model(spec).fetcher(fetcher).build();

        GuardDecision d = policy.check(
            TestRequest.json("image-classifier", "{\"imageUrl\":\"http://127.0.0.1:" + server.port() + "/big.png\"}"));

        assertDenied(d, ReasonCode.INPUT_FETCH_FAILED);
        assertThat(d.detail()).contains("Field 'imageUrl': " + FetchFailure.TOO_LARGE.clientDetail());
        assertThat(ProblemRenderer.render(d).status()).isEqualTo(502);
        assertThat(counting.bytesRead.get()).as("bytes the fetcher read from the socket")
            .isLessThanOrEqualTo(FIELD_CAP + 1 + SLACK);
      }
    }
  }
}
