package io.modelguard.input;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.modelguard.ReasonCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Validates a JSON model input against a {@link ModelSpec} in one streaming pass over Jackson's
 * tokens: nothing is materialised but the strings a field needs, so the work and memory are bounded
 * by the {@link JsonLimits} and the spec, whatever the client sends. Every string value is held to
 * {@link JsonLimits#maxStringLength()}, including those it skips or only counts (Jackson checks the
 * length only of a string it is asked for), and every object to {@link
 * JsonLimits#maxObjectFields()}. Integer checks are exact, not through doubles. Stateless.
 */
final class InputValidator {
  private InputValidator() {}

  /** A refusal with its reason code and a client-safe detail (never the client's values). */
  static final class Violation extends Exception {
    private static final long serialVersionUID = 1L;
    final ReasonCode code;
    final String detail;

    Violation(ReasonCode code, String detail) {
      super(detail, null, false, false);
      this.code = code;
      this.detail = detail;
    }
  }

  /** An image URL found in a valid input, to be fetched. */
  record UrlField(String field, String url, ImageSpec image) {}

  /**
   * Validates {@code json}: first its encoding (see {@link #encodingViolation}, and well-formed
   * UTF-8 throughout, see {@link Utf8Check}), then the document against the spec.
   */
  static List<UrlField> validate(ModelSpec spec, byte[] json) throws Violation {
    Violation encoding = encodingViolation(json, json.length);
    if (encoding != null) {
      throw encoding;
    }
    if (!Utf8Check.isUtf8(json)) {
      throw new Violation(ReasonCode.INPUT_MALFORMED, null);
    }
    try (JsonParser p = spec.jsonLimits().factory().createParser(json)) {
      return validate(spec, p);
    } catch (IOException e) {
      throw translate(spec.jsonLimits(), e);
    } catch (NumberFormatException | ArithmeticException e) {
      throw numberBeyondRange();
    }
  }

  /**
   * The refusal of a body whose first {@code n} bytes, {@code head}, are not how JSON text starts on
   * the wire, which is UTF-8 without a byte-order mark (RFC 8259 §8.1), or null:
   *
   * <ul>
   *   <li>UTF-16 or UTF-32 (a zero byte among the first two, or a UTF-16 byte-order mark):
   *       Jackson would detect and decode it, the application may not;
   *   <li>a UTF-8 byte-order mark: senders must not add one and parsers may ignore it, so whether
   *       the application reads the body at all depends on its parser (Jackson and Python's {@code
   *       json.loads} of bytes skip it; Go's {@code encoding/json} and {@code json.loads} of decoded
   *       text refuse it). Refused rather than skipped, so that no body passes the guard that the
   *       application reads otherwise or not at all.
   * </ul>
   */
  private static Violation encodingViolation(byte[] head, int n) {
    if (n >= 2 && (head[0] == 0 || head[1] == 0 || (head[0] & 0xfe) == 0xfe)) {
      return new Violation(ReasonCode.INPUT_MALFORMED, null);
    }
    if (n >= 3 && (head[0] & 0xff) == 0xef && (head[1] & 0xff) == 0xbb && (head[2] & 0xff) == 0xbf) {
      return new Violation(ReasonCode.INPUT_MALFORMED, "The JSON input starts with a byte-order mark; send UTF-8 without one.");
    }
    return null;
  }

  /**
   * As {@link #validate(ModelSpec, byte[])}, reading a stream, with the same encoding checks: the
   * first bytes are checked before parsing, and every later byte as it is read, before the parser
   * sees it. Nothing is buffered but those first three bytes, so the {@link JsonLimits} bound what
   * is read; the stream is never read past the failure point.
   */
  static List<UrlField> validate(ModelSpec spec, InputStream json) throws Violation {
    try {
      byte[] head = json.readNBytes(3);
      Violation encoding = encodingViolation(head, head.length);
      if (encoding != null) {
        throw encoding;
      }
      InputStream checked = Utf8Check.checking(new SequenceInputStream(new ByteArrayInputStream(head), json));
      try (JsonParser p = spec.jsonLimits().factory().createParser(checked)) {
        return validate(spec, p);
      }
    } catch (IOException e) {
      throw translate(spec.jsonLimits(), e);
    } catch (NumberFormatException | ArithmeticException e) {
      throw numberBeyondRange();
    }
  }

  private static List<UrlField> validate(ModelSpec spec, JsonParser p) throws IOException, Violation {
    List<UrlField> urls = spec.inputKind() == ModelSpec.InputKind.TENSORS
        ? new Tensors(spec, p).validate() : fields(spec, p);
    if (p.nextToken() != null) {
      throw new Violation(ReasonCode.INPUT_MALFORMED, null); // trailing content after the document
    }
    return urls;
  }

  /**
   * A number the parser cannot convert (an exponent beyond what its decimals hold): the places that
   * convert numbers handle this themselves; this keeps any other from throwing out of the policy.
   */
  private static Violation numberBeyondRange() {
    return new Violation(ReasonCode.INPUT_INVALID, "The JSON input contains a number beyond every supported range.");
  }

  private static Violation translate(JsonLimits limits, IOException e) {
    if (e instanceof StreamConstraintsException) {
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (m.startsWith("document length")) {
        return new Violation(ReasonCode.INPUT_TOO_LARGE,
            "The JSON input is larger than " + limits.maxDocumentBytes() + " bytes.");
      }
      String detail;
      if (m.startsWith("document nesting depth") || m.contains("nesting depth")) {
        detail = "The JSON input is nested deeper than " + limits.maxDepth() + " levels.";
      } else if (m.startsWith("string value length") || m.startsWith("string length")) {
        return stringTooLong(limits);
      } else if (m.startsWith("number value length") || m.startsWith("number length")) {
        detail = "The JSON input contains a number longer than " + limits.maxNumberLength() + " characters.";
      } else if (m.startsWith("name length") || m.contains("name value length")) {
        detail = "The JSON input contains a field name longer than " + limits.maxNameLength() + " characters.";
      } else if (m.startsWith("token count")) {
        detail = "The JSON input has more than " + limits.maxTokens() + " tokens.";
      } else {
        detail = "The JSON input exceeds a parser limit.";
      }
      return new Violation(ReasonCode.INPUT_INVALID, detail);
    }
    // Jackson's own message names offsets and echoes input: it stays in the server.
    return new Violation(ReasonCode.INPUT_MALFORMED, null);
  }

  static Violation invalid(String detail) {
    return new Violation(ReasonCode.INPUT_INVALID, detail);
  }

  private static Violation stringTooLong(JsonLimits limits) {
    return invalid("The JSON input contains a string longer than " + limits.maxStringLength() + " characters.");
  }

  /**
   * Refuses the current string token if it is over the string limit. Needed wherever a string is
   * skipped or only counted: Jackson enforces the limit while it reads a string's text, and a string
   * nobody asks for is never read.
   */
  private static void checkLength(JsonParser p, JsonLimits limits) throws IOException, Violation {
    if (p.getTextLength() > limits.maxStringLength()) {
      throw stringTooLong(limits);
    }
  }

  /**
   * Counts one more field of an object against {@link JsonLimits#maxObjectFields()}, which Jackson
   * does not limit; returns the new count.
   */
  private static int countField(int count, JsonLimits limits, boolean topLevel) throws Violation {
    if (count >= limits.maxObjectFields()) {
      throw invalid(topLevel ? "The input has more than " + limits.maxObjectFields() + " fields."
          : "The input has an object with more than " + limits.maxObjectFields() + " fields.");
    }
    return count + 1;
  }

  /**
   * The name of the current field, refused if it holds a C0 control character (U+0000 to U+001F,
   * which JSON only allows escaped): an application in C or C++ may read the name {@code pixels},
   * NUL, {@code x} as {@code pixels}, so a value the guard skipped as an unknown field's would
   * reach it as a checked one. No legitimate name holds one. Checked for every name in the
   * document, skipped ones too; the detail never repeats the name.
   */
  private static String fieldName(JsonParser p) throws IOException, Violation {
    String name = p.currentName();
    for (int i = 0; i < name.length(); i++) {
      if (name.charAt(i) < 0x20) {
        throw invalid("The input contains a field name with a control character.");
      }
    }
    return name;
  }

  // --- named fields ------------------------------------------------------------------------

  private static List<UrlField> fields(ModelSpec spec, JsonParser p) throws IOException, Violation {
    JsonToken first = p.nextToken();
    if (first == null) {
      throw new Violation(ReasonCode.INPUT_MALFORMED, null); // empty body
    }
    if (first != JsonToken.START_OBJECT) {
      throw invalid("The input must be a JSON object.");
    }
    JsonLimits limits = spec.jsonLimits();
    boolean[] seen = new boolean[spec.fieldSpecs.length];
    List<UrlField> urls = null;
    int count = 0;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      count = countField(count, limits, true);
      String fieldName = fieldName(p);
      int i = spec.fieldIndex(fieldName);
      t = p.nextToken();
      if (i < 0) {
        if (spec.rejectsUnknownFields()) {
          throw invalid("The input contains a field that is not in the model's input specification.");
        }
        String known = spec.caseVariantOf(fieldName);
        if (known != null) {
          // An application binding names ignoring case would read this unchecked value as the field.
          throw invalid("The input contains a field whose name differs from '" + known + "' only in case.");
        }
        skip(p, t, limits);
        continue;
      }
      seen[i] = true;
      String name = spec.fieldNames[i];
      FieldSpec f = spec.fieldSpecs[i];
      if (t == JsonToken.VALUE_NULL) {
        if (f.required) {
          throw invalid("Field '" + name + "' is required.");
        }
        continue;
      }
      switch (f.kind) {
        case NUMBER:
          number(p, t, f, name, -1);
          break;
        case NUMBERS:
          if (f.shape != null) {
            long n = shaped(p, t, f, name, 0, 0);
            assert n > 0;
          } else {
            numberList(p, t, f, name, limits);
          }
          break;
        case TEXT:
          if (t != JsonToken.VALUE_STRING) {
            throw invalid("Field '" + name + "' must be a string.");
          }
          String v = f.text.violation(p.getText());
          if (v != null) {
            throw invalid("Field '" + name + "' " + v + ".");
          }
          break;
        case BOOLEAN:
          if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            throw invalid("Field '" + name + "' must be true or false.");
          }
          break;
        default: // IMAGE_URL
          if (t != JsonToken.VALUE_STRING) {
            throw invalid("Field '" + name + "' must be a URL string.");
          }
          if (p.getTextLength() > ParsedUrl.MAX_URL_LENGTH) {
            throw invalid("Field '" + name + "' is longer than " + ParsedUrl.MAX_URL_LENGTH + " characters.");
          }
          if (urls == null) {
            urls = new ArrayList<>(2);
          }
          urls.add(new UrlField(name, p.getText(), f.image));
          break;
      }
    }
    for (int i = 0; i < seen.length; i++) {
      if (!seen[i] && spec.fieldSpecs[i].required) {
        throw invalid("Field '" + spec.fieldNames[i] + "' is required.");
      }
    }
    return urls == null ? List.of() : urls;
  }

  private static void number(JsonParser p, JsonToken t, FieldSpec f, String name, long index) throws IOException, Violation {
    if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
      throw invalid("Field '" + name + "'" + at(index) + " must be a number.");
    }
    double d = p.getDoubleValue();
    // Rounding to a double is monotonic and the bounds are doubles, so this never refuses a value
    // in range; for an integer field it may pass one that is not, which the exact check catches.
    boolean ok = d >= f.min && d <= f.max && !Double.isInfinite(d);
    if (ok && f.integer && !doubleIsExact(t, d)) {
      BigDecimal v = integerValue(p, t, d);
      ok = v != null && within(v, f.min, f.max);
    }
    if (!ok) {
      throw invalid("Field '" + name + "'" + at(index) + " must be " + f.describeRange() + ".");
    }
  }

  /**
   * Whether a number token's double value {@code d} is exactly the integer written: an integer
   * literal whose double is below 2^53 in magnitude. Otherwise rounding may hide a fraction
   * (1.00000000000000001 is 1.0) or a step past a bound (9223372036854775808 is {@code (double)
   * Long.MAX_VALUE}; 9007199254740993, 2^53 + 1, rounds to 2^53 itself, so a double of 2^53 is not
   * exact either).
   */
  private static boolean doubleIsExact(JsonToken t, double d) {
    return t == JsonToken.VALUE_NUMBER_INT && Math.abs(d) < 0x1p53;
  }

  /**
   * The exact value of the current number token, whose double value is {@code d}, if it is an
   * integer, else null. An integral value counts however it is written ({@code 1.0}, {@code 1e2});
   * only a fraction disqualifies it. Numbers are at most {@link JsonLimits#maxNumberLength()}
   * characters, so the decimal is small; it is never expanded to a {@code BigInteger}, whose size an
   * exponent could make huge. Read as a decimal because, once the double value has been taken,
   * Jackson 2.21 no longer gives a big integer's {@code getBigIntegerValue()} or {@code
   * getLongValue()} (it throws), while {@code getDecimalValue()} re-reads the text. A number whose
   * exponent a decimal cannot hold ({@code 1e-9999999999}, beyond ±2^31) counts as no integer: such
   * a literal is a fraction or out of every range, and the rare exact zero written so ({@code
   * 0e-9999999999}) is refused with them rather than let the parser's exception through.
   */
  private static BigDecimal integerValue(JsonParser p, JsonToken t, double d) throws IOException {
    if (Double.isInfinite(d) || (t == JsonToken.VALUE_NUMBER_FLOAT && d != Math.rint(d))) {
      return null; // an integer never rounds to a double with a fraction
    }
    BigDecimal v;
    try {
      v = p.getDecimalValue();
    } catch (NumberFormatException | ArithmeticException e) {
      return null; // an exponent beyond what a decimal holds
    }
    return t == JsonToken.VALUE_NUMBER_INT || v.signum() == 0 || v.stripTrailingZeros().scale() <= 0 ? v : null;
  }

  /**
   * Whether {@code v} lies in {@code lo..hi} exactly; an infinite bound is no bound on its side.
   * Rounding to a double is monotonic and the bounds are doubles, so a bound that {@code v}'s double
   * lies strictly inside of holds exactly too: only a double equal to the bound needs the exact
   * decimal, which for the default bounds (±Double.MAX_VALUE) is a 309-digit number that was
   * otherwise built twice per element.
   */
  private static boolean within(BigDecimal v, double lo, double hi) {
    double d = v.doubleValue();
    return (Double.isInfinite(lo) ? lo < 0 : d > lo || v.compareTo(new BigDecimal(lo)) >= 0)
        && (Double.isInfinite(hi) ? hi > 0 : d < hi || v.compareTo(new BigDecimal(hi)) <= 0);
  }

  private static String at(long index) {
    return index < 0 ? "" : " element " + index;
  }

  /** Reads a nested array of exactly {@code f.shape}; returns the flat index after it. */
  private static long shaped(JsonParser p, JsonToken t, FieldSpec f, String name, int dim, long flat)
      throws IOException, Violation {
    int expected = f.shape[dim];
    if (t != JsonToken.START_ARRAY) {
      throw invalid("Field '" + name + "' must be " + shapeText(f.shape, dim) + ".");
    }
    boolean leaf = dim == f.shape.length - 1;
    int n = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (++n > expected) {
        throw invalid("Field '" + name + "' must be " + shapeText(f.shape, dim) + " (it has more).");
      }
      if (leaf) {
        number(p, t, f, name, flat++);
      } else {
        flat = shaped(p, t, f, name, dim + 1, flat);
      }
    }
    if (n < expected) {
      throw invalid("Field '" + name + "' must be " + shapeText(f.shape, dim) + " (it has " + n + ").");
    }
    return flat;
  }

  private static String shapeText(int[] shape, int dim) {
    if (dim == shape.length - 1) {
      return "an array of " + shape[dim] + " numbers";
    }
    StringBuilder sb = new StringBuilder("an array of ").append(shape[dim]).append(" arrays");
    for (int d = dim + 1; d < shape.length - 1; d++) {
      sb.append(" of ").append(shape[d]).append(" arrays");
    }
    return sb.append(" of ").append(shape[shape.length - 1]).append(" numbers").toString();
  }

  private static void numberList(JsonParser p, JsonToken t, FieldSpec f, String name, JsonLimits limits)
      throws IOException, Violation {
    if (t != JsonToken.START_ARRAY) {
      throw invalid("Field '" + name + "' must be an array of " + f.minLength + " to " + f.maxLength + " numbers.");
    }
    int max = Math.min(f.maxLength, limits.maxArrayLength());
    int n = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (++n > max) {
        throw invalid("Field '" + name + "' must have at most " + max + " numbers.");
      }
      number(p, t, f, name, n - 1);
    }
    if (n < f.minLength) {
      throw invalid("Field '" + name + "' must have at least " + f.minLength + " numbers.");
    }
  }

  /**
   * Skips the value starting at {@code t}, counting array elements and object fields against the
   * limits that Jackson does not enforce, and checking string lengths, which Jackson enforces only
   * for strings it reads (it enforces depth, name and number lengths and token count itself).
   */
  static void skip(JsonParser p, JsonToken t, JsonLimits limits) throws IOException, Violation {
    skip(p, t, limits, null);
  }

  /**
   * As {@link #skip(JsonParser, JsonToken, JsonLimits)}, refusing with the detail {@code
   * dataReferences}, unless it is null, a value holding a field (at any depth) that {@link
   * #isDataReference names tensor data outside the JSON}.
   */
  private static void skip(JsonParser p, JsonToken t, JsonLimits limits, String dataReferences)
      throws IOException, Violation {
    if (t == JsonToken.VALUE_STRING) {
      checkLength(p, limits);
    }
    if (t != JsonToken.START_ARRAY && t != JsonToken.START_OBJECT) {
      return;
    }
    // Sized by the depth actually reached, not by the limit: a limit of 1,000,000 allocated 5 MB
    // per skipped value (and Integer.MAX_VALUE a negative array size, an exception, not a decision).
    int[] counts = new int[8];
    boolean[] array = new boolean[8];
    int depth = 0;
    array[0] = t == JsonToken.START_ARRAY;
    while (depth >= 0) {
      t = p.nextToken();
      if (t == null) {
        throw new Violation(ReasonCode.INPUT_MALFORMED, null);
      }
      if (t == JsonToken.END_ARRAY || t == JsonToken.END_OBJECT) {
        depth--;
        continue;
      }
      if (t == JsonToken.FIELD_NAME) {
        counts[depth] = countField(counts[depth], limits, false);
        String name = fieldName(p);
        if (dataReferences != null && isDataReference(name)) {
          throw invalid(dataReferences);
        }
        continue;
      }
      if (array[depth] && ++counts[depth] > limits.maxArrayLength()) {
        throw invalid("The input has an array with more than " + limits.maxArrayLength() + " elements.");
      }
      if (t == JsonToken.VALUE_STRING) {
        checkLength(p, limits);
      }
      if (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT) {
        if (++depth > limits.maxDepth()) {
          throw invalid("The JSON input is nested deeper than " + limits.maxDepth() + " levels.");
        }
        if (depth == counts.length) {
          counts = java.util.Arrays.copyOf(counts, 2 * depth);
          array = java.util.Arrays.copyOf(array, 2 * depth);
        }
        array[depth] = t == JsonToken.START_ARRAY;
        counts[depth] = 0;
      }
    }
  }

  // --- KServe v2 tensors ---------------------------------------------------------------------

  /**
   * Whether {@code name}, a parameter of a v2 request, moves tensor data out of the JSON the guard
   * checks (Triton's shared-memory and binary-data extensions): {@code shared_memory_region}, {@code
   * shared_memory_byte_size} and {@code shared_memory_offset} make the server read an input from (or
   * write an output to) a shared-memory region, {@code binary_data_size} read an input from the
   * binary part after the JSON, {@code binary_data} and {@code binary_data_output} write outputs as
   * binary, where output policies cannot read them. Matched by prefix and ignoring case, as unknown
   * names are refused in case variants.
   */
  private static boolean isDataReference(String name) {
    String folded = ModelSpec.fold(name);
    return folded.startsWith("shared_memory") || folded.startsWith("binary_data");
  }

  /** One pass over an Open Inference Protocol v2 request. */
  private static final class Tensors {
    /** The most dimensions a tensor's shape (and so its data's nesting) has. */
    private static final int MAX_TENSOR_DIMS = 8;
    /** The members of a request and of a tensor that this validator reads. */
    private static final List<String> REQUEST_MEMBERS = List.of("inputs", "id", "parameters", "outputs");
    private static final List<String> TENSOR_MEMBERS = List.of("name", "shape", "datatype", "data", "parameters");
    /** Refusals of {@linkplain #isDataReference data references}: in a tensor, at request level or in outputs. */
    private static final String TENSOR_DATA_ELSEWHERE = "A tensor's 'parameters' refer to shared memory or binary data,"
        + " which the guard cannot check: send the tensor as JSON 'data'.";
    private static final String OUTPUTS_ELSEWHERE = "The request asks for outputs in shared memory or as binary data,"
        + " which the guard cannot check.";

    private final ModelSpec spec;
    private final JsonParser p;
    private final JsonLimits limits;

    Tensors(ModelSpec spec, JsonParser p) {
      this.spec = spec;
      this.p = p;
      this.limits = spec.jsonLimits();
    }

    List<UrlField> validate() throws IOException, Violation {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw new Violation(ReasonCode.INPUT_MALFORMED, null);
      }
      if (first != JsonToken.START_OBJECT) {
        throw invalid("The input must be a JSON object.");
      }
      boolean inputs = false;
      int count = 0;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        count = countField(count, limits, true);
        String member = fieldName(p);
        t = p.nextToken();
        switch (member) {
          case "inputs":
            inputs(t);
            inputs = true;
            break;
          case "id":
            if (t != JsonToken.VALUE_STRING) {
              throw invalid("Member 'id' must be a string.");
            }
            checkLength(p, limits);
            break;
          case "parameters":
          case "outputs":
            if (t != (member.equals("outputs") ? JsonToken.START_ARRAY : JsonToken.START_OBJECT)) {
              throw invalid("Member '" + member + "' must be " + (member.equals("outputs") ? "an array." : "an object."));
            }
            skip(p, t, limits, OUTPUTS_ELSEWHERE);
            break;
          default:
            if (spec.rejectsUnknownFields()) {
              throw invalid("The input contains a member that is not part of the inference request format.");
            }
            refuseCaseVariant(member, REQUEST_MEMBERS);
            skip(p, t, limits);
        }
      }
      if (!inputs) {
        throw invalid("Member 'inputs' is required.");
      }
      return List.of();
    }

    private void inputs(JsonToken t) throws IOException, Violation {
      if (t != JsonToken.START_ARRAY) {
        throw invalid("Member 'inputs' must be an array of tensors.");
      }
      boolean[] seen = new boolean[spec.tensorSpecs.length];
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        int i = tensor(t, seen);
        seen[i] = true;
      }
      for (int i = 0; i < seen.length; i++) {
        if (!seen[i] && spec.tensorSpecs[i].required()) {
          throw invalid("Tensor '" + spec.tensorSpecs[i].name() + "' is required.");
        }
      }
    }

    /** Validates one tensor object; returns its index in the spec. */
    private int tensor(JsonToken t, boolean[] seen) throws IOException, Violation {
      if (t != JsonToken.START_OBJECT) {
        throw invalid("Every element of 'inputs' must be a tensor object.");
      }
      String name = null;
      TensorDatatype datatype = null;
      long[] shape = null;
      DataStats data = null;
      int count = 0;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        count = countField(count, limits, false);
        String member = fieldName(p);
        t = p.nextToken();
        switch (member) {
          case "name":
            if (t != JsonToken.VALUE_STRING) {
              throw invalid("A tensor's 'name' must be a string.");
            }
            name = p.getText();
            break;
          case "datatype":
            if (t != JsonToken.VALUE_STRING) {
              throw invalid("A tensor's 'datatype' must be a string.");
            }
            datatype = datatype(p.getText());
            break;
          case "shape":
            shape = shape(t);
            break;
          case "data":
            data = data(t, shape);
            break;
          case "parameters":
            if (t != JsonToken.START_OBJECT) {
              throw invalid("A tensor's 'parameters' must be an object.");
            }
            skip(p, t, limits, TENSOR_DATA_ELSEWHERE);
            break;
          default:
            if (spec.rejectsUnknownFields()) {
              throw invalid("A tensor contains a member that is not part of the inference request format.");
            }
            refuseCaseVariant(member, TENSOR_MEMBERS);
            skip(p, t, limits);
        }
      }
      int index = -1;
      for (int i = 0; i < spec.tensorSpecs.length && name != null; i++) {
        if (spec.tensorSpecs[i].name().equals(name)) {
          index = i;
        }
      }
      if (index < 0) {
        throw invalid(name == null ? "Every tensor needs a 'name'."
            : "The input contains a tensor that is not in the model's input specification.");
      }
      TensorSpec ts = spec.tensorSpecs[index];
      String label = "Tensor '" + ts.name() + "'";
      if (seen[index]) {
        throw invalid(label + " appears twice.");
      }
      if (datatype == null || !ts.datatypes().contains(datatype)) {
        throw invalid(label + " must have datatype " + (ts.datatypes().size() == 1
            ? ts.datatypes().iterator().next() : "one of " + new java.util.TreeSet<>(ts.datatypes())) + ".");
      }
      if (shape == null) {
        throw invalid(label + " needs a 'shape'.");
      }
      int[] pattern = ts.shape();
      boolean matches = pattern.length == shape.length;
      for (int d = 0; matches && d < pattern.length; d++) {
        matches = pattern[d] == -1 || pattern[d] == shape[d];
      }
      if (!matches) {
        throw invalid(label + " must have shape " + java.util.Arrays.toString(pattern).replace("-1", "*") + ".");
      }
      long elements = product(shape); // no overflow: shape() kept every partial product within the limit
      if (elements > ts.maxElements() || elements > ts.maxBytes() / datatype.elementSize()) {
        throw invalid(label + " is larger than " + Math.min(ts.maxElements(), ts.maxBytes() / datatype.elementSize())
            + " elements.");
      }
      if (data == null) {
        throw invalid(label + " needs 'data'.");
      }
      if (data.count != elements) {
        throw invalid(label + ": 'data' must hold exactly as many elements as the shape declares.");
      }
      if (data.dims.length > 1 && !nestedAs(data.dims, shape)) {
        // Nested otherwise than the shape (rows of another length, or another depth): a server
        // reshaping the nesting it was sent would not read the tensor that was checked.
        throw invalid(label + ": 'data' must be flat, or nested as the shape declares.");
      }
      if (datatype == TensorDatatype.BYTES && data.stringBytes > ts.maxBytes()) {
        // BYTES elements count their UTF-8 bytes, not 1 per element.
        throw invalid(label + " is larger than " + ts.maxBytes() + " bytes.");
      }
      String bad = data.violation(datatype, ts);
      if (bad != null) {
        throw invalid(label + ": " + bad + ".");
      }
      return index;
    }

    /**
     * Refuses an unknown member that equals one of {@code known} but for case ({@code "DATA"} beside
     * {@code "data"}), as unknown fields are: binders that match names ignoring case (Go's
     * encoding/json, Jackson with ACCEPT_CASE_INSENSITIVE_PROPERTIES, .NET) would read the skipped,
     * unchecked value as the member, the later one winning.
     */
    private static void refuseCaseVariant(String member, List<String> known) throws Violation {
      String folded = ModelSpec.fold(member);
      for (String k : known) {
        if (folded.equals(k)) {
          throw invalid("The input contains a member whose name differs from '" + k + "' only in case.");
        }
      }
    }

    private TensorDatatype datatype(String text) throws Violation {
      try {
        return TensorDatatype.valueOf(text);
      } catch (IllegalArgumentException e) {
        throw invalid("A tensor's 'datatype' is not a known datatype.");
      }
    }

    /** Reads the shape and checks its product × element size against the largest tensor spec at once. */
    private long[] shape(JsonToken t) throws IOException, Violation {
      if (t != JsonToken.START_ARRAY) {
        throw invalid("A tensor's 'shape' must be an array of sizes.");
      }
      long[] dims = new long[MAX_TENSOR_DIMS];
      int n = 0;
      long product = 1;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (n == MAX_TENSOR_DIMS) {
          throw invalid("A tensor's 'shape' has more than " + MAX_TENSOR_DIMS + " dimensions.");
        }
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0) {
          throw invalid("A tensor's 'shape' must hold sizes of 0 or more.");
        }
        dims[n++] = p.getIntValue();
        // Checked before multiplying: a product past 2^63 would wrap (2^17 x 2^17 x 2^30 is 0).
        if (dims[n - 1] != 0 && product > spec.maxTensorElements / dims[n - 1]) {
          throw invalid("A tensor's shape declares more elements than the model accepts.");
        }
        product *= dims[n - 1];
        if (product > spec.maxTensorElements) {
          throw invalid("A tensor's shape declares more elements than the model accepts.");
        }
      }
      if (n == 0) {
        throw invalid("A tensor's 'shape' must have at least one dimension.");
      }
      return java.util.Arrays.copyOf(dims, n);
    }

    private static long product(long[] shape) {
      long p = 1;
      for (long d : shape) {
        p *= d;
      }
      return p;
    }

    /** Streams the data, counting and summarising its elements without storing them. */
    private DataStats data(JsonToken t, long[] shape) throws IOException, Violation {
      if (t != JsonToken.START_ARRAY) {
        throw invalid("A tensor's 'data' must be an array.");
      }
      long cap = shape != null ? product(shape) : spec.maxTensorElements;
      DataStats s = new DataStats();
      // The nesting: elements so far of the open array at each depth, the length every array at a
      // depth must share, the depth of the scalars (0 until the first), the deepest array.
      long[] counts = new long[MAX_TENSOR_DIMS + 1];
      long[] lengths = new long[MAX_TENSOR_DIMS + 1];
      java.util.Arrays.fill(lengths, -1);
      int leaf = 0;
      int deepest = 1;
      int depth = 1;
      while (depth > 0) {
        t = p.nextToken();
        if (t == null) {
          throw new Violation(ReasonCode.INPUT_MALFORMED, null);
        }
        switch (t) {
          case START_ARRAY:
            counts[depth]++;
            if ((leaf != 0 && depth >= leaf) || depth == MAX_TENSOR_DIMS) {
              throw unevenData();
            }
            depth++;
            counts[depth] = 0;
            deepest = Math.max(deepest, depth);
            continue;
          case END_ARRAY:
            if (lengths[depth] < 0) {
              lengths[depth] = counts[depth];
            } else if (lengths[depth] != counts[depth]) {
              throw unevenData();
            }
            depth--;
            continue;
          case VALUE_NUMBER_INT:
          case VALUE_NUMBER_FLOAT:
          case VALUE_TRUE:
          case VALUE_FALSE:
          case VALUE_STRING:
            break;
          default:
            throw invalid("A tensor's 'data' must hold numbers, booleans or strings.");
        }
        if (leaf == 0 && deepest > depth) {
          throw unevenData(); // an array was deeper than this first scalar
        }
        if (leaf != 0 && depth != leaf) {
          throw unevenData();
        }
        leaf = depth;
        counts[depth]++;
        if (t == JsonToken.VALUE_STRING) {
          checkLength(p, limits);
          s.strings++;
          s.stringBytes += Utf8Check.encodedLength(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        } else if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
          s.booleans++;
        } else {
          s.number(p, t);
        }
        if (++s.count > cap) {
          throw invalid(shape != null ? "A tensor's 'data' holds more elements than its shape declares."
              : "A tensor's 'data' holds more elements than the model accepts.");
        }
      }
      s.dims = java.util.Arrays.copyOfRange(lengths, 1, deepest + 1);
      return s;
    }

    /**
     * Whether data nested as {@code dims} is nested as {@code shape}: equal, or, for a tensor of
     * no elements, the shape's first dimensions down to its first 0 (numpy writes an array of
     * shape [2,0,3] as [[],[]]).
     */
    private static boolean nestedAs(long[] dims, long[] shape) {
      if (java.util.Arrays.equals(dims, shape)) {
        return true;
      }
      int n = dims.length;
      return n < shape.length && dims[n - 1] == 0
          && java.util.Arrays.equals(dims, java.util.Arrays.copyOf(shape, n));
    }

    private static Violation unevenData() {
      return invalid("A tensor's 'data' must be flat, or nested as its shape declares.");
    }
  }

  /** What a tensor's data held, to judge it once the datatype is known. */
  private static final class DataStats {
    long count;
    /** The nesting: the length of the arrays at each depth ({@code [count]} for flat data). */
    long[] dims;
    long numbers;
    long booleans;
    long strings;
    long stringBytes; // UTF-8 bytes of all string elements, what a BYTES tensor's size counts
    boolean fractional; // exactly: some element is not an integer
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    // Exact extremes of the integral elements whose double may not be exact (see doubleIsExact);
    // the others are exact in min and max. Null if there were none.
    BigDecimal inexactMin;
    BigDecimal inexactMax;

    void number(JsonParser p, JsonToken t) throws IOException {
      double d = p.getDoubleValue();
      numbers++;
      min = Math.min(min, d);
      max = Math.max(max, d);
      if (fractional || doubleIsExact(t, d) || Double.isInfinite(d)) {
        return; // an infinite value is out of range, which min and max now say
      }
      BigDecimal v = integerValue(p, t, d);
      if (v == null) {
        fractional = true;
      } else if (inexactMin == null) {
        inexactMin = v;
        inexactMax = v;
      } else {
        inexactMin = inexactMin.min(v);
        inexactMax = inexactMax.max(v);
      }
    }

    String violation(TensorDatatype type, TensorSpec spec) {
      if (type == TensorDatatype.BOOL) {
        return booleans == count ? null : "every element must be true or false";
      }
      if (type == TensorDatatype.BYTES) {
        return strings == count ? null : "every element must be a string";
      }
      if (numbers != count) {
        return "every element must be a number";
      }
      if (count == 0) {
        return null;
      }
      if (type.isInteger() && fractional) {
        return "every element must be an integer";
      }
      double lo = Math.max(type.min, spec.min());
      double hi = Math.min(type.max, spec.max());
      // The double check never refuses a value in range (rounding is monotonic and type.max rounds
      // up); for an integer type the exact check then refuses what rounding let through.
      if (min < lo || max > hi || Double.isInfinite(min) || Double.isInfinite(max)
          || (type.isInteger() && inexactMin != null && !(fits(inexactMin, type, spec) && fits(inexactMax, type, spec)))) {
        return "every element must lie in the range of " + type
            + (spec.min() > Double.NEGATIVE_INFINITY || spec.max() < Double.POSITIVE_INFINITY
                ? " and " + spec.min() + ".." + spec.max() : "");
      }
      return null;
    }

    private static boolean fits(BigDecimal v, TensorDatatype type, TensorSpec spec) {
      return v.compareTo(type.exactMin) >= 0 && v.compareTo(type.exactMax) <= 0
          && within(v, spec.min(), spec.max());
    }
  }
}
