package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** KServe Open Inference Protocol v2 tensors: name, shape, datatype and data, in any member order. */
class TensorInputTest {
  private static final ModelSpec IRIS = ModelSpec.builder("iris-v2")
      .tensor(TensorSpec.builder("input-0").datatypes(TensorDatatype.FP32, TensorDatatype.FP64).shape(-1, 4)
          .range(0, 10).maxElements(400).build())
      .tensor(TensorSpec.builder("mask").datatypes(TensorDatatype.BOOL).shape(4).maxElements(4).optional().build())
      .build();
  private static final ModelInputPolicy POLICY = ModelInputPolicy.of(IRIS);

  private static GuardDecision check(String json) {
    return POLICY.check(TestRequest.json("iris-v2", json));
  }

  private static String detail(String json) {
    GuardDecision d = check(json);
    assertThat(d.reason()).as(json).contains(ReasonCode.INPUT_INVALID);
    return d.detail().orElseThrow();
  }

  @Test
  void acceptsAWellFormedRequestWithFlatOrNestedData() {
    assertThat(check("{\"id\":\"42\",\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":\"FP32\","
        + "\"data\":[5.1,3.5,1.4,0.2,4.9,3.0,1.4,0.2]}]}").isAllowed()).isTrue();
    assertThat(check("{\"inputs\":[{\"data\":[[5.1,3.5,1.4,0.2]],\"datatype\":\"FP64\",\"shape\":[1,4],\"name\":\"input-0\"},"
        + "{\"name\":\"mask\",\"shape\":[4],\"datatype\":\"BOOL\",\"data\":[true,false,true,true]}],"
        + "\"parameters\":{\"content_type\":\"np\"},\"outputs\":[{\"name\":\"out\"}]}").isAllowed()).isTrue();
  }

