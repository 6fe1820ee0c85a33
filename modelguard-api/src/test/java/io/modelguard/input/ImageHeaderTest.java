package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
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
  void refusesAJpegWithASecondFrameHeaderBeforeItsScan() {
    // A small SOF0 first, a large one after it: the check read the first (8 x 8) where Pillow
    // reports the last (here 20,000 x 20,000); ImageIO refuses such a file.
    byte[] small = TestImages.real("jpeg", 8, 8);
    byte[] large = TestImages.jpegDeclaring(20_000, 20_000);
    byte[] largeSof = Arrays.copyOfRange(large, indexOfMarker(large, 0xc0), large.length - 2); // without its EOI
    int afterSof = afterSegment(small, indexOfMarker(small, 0xc0));

    assertThat(ImageHeader.read(small)).contains(new ImageHeader(ImageFormat.JPEG, 8, 8, 1));
    assertThat(ImageHeader.read(insert(small, afterSof, largeSof))).isEmpty();
    // Behind markers that Pillow reads without a length (a stuffed FF 00, JPG, JPGn) and a parser
    // reading a length after them would skip the second frame header with: refused all the same.
    for (int marker : new int[] {0x00, 0xc8, 0xf0, 0xfd}) {
      byte[] hidden = insert(small, afterSof, concat(new byte[] {(byte) 0xff, (byte) marker}, largeSof));
      assertThat(ImageHeader.read(hidden)).as("behind FF %02X", marker).isEmpty();
    }
    // A DHP (hierarchical coding) in place of the frame header, a second SOI: refused too.
    for (int marker : new int[] {0xde, 0xd8}) {
      byte[] other = small.clone();
      other[indexOfMarker(small, 0xc0) + 1] = (byte) marker;
      assertThat(ImageHeader.read(other)).as("FF %02X", marker).isEmpty();
    }
  }

  @Test
  void readsJpegsAsDecodersDoPastStrayBytesThumbnailsAndProgressiveScans() throws IOException {
    byte[] jpeg = TestImages.real("jpeg", 37, 21);
    // Stray bytes between the frame header and the scan: libjpeg skips them with a warning.
    byte[] padded = insert(jpeg, afterSegment(jpeg, indexOfMarker(jpeg, 0xc0)), new byte[] {0, 0, 0});
    assertThat(ImageIO.read(new ByteArrayInputStream(padded))).extracting(BufferedImage::getWidth).isEqualTo(37);
    assertThat(ImageHeader.read(padded)).contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 1));
    // An Exif APP1 segment holding a whole 8 x 8 JPEG (its own SOF) is skipped by its length.
    byte[] thumbnail = TestImages.real("jpeg", 8, 8);
    int length = 2 + 6 + thumbnail.length;
    byte[] app1 = concat(concat(new byte[] {(byte) 0xff, (byte) 0xe1, (byte) (length >> 8), (byte) length},
        "Exif\0\0".getBytes(StandardCharsets.US_ASCII)), thumbnail);
    assertThat(ImageHeader.read(insert(jpeg, 2, app1))).contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 1));
    // A progressive JPEG (SOF2).
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    ByteArrayOutputStream progressive = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(progressive)) {
      writer.setOutput(out);
      writer.write(null, new IIOImage(new BufferedImage(37, 21, BufferedImage.TYPE_INT_RGB), null, null), param);
    } finally {
      writer.dispose();
    }
    assertThat(ImageHeader.read(progressive.toByteArray())).contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 1));
  }

  /** Where the segment starting at {@code marker} (its length after the two marker bytes) ends. */
  private static int afterSegment(byte[] b, int marker) {
    return marker + 2 + (((b[marker + 2] & 0xff) << 8) | (b[marker + 3] & 0xff));
  }

  private static byte[] insert(byte[] b, int at, byte[] extra) {
    return concat(concat(Arrays.copyOfRange(b, 0, at), extra), Arrays.copyOfRange(b, at, b.length));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
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
