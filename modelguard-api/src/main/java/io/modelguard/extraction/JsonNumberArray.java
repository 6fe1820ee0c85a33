package io.modelguard.extraction;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;

/**
 * Reads the array of numbers at a JSON pointer with a streaming parser, as {@code
 * mapper.readTree(json).at(pointer)} would find it, without building the tree: the OBSERVE policy
 * reads a request's features and a response's probabilities on every query, and the trees were
 * most of that cost.
 *
 * <p>The answer is the tree's: the document is parsed to the end of its root value (malformed
 * JSON fails as {@code readTree} does); of duplicate members the last counts (a later member on
 * the pointer's path replaces what an earlier one held); a pointer segment selects a member of an
 * object or an index of an array. Not a validator: the same parser limits apply as to {@code
 * readTree}. Stateless.
 */
final class JsonNumberArray {
  private JsonNumberArray() {}

  /**
   * The numbers of the non-empty array at {@code pointer} in {@code json}, or null if there is no
   * such array or an element is not a number.
   *
   * @throws IOException if {@code json} is not well-formed JSON (up to the end of its root value)
   */
  static double[] read(JsonFactory factory, byte[] json, JsonPointer pointer) throws IOException {
    return read(factory, json, pointer, false);
  }

  /**
   * As {@link #read(JsonFactory, byte[], JsonPointer)}, but null for a document with anything but
   * whitespace after its root value (a second document, a stray token), which another parser may
   * read instead of, or beside, the first.
   *
   * @throws IOException if {@code json} is not well-formed JSON (up to the end of its content)
   */
  static double[] readWholeDocument(JsonFactory factory, byte[] json, JsonPointer pointer) throws IOException {
    return read(factory, json, pointer, true);
  }

  private static double[] read(JsonFactory factory, byte[] json, JsonPointer pointer, boolean whole)
      throws IOException {
    try (JsonParser parser = factory.createParser(json)) {
      if (parser.nextToken() == null) {
        return null; // no content: readTree's missing node
      }
      Search search = new Search();
      search.value(parser, pointer);
      if (whole && parser.nextToken() != null) {
        return null;
      }
      return search.found;
    }
  }

  /** One walk through a document. */
  private static final class Search {
    /** The array at the pointer as far as the walk has gone; null if none (yet). */
    double[] found;

    /**
     * Consumes the value at the parser's current token. {@code rest} is what remains of the
     * pointer if this value lies on its path, or null if it does not.
     */
    void value(JsonParser parser, JsonPointer rest) throws IOException {
      JsonToken token = parser.currentToken();
      if (rest == null) {
        parser.skipChildren(); // still tokenised: malformed JSON anywhere fails
      } else if (rest.matches()) {
        found = numbers(parser);
      } else if (token == JsonToken.START_OBJECT) {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          JsonPointer next = rest.matchesProperty(parser.currentName()) ? rest.tail() : null;
          parser.nextToken();
          if (next != null) {
            found = null; // a repeated member replaces the earlier one, as in the tree
          }
          value(parser, next);
        }
      } else if (token == JsonToken.START_ARRAY) {
        int index = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          value(parser, rest.matchesElement(index) ? rest.tail() : null);
          index++;
        }
      }
    }

    /** The array of numbers at the current token, or null; consumes the value either way. */
    private static double[] numbers(JsonParser parser) throws IOException {
      if (parser.currentToken() != JsonToken.START_ARRAY) {
        parser.skipChildren();
        return null;
      }
      // 64 fits the common cases (8x8 digits, class probabilities) without growing.
      double[] out = new double[64];
      int n = 0;
      boolean allNumbers = true;
      for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
          if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
          }
          out[n++] = parser.getDoubleValue();
        } else {
          allNumbers = false;
          parser.skipChildren();
        }
      }
      if (!allNumbers || n == 0) {
        return null;
      }
      return n == out.length ? out : Arrays.copyOf(out, n);
    }
  }
}
