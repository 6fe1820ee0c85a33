package io.modelguard.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class ContentCodingsTest {
  private static final byte[] PREDICTION =
      "{\"model\":\"digits\",\"label\":7,\"scores\":[0.01,0.02,0.9,0.07]}".getBytes(UTF_8);

  @Test
  void everyNamedCodingButIdentityInOrderLowerCased() {
    assertThat(ContentCodings.declared(List.of("identity", " GZip , br", ",deflate,"))).containsExactly("gzip", "br", "deflate");
  }

  @Test
  void noHeaderOrOnlyIdentityDeclaresNone() {
    assertThat(ContentCodings.declared(List.of())).isEmpty();
    assertThat(ContentCodings.declared(List.of("Identity", " "))).isEmpty();
  }

  @Test
  void gzipIsRecognisedByItsMagicNumber() throws IOException {
    assertThat(ContentCodings.isCoded("gzip", gzip(PREDICTION))).isTrue();
    assertThat(ContentCodings.isCoded("x-gzip", gzip(PREDICTION))).isTrue();
    assertThat(ContentCodings.isCoded("gzip", PREDICTION)).isFalse();
  }

  @Test
  void deflateIsRecognisedAsAZlibStreamAndAsARawStream() throws IOException {
    assertThat(ContentCodings.isCoded("deflate", deflate(PREDICTION, false))).isTrue();
    assertThat(ContentCodings.isCoded("deflate", deflate(PREDICTION, true))).isTrue();
    assertThat(ContentCodings.isCoded("deflate", PREDICTION)).isFalse();
    assertThat(ContentCodings.isCoded("deflate", new byte[0])).isFalse();
  }

  @Test
  void anyOtherCodingCountsAsApplied() {
    assertThat(ContentCodings.isCoded("br", PREDICTION)).isTrue();
    assertThat(ContentCodings.isCoded("zstd", new byte[0])).isTrue();
  }

  @Test
  void plainPredictionsAndTextAreNotTakenForRawDeflateButTheirRawDeflateIs() throws IOException {
    // Uncoded bodies a runtime is about to compress must pass; the same bodies coded must not.
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 2000; i++) {
      byte[] plain = plainBody(random, i);
      assertThat(ContentCodings.isCoded("deflate", plain)).as(new String(plain, UTF_8)).isFalse();
      assertThat(ContentCodings.isCoded("deflate", deflate(plain, true))).as("raw %s", i).isTrue();
      assertThat(ContentCodings.isCoded("deflate", deflate(plain, false))).as("zlib %s", i).isTrue();
    }
  }

  @Test
  void aRawDeflateStreamCutShortIsNotAWholeStream() throws IOException {
    byte[] raw = deflate(PREDICTION, true);
    byte[] cut = Arrays.copyOf(raw, raw.length / 2);
    assertThat(ContentCodings.isRawDeflate(cut)).isFalse();
    assertThat(ContentCodings.isRawDeflate(raw)).isTrue();
  }

  @Test
  void aDeflateBombIsJudgedCodedWithoutInflatingItAll() throws IOException {
    // 64 MB of zeros in ~64 KB of raw deflate: the trial stops after its first megabyte.
    ByteArrayOutputStream coded = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(coded, new Deflater(Deflater.BEST_COMPRESSION, true))) {
      byte[] zeros = new byte[1 << 16];
      for (int i = 0; i < 1024; i++) {
        out.write(zeros);
      }
    }
    assertThat(coded.size()).isLessThan(1 << 17);
    assertThat(ContentCodings.isCoded("deflate", coded.toByteArray())).isTrue();
  }

  /** A JSON prediction with random scores, a line of text, or a few random bytes after a PNG signature. */
  private static byte[] plainBody(SplittableRandom random, int i) {
    switch (i % 3) {
      case 0 -> {
        StringBuilder json = new StringBuilder("{\"model\":\"m").append(random.nextInt(100)).append("\",\"scores\":[");
        for (int k = 0, n = 1 + random.nextInt(20); k < n; k++) {
          json.append(k == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f", random.nextDouble()));
        }
        return json.append("],\"label\":").append(random.nextInt(10)).append('}').toString().getBytes(UTF_8);
      }
      case 1 -> {
        // Text that happens to start with a zlib header ("x^", one in ~500) is taken as coded: begin with a word.
        StringBuilder text = new StringBuilder("The ");
        for (int k = 0, n = 1 + random.nextInt(200); k < n; k++) {
          text.append((char) (' ' + random.nextInt(95)));
        }
        return text.toString().getBytes(UTF_8);
      }
      default -> {
        byte[] png = new byte[8 + random.nextInt(300)];
        random.nextBytes(png);
        System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, png, 0, 8);
        return png;
      }
    }
  }

  private static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream coded = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(coded)) {
      out.write(plain);
    }
    return coded.toByteArray();
  }

  private static byte[] deflate(byte[] plain, boolean raw) throws IOException {
    ByteArrayOutputStream coded = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(coded, new Deflater(Deflater.DEFAULT_COMPRESSION, raw))) {
      out.write(plain);
    }
    return coded.toByteArray();
  }
}
