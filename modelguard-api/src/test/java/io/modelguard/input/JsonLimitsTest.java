package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * JSON limits hold while parsing: pathological documents are refused after reading a few kilobytes,
 * measured as bytes consumed from the stream, never by buffering the document first.
 */
class JsonLimitsTest {
  private static final ModelSpec CHAT = ModelSpec.builder("chat")
      .maxBodyBytes(64 << 20)
      .jsonLimits(JsonLimits.builder().maxDocumentBytes(64 << 20).build())
      .field("prompt", FieldSpec.text(TextSpec.defaults()))
      .rejectUnknownFields(false)
      .build();

  private static String violation(ModelSpec spec, TestRequest.CountingStream in) {
    try {
      InputValidator.validate(spec, in);
      return "valid";
    } catch (InputValidator.Violation v) {
      return v.code + ": " + v.detail;
    }
  }

  @Test
  void a100000DeepNestingIsRefusedAfterReadingAFewKilobytes() {
    byte[] prefix = "{\"prompt\":\"hi\",\"x\":".getBytes(StandardCharsets.US_ASCII);
    TestRequest.CountingStream in = new TestRequest.CountingStream(
        TestRequest.generated(100_000, prefix, (byte) '[', new byte[0]));

    String v = violation(CHAT, in);

    assertThat(v).isEqualTo("input.invalid: The JSON input is nested deeper than 32 levels.");
    assertThat(in.count.get()).as("bytes consumed of %s", 100_000 + prefix.length).isLessThanOrEqualTo(16 * 1024);
  }

  @Test
  void a50MegabyteStringIsRefusedAfterReadingLittleMoreThanTheStringLimit() {
    byte[] prefix = "{\"prompt\":\"".getBytes(StandardCharsets.US_ASCII);
    TestRequest.CountingStream in = new TestRequest.CountingStream(
        TestRequest.generated(50L << 20, prefix, (byte) 'a', "\"}".getBytes(StandardCharsets.US_ASCII)));

    String v = violation(CHAT, in);

    assertThat(v).isEqualTo("input.invalid: The JSON input contains a string longer than 65536 characters.");
    assertThat(in.count.get()).as("bytes consumed of 50 MiB").isLessThanOrEqualTo(512 * 1024);
  }

  @Test
  void aHundredThousandDeepNestingThroughThePolicyIsInvalidNotACrash() {
    String deep = "{\"prompt\":\"hi\",\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";

    GuardDecision d = ModelInputPolicy.of(CHAT).check(TestRequest.json("chat", deep));

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(d.detail()).contains("The JSON input is nested deeper than 32 levels.");
  }

  @Test
  void a50MegabyteStringToAModelWithTheDefaultCapIsTooLargeAfterReadingAtMostTheCap() {
    ModelSpec spec = ModelSpec.builder("chat").field("prompt", FieldSpec.text(TextSpec.defaults())).build();
    TestRequest r = new TestRequest("chat", "application/json", TestRequest.generated(50L << 20,
        "{\"prompt\":\"".getBytes(StandardCharsets.US_ASCII), (byte) 'a', "\"}".getBytes(StandardCharsets.US_ASCII)));

    GuardDecision d = ModelInputPolicy.of(spec).check(r);

    assertThat(d.reason()).contains(ReasonCode.INPUT_TOO_LARGE);
    assertThat(r.bytesRead()).isLessThanOrEqualTo((1 << 20) + 1);
  }

  @Test
  void documentLengthIsLimitedEvenWhereTheBodyCapIsLarger() {
    ModelSpec spec = ModelSpec.builder("chat").maxBodyBytes(8 << 20)
        .jsonLimits(JsonLimits.builder().maxDocumentBytes(100_000).build())
        .field("prompt", FieldSpec.text(TextSpec.defaults())).rejectUnknownFields(false).build();
    String json = "{\"prompt\":\"a\",\"pad\":\"" + "b".repeat(60_000) + "\",\"pad2\":\"" + "b".repeat(60_000) + "\"}";

    GuardDecision d = ModelInputPolicy.of(spec).check(TestRequest.json("chat", json));

    assertThat(d.reason()).contains(ReasonCode.INPUT_TOO_LARGE);
    assertThat(d.detail()).contains("The JSON input is larger than 100000 bytes.");
  }