  @Test
  void refusesDataNestedOtherwiseThanItsShape() {
    // Eight elements, as [2,4] declares, but not as rows of four: a server reshaping the nesting it
    // was sent (or refusing a ragged one with its own error) would not read the tensor checked.
    String[] uneven = {
        "[[5.1,3.5],[1.4,0.2],[4.9,3.0],[1.4,0.2]]", // 4 x 2
        "[[5.1,3.5,1.4,0.2,4.9],[3.0,1.4,0.2]]",     // ragged rows
        "[[5.1,3.5,1.4,0.2],4.9,3.0,1.4,0.2]",       // a row, then scalars
        "[5.1,3.5,1.4,0.2,[4.9,3.0,1.4,0.2]]",       // scalars, then a row
        "[[[5.1,3.5,1.4,0.2]],[[4.9,3.0,1.4,0.2]]]", // one level too deep
        "[[],[5.1,3.5,1.4,0.2,4.9,3.0,1.4,0.2]]",    // an empty row
    };
    for (String data : uneven) {
      assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":" + data + "}]}"))
          .as(data).isIn("Tensor 'input-0': 'data' must be flat, or nested as the shape declares.",
              "A tensor's 'data' must be flat, or nested as its shape declares.");
      // The same with the data before the shape, when the nesting is read before the shape is known.
      assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"data\":" + data + ",\"datatype\":\"FP32\",\"shape\":[2,4]}]}"))
          .as(data).isIn("Tensor 'input-0': 'data' must be flat, or nested as the shape declares.",
              "A tensor's 'data' must be flat, or nested as its shape declares.");
    }
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[[1,2,3,4],{}]}]}"))
        .isEqualTo("A tensor's 'data' must hold numbers, booleans or strings.");
    // Flat and exactly nested data pass, in either member order; so does an empty tensor.
    for (String data : new String[] {"[5.1,3.5,1.4,0.2,4.9,3.0,1.4,0.2]", "[[5.1,3.5,1.4,0.2],[4.9,3.0,1.4,0.2]]"}) {
      assertThat(check("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":" + data + "}]}")
          .isAllowed()).as(data).isTrue();
      assertThat(check("{\"inputs\":[{\"name\":\"input-0\",\"data\":" + data + ",\"shape\":[2,4],\"datatype\":\"FP32\"}]}")
          .isAllowed()).as(data).isTrue();
    }
    assertThat(check("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]}]}").isAllowed())
        .isTrue();
  }

  @Test
  void anEmptyTensorMayBeNestedDownToItsFirstZeroDimensionAsNumpyWritesIt() {
    ModelSpec cube = ModelSpec.builder("cube")
        .tensor(TensorSpec.builder("x").datatypes(TensorDatatype.FP32).shape(-1, -1, 3).maxElements(30).build())
        .build();
    // np.zeros((2, 0, 3)).tolist() is [[], []]; flat [] and the nesting of a shape ending in 0 pass too.
    for (String tensor : new String[] {"\"shape\":[2,0,3],\"data\":[[],[]]", "\"shape\":[2,0,3],\"data\":[]",
        "\"shape\":[0,2,3],\"data\":[]"}) {
      assertThat(ModelInputPolicy.of(cube).check(TestRequest.json("cube",
          "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\"," + tensor + "}]}")).isAllowed()).as(tensor).isTrue();
    }
    // Not down to the first 0, or past it, or with elements: refused.
    for (String tensor : new String[] {"\"shape\":[2,0,3],\"data\":[[[]],[[]]]", "\"shape\":[2,1,3],\"data\":[[],[]]"}) {
      GuardDecision d = ModelInputPolicy.of(cube).check(TestRequest.json("cube",
          "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\"," + tensor + "}]}"));
      assertThat(d.reason()).as(tensor).contains(ReasonCode.INPUT_INVALID);
    }
  }

  @Test
  void refusesAShapeWhoseSizeIsOverTheLimitBeforeReadingTheData() {
    // The data array is 20 MB of digits; the shape alone already exceeds the cap, so the refusal
    // comes at the shape and the data is never looked at.
    String json = "{\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP32\",\"shape\":[100000000,4],\"data\":[1]}]}";
    assertThat(detail(json)).isEqualTo("A tensor's shape declares more elements than the model accepts.");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP32\",\"shape\":[2147483647,2147483647,2147483647],"
        + "\"data\":[1]}]}")).isEqualTo("A tensor's shape declares more elements than the model accepts.");
  }

  @Test
  void refusesDataLongerThanTheShapeWhileStreamingIt() {
    String data = IntStream.range(0, 50_000).mapToObj(i -> "1").collect(Collectors.joining(","));
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[" + data + "]}]}"))
        .isEqualTo("A tensor's 'data' holds more elements than its shape declares.");
    // Data before shape: bounded by the largest tensor the model accepts.
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP32\",\"data\":[" + data + "],\"shape\":[1,4]}]}"))
        .isEqualTo("A tensor's 'data' holds more elements than the model accepts.");
  }

  @Test
  void namesTheTensorAndTheRule() {
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"INT8\",\"data\":[1,2,3,4]}]}"))
        .isEqualTo("Tensor 'input-0' must have datatype one of [FP32, FP64].");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,5],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5]}]}"))
        .isEqualTo("Tensor 'input-0' must have shape [*, 4].");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}"))
        .isEqualTo("Tensor 'input-0': 'data' must hold exactly as many elements as the shape declares.");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,11]}]}"))
        .isEqualTo("Tensor 'input-0': every element must lie in the range of FP32 and 0.0..10.0.");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,\"x\",4]}]}"))
        .isEqualTo("Tensor 'input-0': every element must be a number.");
    assertThat(detail("{\"inputs\":[{\"name\":\"mask\",\"shape\":[4],\"datatype\":\"BOOL\",\"data\":[1,0,1,1]}]}"))
        .isEqualTo("Tensor 'mask': every element must be true or false.");
    assertThat(detail("{\"inputs\":[]}")).isEqualTo("Tensor 'input-0' is required.");
    assertThat(detail("{\"inputs\":[{\"name\":\"secret-name\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}"))
        .isEqualTo("The input contains a tensor that is not in the model's input specification.");
    String one = "{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}";
    assertThat(detail("{\"inputs\":[" + one + "," + one + "]}")).isEqualTo("Tensor 'input-0' appears twice.");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP128\",\"data\":[1,2,3,4]}]}"))
        .isEqualTo("A tensor's 'datatype' is not a known datatype.");
    assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,-4],\"datatype\":\"FP32\",\"data\":[]}]}"))
        .isEqualTo("A tensor's 'shape' must hold sizes of 0 or more.");
    assertThat(detail("{\"model\":\"x\",\"inputs\":[]}"))
        .isEqualTo("The input contains a member that is not part of the inference request format.");
    assertThat(detail("{}")).isEqualTo("Member 'inputs' is required.");
  }

  @Test
  void checksIntegerDatatypesAgainstTheirRange() {
    ModelSpec spec = ModelSpec.builder("pixels-v2")
        .tensor(TensorSpec.builder("x").datatypes(TensorDatatype.UINT8).shape(1, 3).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    String ok = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"UINT8\",\"data\":[0,128,255]}]}";

    assertThat(p.check(TestRequest.json("pixels-v2", ok)).isAllowed()).isTrue();
    assertThat(p.check(TestRequest.json("pixels-v2", ok.replace("255", "256"))).detail())
        .contains("Tensor 'x': every element must lie in the range of UINT8.");
    assertThat(p.check(TestRequest.json("pixels-v2", ok.replace("128", "1.5"))).detail())
        .contains("Tensor 'x': every element must be an integer.");
    assertThat(p.check(TestRequest.bytes("pixels-v2", "application/json", ok.getBytes(StandardCharsets.UTF_8))).isAllowed()).isTrue();
  }

  @Test
  void aFloatTensorTakesEveryNumberThatRoundsToAFiniteFloatAsWrittenByFloatWriters() {
    ModelSpec spec = ModelSpec.builder("floats-v2")
        .tensor(TensorSpec.builder("f").datatypes(TensorDatatype.FP32, TensorDatatype.FP16).shape(1).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    java.util.function.BiFunction<String, String, GuardDecision> one = (type, value) -> p.check(TestRequest.json(
        "floats-v2", "{\"inputs\":[{\"name\":\"f\",\"shape\":[1],\"datatype\":\"" + type + "\",\"data\":[" + value + "]}]}"));

    // Float.toString(Float.MAX_VALUE), as a client serialising float32 writes it: above the
    // double 3.4028234663852886e38 that the float holds, yet it is that float.
    for (String max : new String[] {Float.toString(Float.MAX_VALUE), "-3.4028235e38", "3.4028235677973362e38"}) {
      assertThat((double) Float.parseFloat(max)).as(max).isFinite();
      assertThat(one.apply("FP32", max).isAllowed()).as(max).isTrue();
    }
    for (String over : new String[] {"3.4028236e38", "-3.4028236e38", "1e39"}) {
      assertThat(Float.parseFloat(over)).as(over).isInfinite();
      assertThat(one.apply("FP32", over).detail()).as(over).contains("Tensor 'f': every element must lie in the range of FP32.");
    }
    // Below float32's smallest normal number a value rounds to a subnormal or to zero: finite, as
    // NumPy and every float32 runtime read it, so taken (a model cannot tell it from a small input).
    for (String tiny : new String[] {"1e-40", "-1.4e-45", "1e-50", "4.9e-324"}) {
      assertThat(one.apply("FP32", tiny).isAllowed()).as(tiny).isTrue();
    }
    assertThat(one.apply("FP16", "65504").isAllowed()).isTrue();
    assertThat(one.apply("FP16", "65519.99").isAllowed()).as("rounds to 65504").isTrue();
    assertThat(one.apply("FP16", "65520").detail()).as("rounds to infinity")
        .contains("Tensor 'f': every element must lie in the range of FP16.");
  }

  @Test
  void checksSixtyFourBitIntegersExactlyNotThroughDoubles() {
    ModelSpec spec = ModelSpec.builder("ids-v2")
        .tensor(TensorSpec.builder("i").datatypes(TensorDatatype.INT64).shape(1).optional().build())
        .tensor(TensorSpec.builder("u").datatypes(TensorDatatype.UINT64).shape(1).optional().build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    java.util.function.BiFunction<String, String, GuardDecision> one = (name, value) -> p.check(TestRequest.json("ids-v2",
        "{\"inputs\":[{\"name\":\"" + name + "\",\"shape\":[1],\"datatype\":\"" + (name.equals("i") ? "INT64" : "UINT64")
            + "\",\"data\":[" + value + "]}]}"));

    for (String ok : new String[] {"9223372036854775807", "-9223372036854775808", "9.223372036854775807E18", "1.0", "1e2"}) {
      assertThat(one.apply("i", ok).isAllowed()).as(ok).isTrue();
    }
    for (String over : new String[] {"9223372036854775808", "9223372036854776000", "-9223372036854775809",
        "9223372036854775808.0", "1e19"}) {
      assertThat(one.apply("i", over).detail()).as(over).contains("Tensor 'i': every element must lie in the range of INT64.");
    }
    assertThat(one.apply("u", "18446744073709551615").isAllowed()).isTrue();
    assertThat(one.apply("u", "0").isAllowed()).isTrue();
    for (String over : new String[] {"18446744073709551616", "18446744073709551615.5", "-1"}) {
      assertThat(one.apply("u", over).isAllowed()).as(over).isFalse();
    }
    assertThat(one.apply("u", "18446744073709551616").detail()).contains("Tensor 'u': every element must lie in the range of UINT64.");
    assertThat(one.apply("u", "-1").detail()).contains("Tensor 'u': every element must lie in the range of UINT64.");
    assertThat(one.apply("i", "1.00000000000000001").detail()).contains("Tensor 'i': every element must be an integer.");
    assertThat(one.apply("u", "18446744073709551615.5").detail()).contains("Tensor 'u': every element must be an integer.");
  }

  @Test
  void aBytesTensorCountsItsCharactersAgainstMaxBytes() {
    // TensorDatatype.BYTES: "counted at 1 byte per character for the size check".
    ModelSpec spec = ModelSpec.builder("tok-v2")
        .tensor(TensorSpec.builder("s").datatypes(TensorDatatype.BYTES).shape(-1).maxBytes(100).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    String tensor = "{\"inputs\":[{\"name\":\"s\",\"shape\":[%d],\"datatype\":\"BYTES\",\"data\":[%s]}]}";

    assertThat(p.check(TestRequest.json("tok-v2", tensor.formatted(2, "\"" + "a".repeat(50) + "\",\"" + "b".repeat(50) + "\"")))
        .isAllowed()).isTrue();
    assertThat(p.check(TestRequest.json("tok-v2", tensor.formatted(1, "\"" + "a".repeat(60_000) + "\""))).detail())
        .contains("Tensor 's' is larger than 100 bytes.");
    assertThat(p.check(TestRequest.json("tok-v2", tensor.formatted(2, "\"" + "a".repeat(50) + "\",\"" + "b".repeat(51) + "\"")))
        .detail()).contains("Tensor 's' is larger than 100 bytes.");
  }

  @Test
  void aShapeWhoseProductOverflowsALongIsRefused() {
    // With a large element limit (bytes are the limit that matters), 2^17 x 2^17 x 2^30 = 2^64
    // wrapped to 0: the empty data matched, and a tensor of 2^64 elements passed a 16 MiB cap.
    ModelSpec spec = ModelSpec.builder("huge-v2")
        .tensor(TensorSpec.builder("x").datatypes(TensorDatatype.FP32, TensorDatatype.FP64).shape(-1, -1, -1)
            .maxElements(Long.MAX_VALUE).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);

    for (String shape : new String[] {"131072,131072,1073741824", "1073741824,1073741824,1073741824"}) {
      GuardDecision d = p.check(TestRequest.json("huge-v2",
          "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + shape + "],\"datatype\":\"FP32\",\"data\":[]}]}"));
      assertThat(d.isAllowed()).as(shape).isFalse();
      assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    }
    // 2^61 elements of 8 bytes: 2^64 bytes, wrapped to 0 in the byte check.
    assertThat(p.check(TestRequest.json("huge-v2",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1073741824,1073741824,2],\"datatype\":\"FP64\",\"data\":[1]}]}"))
        .detail()).contains("Tensor 'x' is larger than 2097152 elements.");
  }

  @Test
  void anIntegerOneAboveTwoToThe53IsNotTakenForItsDouble() {
    // 9007199254740993 (2^53 + 1) reads as the double 2^53: within a bound of 2^53 unless checked
    // exactly, as every other integer beyond the doubles' exact range is.
    ModelSpec spec = ModelSpec.builder("ids-v2")
        .tensor(TensorSpec.builder("ids").datatypes(TensorDatatype.INT64).shape(-1).range(-0x1p53, 0x1p53).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    String tensor = "{\"inputs\":[{\"name\":\"ids\",\"shape\":[1],\"datatype\":\"INT64\",\"data\":[%s]}]}";

    assertThat(p.check(TestRequest.json("ids-v2", tensor.formatted("9007199254740992"))).isAllowed()).isTrue();
    assertThat(p.check(TestRequest.json("ids-v2", tensor.formatted("-9007199254740992"))).isAllowed()).isTrue();
    for (String over : new String[] {"9007199254740993", "-9007199254740993"}) {
      assertThat(p.check(TestRequest.json("ids-v2", tensor.formatted(over))).detail()).as(over)
          .contains("Tensor 'ids': every element must lie in the range of INT64 and -9.007199254740992E15..9.007199254740992E15.");
    }
  }

  @Test
  void aMemberDifferingFromAKnownOneOnlyInCaseIsRefusedEvenWhereUnknownMembersAreSkipped() {
    // As for named fields: Go's encoding/json, Jackson with ACCEPT_CASE_INSENSITIVE_PROPERTIES and
    // .NET bind "DATA" to data and "INPUTS" to inputs, the later value winning, so the skipped,
    // unchecked tensor would reach the model.
    ModelSpec spec = ModelSpec.builder("lenient-v2").rejectUnknownFields(false)
        .tensor(TensorSpec.builder("x").shape(-1).range(0, 1).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    String ok = "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}";
    String evil = "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e30]}";

    String[][] cases = {
        {"{\"inputs\":[" + ok + "],\"INPUTS\":[" + evil + "]}", "inputs"},
        {"{\"inputs\":[" + ok + "],\"Inputs\":[" + evil + "]}", "inputs"},
        {"{\"inputs\":[" + ok.replace("}", ",\"DATA\":[1e30]}") + "]}", "data"},
        {"{\"inputs\":[" + ok.replace("}", ",\"Shape\":[1000000]}") + "]}", "shape"},
        {"{\"inputs\":[" + ok.replace("}", ",\"dataType\":\"FP64\"}") + "]}", "datatype"},
        {"{\"inputs\":[" + ok.replace("}", ",\"NAME\":\"y\"}") + "]}", "name"},
        {"{\"inputs\":[" + ok.replace("}", ",\"\u017fhape\":[1000000]}") + "]}", "shape"}, // long s
    };
    for (String[] c : cases) {
      GuardDecision d = p.check(TestRequest.json("lenient-v2", c[0]));
      assertThat(d.reason()).as(c[0]).contains(ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).as(c[0]).hasValue("The input contains a member whose name differs from '" + c[1] + "' only in case.");
    }
    assertThat(p.check(TestRequest.json("lenient-v2", "{\"inputs\":[" + ok.replace("}", ",\"extra\":[1e30]}") + "],\"more\":1}"))
        .isAllowed()).as("other unknown members are still skipped").isTrue();
  }
  @Test
  void refusesATensorWhoseParametersPointTheServerAtSharedMemoryOrBinaryData() {
    // Triton reads such a tensor from a shared-memory region or from the bytes after the JSON, not
    // from the 'data' the guard checked (here within range, as a decoy).
    String tensor = "{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4],";
    String[] parameters = {
        "{\"shared_memory_region\":\"input0_data\",\"shared_memory_byte_size\":16}",
        "{\"shared_memory_region\":\"input0_data\",\"shared_memory_byte_size\":16,\"shared_memory_offset\":0}",
        "{\"shared_memory_byte_size\":16}",
        "{\"shared_memory_offset\":0}",
        "{\"binary_data_size\":16}",
        "{\"content_type\":\"np\",\"Binary_Data_Size\":16}", // a case variant, as unknown names are judged
        "{\"shared_memory_region\":null}",
    };
    for (String p : parameters) {
      assertThat(detail("{\"inputs\":[" + tensor + "\"parameters\":" + p + "}]}")).as(p)
          .isEqualTo("A tensor's 'parameters' refer to shared memory or binary data, which the guard cannot check:"
              + " send the tensor as JSON 'data'.");
      // Before the data, and without it, alike.
      assertThat(detail("{\"inputs\":[{\"name\":\"input-0\",\"parameters\":" + p + ",\"shape\":[1,4],"
          + "\"datatype\":\"FP32\"}]}")).as(p).startsWith("A tensor's 'parameters' refer to shared memory");
    }
    assertThat(check("{\"inputs\":[" + tensor + "\"parameters\":{\"content_type\":\"np\"}}]}").isAllowed())
        .as("other parameters pass").isTrue();
  }

  @Test
  void refusesARequestAskingForOutputsInSharedMemoryOrAsBinaryData() {
    String inputs = "\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]";
    for (String extra : List.of(
        "\"parameters\":{\"binary_data_output\":true}",
        "\"outputs\":[{\"name\":\"out\",\"parameters\":{\"binary_data\":true}}]",
        "\"outputs\":[{\"name\":\"out\",\"parameters\":{\"shared_memory_region\":\"out0\","
            + "\"shared_memory_byte_size\":64}}]")) {
      assertThat(detail("{" + inputs + "," + extra + "}")).as(extra)
          .isEqualTo("The request asks for outputs in shared memory or as binary data, which the guard cannot check.");
    }
    assertThat(check("{" + inputs + ",\"parameters\":{\"priority\":1},\"outputs\":[{\"name\":\"out\","
        + "\"parameters\":{\"classification\":2}}]}").isAllowed()).as("other parameters pass").isTrue();
  }

  @Test
  void refusesTheBinaryDataExtensionHeaderWhoseBodyTheGuardWouldReadAsOneJsonDocument() {
    String body = "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    GuardDecision d = POLICY.check(TestRequest.json("iris-v2", body).header("Inference-Header-Content-Length", "10"));

    assertThat(d.reason()).contains(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
    assertThat(d.detail()).hasValue("This model accepts JSON only, without the binary data extension "
        + "(Inference-Header-Content-Length).");
    assertThat(POLICY.check(TestRequest.json("iris-v2", body)).isAllowed()).isTrue();
  }

  @Test
  void aBytesTensorIsHeldToItsByteLimitInUtf8BytesNotInCharacters() {
    ModelSpec spec = ModelSpec.builder("strings-v2")
        .tensor(TensorSpec.builder("s").datatypes(TensorDatatype.BYTES).shape(-1).maxBytes(8).build()).build();
    ModelInputPolicy p = ModelInputPolicy.of(spec);
    java.util.function.Function<String, GuardDecision> data = elements -> p.check(TestRequest.json("strings-v2",
        "{\"inputs\":[{\"name\":\"s\",\"shape\":[" + elements.split(",").length + "],\"datatype\":\"BYTES\",\"data\":["
            + elements + "]}]}"));

    // 'é' is 2 bytes in UTF-8 (1 UTF-16 unit), '€' 3 (1 unit), an emoji 4 (2 units): at the limit of 8 bytes...
    for (String atLimit : new String[] {"\"éééé\"", "\"😀😀\"", "\"€€ab\"", "\"é\",\"😀\",\"ab\"", "\"\\u00e9\\u00e9abcd\""}) {
      assertThat(data.apply(atLimit).isAllowed()).as(atLimit).isTrue();
    }
    // ... and one byte over it, though none holds more than 8 UTF-16 units (which were counted).
    for (String over : new String[] {"\"ééééa\"", "\"😀😀a\"", "\"€€abc\"", "\"é\",\"😀\",\"abc\"", "\"\\u00e9\\u00e9abcde\""}) {
      GuardDecision d = data.apply(over);
      assertThat(d.reason()).as(over).contains(ReasonCode.INPUT_INVALID);
      assertThat(d.detail()).as(over).contains("Tensor 's' is larger than 8 bytes.");
    }
    // A surrogate without its pair (a JSON escape can carry one) counts as the 3 bytes it takes
    // where it is encoded at all (WTF-8, CESU-8): the larger count, so nothing passes for smaller.
    assertThat(data.apply("\"\\ud83dab\",\"abc\"").isAllowed()).isTrue();
    assertThat(data.apply("\"\\ud83dab\",\"abcd\"").detail()).contains("Tensor 's' is larger than 8 bytes.");
  }
}
