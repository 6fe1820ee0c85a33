package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PredictionCodecTest {

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void standardCodecReadsLabelAndProbabilities() {
    Prediction p = PredictionCodec.standard().decode(json("{\"label\":2,\"probabilities\":[0.1,0.2,0.7]}")).orElseThrow();
    assertThat(p.probabilities()).containsExactly(0.1, 0.2, 0.7);
    assertThat(p.label()).isEqualTo(2);
  }

  @Test
  void rewritesProbabilitiesAndLabelAndKeepsOnlyTheMembersItIsToldTo() {
    byte[] body = json("{\"model\":\"digits\",\"label\":2,\"probabilities\":[0.1,0.2,0.7],"
        + "\"logits\":[-2.3,-1.6,-0.4],\"top\":{\"class\":2,\"score\":0.7}}");
    double[] rewritten = {0.6, 0.3, 0.1};
    // The exact logits and scores would undo any cut or noise: a rewrite drops what it does not know.
    assertThat(new String(PredictionCodec.standard().encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"label\":0,\"probabilities\":[0.6,0.3,0.1]}");
    assertThat(new String(PredictionCodec.standard().keeping("/model").encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":\"digits\",\"label\":0,\"probabilities\":[0.6,0.3,0.1]}");
    assertThat(new String(PredictionCodec.standard().keeping("/top/class").encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"label\":0,\"probabilities\":[0.6,0.3,0.1],\"top\":{\"class\":2}}");
    assertThat(new String(PredictionCodec.standard().keepingEverything().encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":\"digits\",\"label\":0,\"probabilities\":[0.6,0.3,0.1],"
            + "\"logits\":[-2.3,-1.6,-0.4],\"top\":{\"class\":2,\"score\":0.7}}");
    assertThatThrownBy(() -> PredictionCodec.standard().keeping("model")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aKeptPointerKeepsAScalarButNeverAnObjectOrArray() {
    // Kept as "the model's name", /model held the model's exact logits: a rewrite cut to the top 3
    // handed them to the client whole. Only the scalar members named are kept.
    byte[] body = json("{\"model\":{\"name\":\"digits\",\"logits\":[-2.3,-1.6,-0.4]},\"label\":2,"
        + "\"probabilities\":[0.1,0.2,0.7],\"tags\":[\"beta\",[0.1,0.2,0.7]],\"cached\":false,\"trace\":null}");
    double[] rewritten = {0.6, 0.3, 0.1};

    assertThat(new String(PredictionCodec.standard().keeping("/model", "/tags").encode(body, rewritten),
        StandardCharsets.UTF_8)).isEqualTo("{\"label\":0,\"probabilities\":[0.6,0.3,0.1]}");
    assertThat(new String(PredictionCodec.standard().keeping("/model/name", "/tags/0", "/tags/1", "/cached", "/trace")
        .encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":{\"name\":\"digits\"},\"label\":0,\"probabilities\":[0.6,0.3,0.1],"
            + "\"tags\":[\"beta\",null],\"cached\":false,\"trace\":null}");
    // The codec's own pointers still keep what they reach through an object a kept pointer names.
    PredictionCodec nested = PredictionCodec.of("/out/probabilities", "/out/label", null).keeping("/out");
    assertThat(new String(nested.encode(json("{\"out\":{\"label\":2,\"probabilities\":[0.1,0.2,0.7],"
        + "\"logits\":[-2.3,-1.6,-0.4]}}"), rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"out\":{\"label\":0,\"probabilities\":[0.6,0.3,0.1]}}");
    // keepingEverything() is the one way to keep a subtree.
    assertThat(new String(PredictionCodec.standard().keepingEverything().encode(body, rewritten),
        StandardCharsets.UTF_8)).contains("\"logits\":[-2.3,-1.6,-0.4]");
  }

  @Test
  void aKeptPointerThatLeadsPastAScalarKeepsNothing() {
    // keeping("/model/name") kept "model" whole when it was a string, not an object with a name: a
    // pointer that reaches nothing is to keep nothing, whatever the model server writes on its way.
    byte[] body = json("{\"model\":\"0.1 0.2 0.7\",\"tags\":[\"0.1 0.2 0.7\"],\"label\":2,"
        + "\"probabilities\":[0.1,0.2,0.7]}");

    assertThat(new String(PredictionCodec.standard().keeping("/model/name", "/tags/0/name")
        .encode(body, new double[] {0.6, 0.3, 0.1}), StandardCharsets.UTF_8))
        .isEqualTo("{\"tags\":[null],\"label\":0,\"probabilities\":[0.6,0.3,0.1]}");
  }

  @Test
  void aNestedPredictionKeepsItsPathAndNullsTheArrayElementsItDoesNotReach() {
    PredictionCodec codec = PredictionCodec.of("/outputs/1/probabilities", "/outputs/1/label", null);
    byte[] body = json("{\"id\":\"r1\",\"outputs\":[{\"name\":\"logits\",\"data\":[3.1,0.2]},"
        + "{\"label\":0,\"probabilities\":[0.9,0.1],\"raw\":[3.1,0.2]}]}");
    assertThat(new String(codec.encode(body, new double[] {0.2, 0.8}), StandardCharsets.UTF_8))
        .isEqualTo("{\"outputs\":[null,{\"label\":1,\"probabilities\":[0.2,0.8]}]}");
    assertThat(new String(codec.keeping("/id").encode(body, new double[] {0.2, 0.8}), StandardCharsets.UTF_8))
        .isEqualTo("{\"id\":\"r1\",\"outputs\":[null,{\"label\":1,\"probabilities\":[0.2,0.8]}]}");
  }

  @Test
  void aLabelInAnArrayIsRewrittenAndOneTheCodecCannotWriteIsDropped() {
    byte[] body = json("{\"out\":{\"labels\":[{\"idx\":1,\"logit\":2.5}],\"probabilities\":[0.1,0.9]}}");
    assertThat(new String(PredictionCodec.of("/out/probabilities", "/out/labels/0", null)
        .encode(body, new double[] {0.8, 0.2}), StandardCharsets.UTF_8))
        .isEqualTo("{\"out\":{\"labels\":[0],\"probabilities\":[0.8,0.2]}}");
    // The label pointer reaches nothing the codec can write: the model's node there is not kept.
    assertThat(new String(PredictionCodec.of("/out/probabilities", "/out/labels/idx", null)
        .encode(body, new double[] {0.8, 0.2}), StandardCharsets.UTF_8))
        .isEqualTo("{\"out\":{\"probabilities\":[0.8,0.2]}}");
  }

  @Test
  void aClassBeyondTheLabelNamesDropsTheLabelAndAnEmptyLabelPointerIsRefused() {
    // Used to throw IndexOutOfBoundsException out of encode, and NullPointerException on every
    // encode for the empty pointer.
    PredictionCodec codec = PredictionCodec.of("/probabilities", "/label", List.of("cat", "dog"));
    assertThat(new String(codec.encode(json("{\"label\":\"cat\",\"probabilities\":[0.7,0.2,0.1]}"),
        new double[] {0.1, 0.2, 0.7}), StandardCharsets.UTF_8)).isEqualTo("{\"probabilities\":[0.1,0.2,0.7]}");
    assertThatThrownBy(() -> PredictionCodec.of("/probabilities", "", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("label pointer");
  }

  @Test
  void decodingOnceForARewriteWritesWhatEncodeWrites() {
    byte[] body = json("{\"model\":\"digits\",\"label\":0,\"probabilities\":[0.7,0.2,0.1],\"v\":3}");
    PredictionCodec codec = PredictionCodec.standard().keeping("/model", "/v");
    PredictionCodec.Decoded decoded = codec.decodeForRewrite(body).orElseThrow();

    assertThat(decoded.prediction().probabilities()).containsExactly(0.7, 0.2, 0.1);
    double[] rewritten = {0.1, 0.3, 0.6};
    assertThat(new String(decoded.encode(rewritten), StandardCharsets.UTF_8))
        .isEqualTo(new String(codec.encode(body, rewritten), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":\"digits\",\"label\":2,\"probabilities\":[0.1,0.3,0.6],\"v\":3}");
    assertThat(codec.decodeForRewrite(json("{\"probabilities\":\"high\"}"))).isEmpty();
    assertThat(codec.decodeForRewrite(json("not json"))).isEmpty();
  }

  @Test
  void pointerCodecWritesNamedLabels() {
    PredictionCodec codec = PredictionCodec.of("/output/scores", "/output/class", List.of("cat", "dog"));
    byte[] body = json("{\"output\":{\"class\":\"cat\",\"scores\":[0.8,0.2]}}");
    assertThat(codec.decode(body).orElseThrow().label()).isZero();
    assertThat(new String(codec.encode(body, new double[] {0.1, 0.9}), StandardCharsets.UTF_8))
        .isEqualTo("{\"output\":{\"class\":\"dog\",\"scores\":[0.1,0.9]}}");
  }

  @Test
  void unreadableResponsesDecodeToEmpty() {
    PredictionCodec codec = PredictionCodec.standard();
    assertThat(codec.decode(json("not json"))).isEmpty();
    assertThat(codec.decode(json("{\"label\":1}"))).isEmpty();
    assertThat(codec.decode(json("{\"probabilities\":[\"a\",\"b\"]}"))).isEmpty();
  }

  @Test
  void refusesToEncodeAVectorOfAnotherLength() {
    assertThatThrownBy(() -> PredictionCodec.standard().encode(json("{\"probabilities\":[0.5,0.5]}"), new double[] {1, 0, 0}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jsonNumbersEncoderIsTheIdentityOnTabularInput() {
    QueryEncoder encoder = QueryEncoder.jsonNumbers("/pixels");
    assertThat(encoder.encode(json("{\"pixels\":[0,16,3.5]}")).orElseThrow()).containsExactly(0, 16, 3.5);
    assertThat(encoder.encode(json("{\"pixels\":[]}"))).isEmpty();
    assertThat(encoder.encode(json("{\"pixels\":[1,\"x\"]}"))).isEmpty();
    assertThat(encoder.encode(json("{\"other\":[1]}"))).isEmpty();
    assertThat(encoder.encode(json("garbage"))).isEmpty();
  }
}