  @Test
  void aFieldDifferingFromASpecifiedOneOnlyInCaseIsRefusedEvenWhereUnknownFieldsAreSkipped() {
    // Go's encoding/json, Newtonsoft and Jackson with ACCEPT_CASE_INSENSITIVE_PROPERTIES bind
    // "PIXELS" (or "pixelſ", with the long s) to pixels, the later value winning: a skipped,
    // unchecked value would reach the model as the field.
    ModelSpec spec = ModelSpec.builder("m").field("pixels", FieldSpec.numbers(2).range(0, 16))
        .rejectUnknownFields(false).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);

    for (String other : new String[] {"PIXELS", "Pixels", "pixel\u017f", "pixelſ"}) {
      GuardDecision d = p.check(TestRequest.json("m", "{\"pixels\":[1,2],\"" + other + "\":[999]}"));
      assertThat(d.reason()).as(other).contains(ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).as(other).hasValue("The input contains a field whose name differs from 'pixels' only in case.");
    }
    assertThat(p.check(TestRequest.json("m", "{\"pixels\":[1,2],\"extra\":[999]}")).isAllowed())
        .as("another unknown field is still skipped").isTrue();
  }

  @Test
  void longNumbersFieldNamesAndTooManyTokensAreRefused() {
    ModelSpec spec = ModelSpec.builder("m").field("prompt", FieldSpec.text(TextSpec.defaults())).rejectUnknownFields(false)
        .jsonLimits(JsonLimits.builder().maxTokens(1000).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);

    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"n\":" + "9".repeat(70) + "}")).detail())
        .contains("The JSON input contains a number longer than 64 characters.");
    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"" + "k".repeat(300) + "\":1}")).detail())
        .contains("The JSON input contains a field name longer than 256 characters.");
    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"n\":[" + "1,".repeat(2000) + "1]}")).detail())
        .contains("The JSON input has more than 1000 tokens.");
  }

  @Test
  void arrayLengthAndFieldCountAreCountedWhereJacksonHasNoLimit() {
    ModelSpec spec = ModelSpec.builder("m").field("prompt", FieldSpec.text(TextSpec.defaults())).rejectUnknownFields(false)
        .jsonLimits(JsonLimits.builder().maxArrayLength(100).maxObjectFields(10).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    StringBuilder fields = new StringBuilder("{\"prompt\":\"a\"");
    for (int i = 0; i < 11; i++) {
      fields.append(",\"f").append(i).append("\":1");
    }

    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"n\":[" + "1,".repeat(100) + "1]}")).detail())
        .contains("The input has an array with more than 100 elements.");
    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"n\":[[" + "[],".repeat(100) + "[]]]}")).detail())
        .contains("The input has an array with more than 100 elements.");
    assertThat(p.check(TestRequest.json("m", fields.append("}").toString())).detail())
        .contains("The input has more than 10 fields.");
    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"o\":{" + "\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
        + "\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11}}")).detail())
        .contains("The input has an object with more than 10 fields.");
    assertThat(p.check(TestRequest.json("m", "{\"prompt\":\"a\",\"n\":[" + "1,".repeat(99) + "1]}")).isAllowed()).isTrue();
  }

  @Test
  void stringsTheValidatorNeverReadsAreHeldToTheStringLimitToo() {
    String tooLong = "\"" + "a".repeat(200_000) + "\"";
    String atLimit = "\"" + "a".repeat(65_536) + "\"";
    String tensor = "{\"name\":\"s\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[%s]}";
    ModelSpec strict = ModelSpec.builder("t")
        .tensor(TensorSpec.builder("s").datatypes(TensorDatatype.BYTES).shape(-1).build()).build();
    ModelSpec lenient = ModelSpec.builder("t").rejectUnknownFields(false)
        .tensor(TensorSpec.builder("s").datatypes(TensorDatatype.BYTES).shape(-1).build()).build();
    ModelSpec fields = ModelSpec.builder("t").field("prompt", FieldSpec.text(TextSpec.defaults()))
        .rejectUnknownFields(false).build();
    String refusal = "input.invalid: The JSON input contains a string longer than 65536 characters.";

    assertThat(violation(strict, "{\"inputs\":[" + tensor.formatted(tooLong) + "]}")).isEqualTo(refusal);
    assertThat(violation(strict, "{\"id\":" + tooLong + ",\"inputs\":[" + tensor.formatted("\"x\"") + "]}"))
        .isEqualTo(refusal);
    assertThat(violation(strict, "{\"inputs\":[" + tensor.formatted("\"x\"") + "],\"parameters\":{\"p\":" + tooLong + "}}"))
        .isEqualTo(refusal);
    assertThat(violation(lenient, "{\"inputs\":[" + tensor.formatted("\"x\"") + "],\"extra\":" + tooLong + "}"))
        .isEqualTo(refusal);
    assertThat(violation(lenient, "{\"inputs\":[" + tensor.formatted("\"x\"").replace("}", ",\"extra\":[" + tooLong + "]}") + "]}"))
        .isEqualTo(refusal);
    assertThat(violation(fields, "{\"prompt\":\"a\",\"x\":" + tooLong + "}")).isEqualTo(refusal);
    assertThat(violation(fields, "{\"prompt\":\"a\",\"x\":[[1," + tooLong + "]]}")).isEqualTo(refusal);
    assertThat(violation(fields, "{\"prompt\":\"a\",\"x\":{\"y\":[" + tooLong + "]}}")).isEqualTo(refusal);

    assertThat(violation(strict, "{\"id\":" + atLimit + ",\"inputs\":[" + tensor.formatted(atLimit) + "]}")).isEqualTo("valid");
    assertThat(violation(fields, "{\"prompt\":\"a\",\"x\":[" + atLimit + "]}")).isEqualTo("valid");
    GuardDecision d = ModelInputPolicy.of(strict).check(TestRequest.json("t", "{\"inputs\":[" + tensor.formatted(tooLong) + "]}"));
    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(d.detail()).contains("The JSON input contains a string longer than 65536 characters.");
  }

  @Test
  void fieldsPerObjectAreCountedInTensorRequestsToo() {
    String tensor = "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]%s}";
    ModelSpec defaults = ModelSpec.builder("t").rejectUnknownFields(false)
        .tensor(TensorSpec.builder("x").build()).build();
    ModelSpec ten = ModelSpec.builder("t").rejectUnknownFields(false)
        .jsonLimits(JsonLimits.builder().maxObjectFields(10).build())
        .tensor(TensorSpec.builder("x").build()).build();

    assertThat(violation(defaults, "{\"inputs\":[" + tensor.formatted("") + "]" + members(5_000) + "}"))
        .isEqualTo("input.invalid: The input has more than 1000 fields.");
    assertThat(violation(defaults, "{\"inputs\":[" + tensor.formatted(members(5_000)) + "]}"))
        .isEqualTo("input.invalid: The input has an object with more than 1000 fields.");
    assertThat(violation(ten, "{\"inputs\":[" + tensor.formatted("") + "]" + members(10) + "}"))
        .isEqualTo("input.invalid: The input has more than 10 fields.");
    assertThat(violation(ten, "{\"inputs\":[" + tensor.formatted(members(7)) + "]}"))
        .isEqualTo("input.invalid: The input has an object with more than 10 fields.");
    assertThat(violation(ten, "{\"inputs\":[" + tensor.formatted("") + "]" + members(9) + "}")).isEqualTo("valid");
    assertThat(violation(ten, "{\"inputs\":[" + tensor.formatted(members(6)) + "]}")).isEqualTo("valid");
  }

  /** {@code n} extra members, each with a leading comma. */
  private static String members(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(",\"f").append(i).append("\":1");
    }
    return sb.toString();
  }

  private static String violation(ModelSpec spec, String json) {
    return violation(spec, new TestRequest.CountingStream(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void limitsValidateTheirSettings() {
    assertThatThrownBy(() -> JsonLimits.builder().maxDepth(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JsonLimits.maxDepth");
    assertThat(JsonLimits.defaults().maxDepth()).isEqualTo(32);
    assertThat(JsonLimits.defaults().maxStringLength()).isEqualTo(65_536);
  }

  @Test
  void aDocumentWithinTheLimitsStillValidatesFromAStream() {
    TestRequest.CountingStream in = new TestRequest.CountingStream(
        new ByteArrayInputStream("{\"prompt\":\"hello\"}".getBytes(StandardCharsets.UTF_8)));

    assertThat(violation(CHAT, in)).isEqualTo("valid");
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  @Test
  void skippingAValueAllocatesForTheDepthItReachesNotForTheDepthLimit() {
    // With maxDepth(1_000_000), every skipped array or object allocated an int[1000001] and a
    // boolean[1000001]: 5 MB each, so 100 empty arrays in a 900-byte body cost about 500 MB.
    ModelSpec spec = ModelSpec.builder("m").rejectUnknownFields(false)
        .jsonLimits(JsonLimits.builder().maxDepth(1_000_000).build())
        .field("prompt", FieldSpec.text(TextSpec.defaults())).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    StringBuilder json = new StringBuilder("{\"prompt\":\"a\"");
    for (int i = 0; i < 100; i++) {
      json.append(",\"f").append(i).append("\":[]");
    }
    String body = json.append('}').toString();
    assertThat(p.check(TestRequest.json("m", body)).isAllowed()).isTrue(); // warm-up

    long before = allocatedByThisThread();
    GuardDecision d = p.check(TestRequest.json("m", body));
    long allocated = allocatedByThisThread() - before;

    assertThat(d.isAllowed()).isTrue();
    assertThat(allocated).as("bytes allocated for a %d-byte body", body.length()).isLessThan(2L << 20);
  }

  @Test
  void aDepthLimitOfIntegerMaxValueSkipsValuesInsteadOfThrowing() {
    // maxDepth + 1 overflowed to a negative array size: a NegativeArraySizeException out of the
    // policy (internal.error, or no validation at all where the policy is fail-open) for every
    // tensor request with "parameters" or "outputs" and every skipped object or array.
    JsonLimits unlimitedDepth = JsonLimits.builder().maxDepth(Integer.MAX_VALUE).build();
    ModelSpec tensors = ModelSpec.builder("t").jsonLimits(unlimitedDepth)
        .tensor(TensorSpec.builder("x").range(0, 1).build()).build();
    ModelSpec fields = ModelSpec.builder("m").jsonLimits(unlimitedDepth).rejectUnknownFields(false)
        .field("prompt", FieldSpec.text(TextSpec.defaults())).build();

    assertThat(violation(tensors, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],"
        + "\"parameters\":{}}],\"outputs\":[{\"name\":\"y\"}]}")).isEqualTo("valid");
    assertThat(violation(tensors, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[5]}],"
        + "\"parameters\":{}}")).isEqualTo("input.invalid: Tensor 'x': every element must lie in the range of FP32 and 0.0..1.0.");
    assertThat(violation(fields, "{\"prompt\":\"a\",\"x\":{\"y\":[[1]]}}")).isEqualTo("valid");
  }
}
