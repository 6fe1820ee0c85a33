package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Acceptance: a 6 KB PNG declaring 20000 × 20000 pixels is refused without decoding, on a 512 MB heap. */
class PixelBombTest {

  @Test
  void aSixKilobytePngDeclaring20000By20000PixelsIsRefusedFromItsHeaderOnA512MbHeap() throws Exception {
    ForkedJvm.Result r = ForkedJvm.run(List.of("-Xmx512m", "-Djava.awt.headless=true"), PixelBombProbe.class);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .containsPattern("size=6\\d\\d\\d\\b")
        .contains("policy=input.invalid | The image is larger than 4096 x 4096 pixels.")
        .contains("decode=REFUSED The image is larger than 4096 x 4096 pixels.")
        // The control proves the heap is too small to decode it: refusing from the header is what saved us.
        .contains("control=ImageIO ran out of memory");
  }

  @Test
  void theHeaderReaderSeesTheDeclaredSizeWithoutDecoding() {
    byte[] bomb = TestImages.pngDeclaring(20_000, 20_000, 6 * 1024);

    assertThat(ImageHeader.read(bomb)).contains(new ImageHeader(ImageFormat.PNG, 20_000, 20_000, 1));
    assertThat(ImageSpec.defaults().accepts(bomb)).isFalse();
  }
}
