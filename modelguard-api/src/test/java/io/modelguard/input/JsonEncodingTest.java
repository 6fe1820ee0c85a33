package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * JSON on the wire is UTF-8 without a byte-order mark (RFC 8259 §8.1), and both entry points of the
 * validator hold a body to that alike: in memory, and read as a stream, whole or a byte at a time.
 */
class JsonEncodingTest {
  private static final ModelSpec TEXT = ModelSpec.builder("t")
      .field("prompt", FieldSpec.text(TextSpec.defaults()))
      .build();
  private static final String VALID = "{\"prompt\":\"caf\u00e9 \u20ac \uD83D\uDE00\"}";

  /** The outcome of each entry point, which the tests require to agree. */
  private static String fromBytes(byte[] body) {
    try {
      InputValidator.validate(TEXT, body);
      return "valid";
    } catch (InputValidator.Violation v) {
      return v.code + ": " + v.detail;
    }
  }

  private static String fromStream(InputStream body) {
    try {
      InputValidator.validate(TEXT, body);
      return "valid";
    } catch (InputValidator.Violation v) {
      return v.code + ": " + v.detail;
    }
  }

  /** Each entry point's outcome: bytes, stream, stream delivering one byte per read. */
  private static String[] outcomes(byte[] body) {
    return new String[] {fromBytes(body), fromStream(new ByteArrayInputStream(body)), fromStream(oneByteAtATime(body))};
  }

  private static InputStream oneByteAtATime(byte[] body) {
    return new ByteArrayInputStream(body) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 1));
      }
    };
  }

  private static byte[] prompt(byte... value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("{\"prompt\":\"".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(value);
    out.writeBytes("\"}".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) b[i];
    }
    return out;
  }

  @Test
  void wellFormedUtf8PassesEitherWayEvenSplitAcrossReads() {
    assertThat(outcomes(VALID.getBytes(StandardCharsets.UTF_8))).containsOnly("valid");
  }

  @Test
  void utf16AndUtf32AreMalformedFromAStreamAsFromBytes() {
    for (Charset cs : new Charset[] {StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE, StandardCharsets.UTF_16,
        Charset.forName("UTF-32BE"), Charset.forName("UTF-32LE")}) {
      assertThat(outcomes(VALID.getBytes(cs))).as(cs.name()).containsOnly("input.malformed: null");
    }
  }

  @Test
  void overlongFormsAreMalformedFromAStreamAsFromBytes() {
    // Jackson decodes C1 AF as 'o': the guard would check "prompt" where Python refuses the body.
    byte[] overlongName = bytes('{', '"', 'p', 'r', 0xc1, 0xaf, 'm', 'p', 't', '"', ':', '"', 'a', '"', '}');
    assertThat(outcomes(overlongName)).containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xc0, 0xaf)))).containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xe0, 0x80, 0xaf)))).containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xf0, 0x80, 0x81, 0xaf)))).containsOnly("input.malformed: null");
  }

  @Test
  void surrogatesAndCodePointsBeyondU10ffffAreMalformedFromAStreamAsFromBytes() {
    assertThat(outcomes(prompt(bytes(0xed, 0xa0, 0x80)))).as("U+D800").containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xf4, 0x90, 0x80, 0x80)))).as("U+110000").containsOnly("input.malformed: null");
  }

  @Test
  void strayAndTruncatedSequencesAreMalformedFromAStreamAsFromBytes() {
    assertThat(outcomes(prompt(bytes(0x80)))).as("a lone continuation byte").containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xc3, 0x28)))).as("a lead byte without its continuation")
        .containsOnly("input.malformed: null");
    assertThat(outcomes(prompt(bytes(0xff)))).containsOnly("input.malformed: null");
    byte[] truncatedAtTheEnd = bytes('{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', 'a', '"', ',', '"', 'x', '"', ':', 0xc3);
    assertThat(outcomes(truncatedAtTheEnd)).containsOnly("input.malformed: null");
  }

  @Test
  void aUtf8ByteOrderMarkIsMalformedWithItsOwnDetailFromAStreamAsFromBytes() {
    byte[] withBom = ("\uFEFF" + VALID).getBytes(StandardCharsets.UTF_8);
    assertThat(withBom).startsWith(0xef, 0xbb, 0xbf);

    assertThat(outcomes(withBom))
        .containsOnly("input.malformed: The JSON input starts with a byte-order mark; send UTF-8 without one.");
  }

  @Test
  void aByteOrderMarkIsRefusedThroughThePolicyAsA400Problem() {
    byte[] withBom = ("\uFEFF" + VALID).getBytes(StandardCharsets.UTF_8);

    GuardDecision d = ModelInputPolicy.of(TEXT).check(TestRequest.bytes("t", "application/json", withBom));

    assertThat(d.reason()).contains(ReasonCode.INPUT_MALFORMED);
    assertThat(ProblemRenderer.render(d).status()).isEqualTo(400);
    assertThat(d.detail()).hasValue("The JSON input starts with a byte-order mark; send UTF-8 without one.");
    // Only at the start: U+FEFF inside a string is text, for TextSpec to judge.
    assertThat(fromBytes("{\"prompt\":\"a\uFEFFb\"}".getBytes(StandardCharsets.UTF_8))).doesNotStartWith("input.malformed");
  }

  @Test
  void illFormedUtf8EarlyInALongStreamIsRefusedWithoutReadingTheRest() {
    byte[] prefix = {'{', '"', 'p', 'r', (byte) 0xc1, (byte) 0xaf, 'm', 'p', 't', '"', ':', '"'};
    TestRequest.CountingStream in = new TestRequest.CountingStream(
        TestRequest.generated(50L << 20, prefix, (byte) 'a', "\"}".getBytes(StandardCharsets.US_ASCII)));

    assertThat(fromStream(in)).isEqualTo("input.malformed: null");
    assertThat(in.count.get()).as("bytes consumed of 50 MiB").isLessThanOrEqualTo(64 * 1024);
  }
}
