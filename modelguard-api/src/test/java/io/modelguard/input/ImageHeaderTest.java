package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Dimensions come from the header; formats from magic bytes; decoding only after both pass. */
class ImageHeaderTest {

  @Test
  void readsTheDimensionsOfRealImagesInEveryFormat() {
    assertThat(ImageHeader.read(TestImages.real("png", 37, 21))).contains(new ImageHeader(ImageFormat.PNG, 37, 21, 1));
    assertThat(ImageHeader.read(TestImages.real("jpeg", 37, 21))).contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 1));
    assertThat(ImageHeader.read(TestImages.real("gif", 37, 21))).contains(new ImageHeader(ImageFormat.GIF, 37, 21, 1));
  }

  @Test
  void seesWhatCraftedHeadersDeclare() {
    assertThat(ImageHeader.read(TestImages.jpegDeclaring(30_000, 20_000))).contains(new ImageHeader(ImageFormat.JPEG, 30_000, 20_000, 1));
    assertThat(ImageHeader.read(TestImages.gifWithLargeFrame(60_000, 50_000)))
        .contains(new ImageHeader(ImageFormat.GIF, 60_000, 50_000, 1));
  }

  @Test
  void refusesTruncatedOrInconsistentHeadersInsteadOfGuessing() {
    byte[] png = TestImages.real("png", 8, 8);
    assertThat(ImageHeader.read(Arrays.copyOf(png, 20))).isEmpty();
    assertThat(ImageHeader.read(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xd9})).isEmpty();
    assertThat(ImageHeader.read(TestImages.pngDeclaring(0, 10, 200))).isEmpty();
    assertThat(ImageHeader.read("GIF89a".getBytes())).isEmpty();
    assertThat(ImageHeader.read("not an image".getBytes())).isEmpty();
  }

  @Test
  void refusesAJpegWithASecondFrameHeaderBeforeItsScan() throws IOException {
    // A small SOF0 first, a large one after it: the check read the first (8 x 8) where Pillow
    // reports the last (here 20,000 x 20,000); ImageIO refuses such a file.
    byte[] small = TestImages.real("jpeg", 8, 8);
    byte[] large = TestImages.jpegDeclaring(20_000, 20_000);
    int sof = indexOfMarker(small, 0xc0);
    byte[] largeSof = Arrays.copyOfRange(large, indexOfMarker(large, 0xc0), large.length - 2); // without its EOI
    byte[] twoFrames = new byte[small.length + largeSof.length];
    int afterSof = sof + 2 + (((small[sof + 2] & 0xff) << 8) | (small[sof + 3] & 0xff));
    System.arraycopy(small, 0, twoFrames, 0, afterSof);
    System.arraycopy(largeSof, 0, twoFrames, afterSof, largeSof.length);
    System.arraycopy(small, afterSof, twoFrames, afterSof + largeSof.length, small.length - afterSof);

    assertThat(ImageHeader.read(small)).contains(new ImageHeader(ImageFormat.JPEG, 8, 8, 1));
    assertThat(ImageHeader.read(twoFrames)).isEmpty();
    // A DHP (hierarchical coding) in place of the frame header: refused too.
    byte[] dhp = small.clone();
    dhp[sof + 1] = (byte) 0xde;
    assertThat(ImageHeader.read(dhp)).isEmpty();
  }

  /** Where the marker {@code 0xff <code>} starts in {@code b} (the first, after the SOI). */
  private static int indexOfMarker(byte[] b, int code) {
    for (int i = 2; i + 1 < b.length; i++) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == code) {
        return i;
      }
    }
    throw new AssertionError("no marker " + Integer.toHexString(code));
  }

  @Test
  void sniffsFormatsByMagicBytesOnly() {
    assertThat(ImageFormat.sniff(TestImages.real("png", 2, 2))).contains(ImageFormat.PNG);
    assertThat(ImageFormat.sniff(TestImages.real("jpeg", 2, 2))).contains(ImageFormat.JPEG);
    assertThat(ImageFormat.sniff(TestImages.real("gif", 2, 2))).contains(ImageFormat.GIF);
    assertThat(ImageFormat.sniff("RIFF\0\0\0\0WEBPVP8 ".getBytes())).contains(ImageFormat.WEBP);
    assertThat(ImageFormat.sniff("<svg xmlns=...>".getBytes())).isEmpty();
    assertThat(ImageFormat.forMediaType("IMAGE/JPG")).contains(ImageFormat.JPEG);
  }

  @Test
  void decodesOnlyAfterTheHeaderPasses() throws IOException {
    ImageSpec spec = ImageSpec.builder().maxWidth(100).maxHeight(100).build();

    BufferedImage img = spec.decode(TestImages.real("png", 40, 30));

    assertThat(img.getWidth()).isEqualTo(40);
    assertThat(img.getHeight()).isEqualTo(30);
    assertThatThrownBy(() -> spec.decode(TestImages.real("png", 101, 30)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("The image is larger than 100 x 100 pixels.");
    assertThatThrownBy(() -> ImageSpec.builder().formats(ImageFormat.GIF).build().decode(TestImages.real("png", 4, 4)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("The image is not an image of an accepted format.");
  }

  @Test
  void limitsPixelsFramesAndBytes() {
    assertThat(ImageSpec.builder().maxPixels(100).build().accepts(TestImages.real("png", 11, 10))).isFalse();
    assertThat(ImageSpec.builder().maxBytes(10).build().accepts(TestImages.real("png", 4, 4))).isFalse();
    assertThat(ImageSpec.defaults().accepts(TestImages.real("gif", 64, 64))).isTrue();
  }
}
