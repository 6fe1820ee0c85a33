package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streamed look-up finds what readTree(json).at(pointer) finds, document by document. */
class JsonNumberArrayTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory FACTORY = new JsonFactory();

  /** What the tree-based readers answered: the numbers of a non-empty all-number array, or null. */
  private static double[] viaTree(byte[] json, JsonPointer pointer) throws IOException {
    JsonNode array = MAPPER.readTree(json).at(pointer);
    if (!array.isArray() || array.isEmpty()) {
      return null;
    }
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      if (!array.get(i).isNumber()) {
        return null;
      }
      out[i] = array.get(i).doubleValue();
    }
    return out;
  }

  @Test
  void findsWhatTheTreeFinds() throws IOException {
    List<String> documents = List.of(
        "{\"pixels\":[1,2,3.5,-0.0,1e3]}",
        "{\"pixels\":[]}",
        "{\"pixels\":[1,\"2\",3]}",
        "{\"pixels\":[1,[2],3]}",
        "{\"pixels\":[1,null]}",
        "{\"pixels\":5}",
        "{\"pixels\":{\"0\":1}}",
        "{\"other\":[1,2]}",
        "{\"pixels\":[1,2],\"pixels\":[3]}",
        "{\"pixels\":[1,2],\"pixels\":\"x\"}",
        "{\"pixels\":\"x\",\"pixels\":[4,5]}",
        "{\"a\":{\"b\":[1,2]},\"a\":{\"c\":1}}",
        "{\"a\":{\"b\":[1,2]},\"a\":{\"b\":[3]}}",
        "{\"a\":{\"b\":[1]}, \"x\":{\"a\":{\"b\":[9]}}}",
        "{\"a\":[[1,2],[3,4]]}",
        "{\"a\":[{\"b\":[7]},{\"b\":[8]}]}",
        "{\"0\":[5]}",
        "[[1,2],[3]]",
        "[1,2,3]",
        "{\"pixels\":[123456789012345678901234567890, 9007199254740993, 1e400, 0.1]}",
        "{\"pixels\":[1,2]} trailing",
        "{\"pixels\":[1,2]}{\"pixels\":[3]}",
        "",
        "   ",
        "null",
        "{\"probabilities\":[0.1,0.2,0.7],\"label\":2}",
        "{\"label\":2,\"probabilities\":[0.1,0.2,0.7],\"meta\":{\"probabilities\":[1]}}");
    List<String> pointers = List.of("/pixels", "/a/b", "/a/1", "/a/0/b", "/a/1/b", "/0", "/1", "", "/probabilities", "/a/c");
    for (String document : documents) {
      byte[] json = document.getBytes(StandardCharsets.UTF_8);
      for (String p : pointers) {
        JsonPointer pointer = JsonPointer.compile(p);
        assertThat(JsonNumberArray.read(FACTORY, json, pointer)).as("%s at '%s'", document, p)
            .isEqualTo(viaTree(json, pointer));
      }
    }
  }

  @Test
  void malformedDocumentsFailAsReadTreeDoes() {
    for (String document : List.of("{\"pixels\":[1,2]", "{\"pixels\":[1,2],\"x\":}", "{\"x\":[1,}", "{\"pixels\":[1 2]}",
        "{\"x\":{\"y\":[1,2}],\"pixels\":[1]}")) {
      byte[] json = document.getBytes(StandardCharsets.UTF_8);
      assertThatThrownBy(() -> MAPPER.readTree(json)).as(document).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> JsonNumberArray.read(FACTORY, json, JsonPointer.compile("/pixels"))).as(document)
          .isInstanceOf(IOException.class);
    }
  }
}
