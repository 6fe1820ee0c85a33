package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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

  @Test
  void refusesAJpegWhoseFirstFrameEndsBeforeAnyScan() {
    // SOI, an 8 x 8 frame header, EOI, then a 13,000 x 13,000 frame and its scan: Pillow reads on
    // past the EOI and opens it as 13000 x 13000 (and decodes it with LOAD_TRUNCATED_IMAGES);
    // libjpeg refuses it.
    byte[] small = TestImages.jpegDeclaring(8, 8);
    byte[] large = TestImages.jpegDeclaring(13_000, 13_000);
    byte[] smallFrame = Arrays.copyOf(small, indexOfMarker(small, 0xda));
    byte[] file = concat(concat(smallFrame, new byte[] {(byte) 0xff, (byte) 0xd9}),
        Arrays.copyOfRange(large, indexOfMarker(large, 0xc0), large.length));
    assertThat(ImageHeader.read(file)).isEmpty();
    assertThat(ImageHeader.read(smallFrame)).as("no scan at all").isEmpty();
    assertThat(ImageHeader.read(small)).contains(new ImageHeader(ImageFormat.JPEG, 8, 8, 1));
  }

  @Test
  void countsTheFramesOfAMultiPictureJpegAndRefusesALaterPictureLargerThanTheFirst() {
    byte[] primary = TestImages.real("jpeg", 37, 21);
    // A smaller second picture (a preview, a gain map): two frames of the first's size.
    byte[] withPreview = multiPicture(primary, TestImages.real("jpeg", 8, 8), true);
    assertThat(ImageHeader.read(withPreview)).contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 2));
    assertThat(ImageHeader.read(multiPicture(primary, TestImages.real("jpeg", 8, 8), false))).as("big-endian index")
        .contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 2));
    // A larger second picture: Pillow 9.4 decodes it into a buffer of the first's size (a heap
    // overrun; the reviewer's run aborted with "free(): invalid next size").
    assertThat(ImageHeader.read(multiPicture(primary, TestImages.jpegDeclaring(2_000, 2_000), true))).isEmpty();
    assertThat(ImageHeader.read(multiPicture(primary, TestImages.jpegDeclaring(38, 21), true))).isEmpty();
    // An index pointing past the end, or at bytes that are no JPEG: refused.
    byte[] cut = Arrays.copyOf(withPreview, primary.length + 40);
    assertThat(ImageHeader.read(cut)).isEmpty();
    byte[] notJpeg = withPreview.clone();
    notJpeg[notJpeg.length - TestImages.real("jpeg", 8, 8).length] = 0;
    assertThat(ImageHeader.read(notJpeg)).isEmpty();
  }

  @Test
  void refusesMultiPictureJpegsThatPillowWouldReadOtherwise() throws IOException {
    // Made by the review with Pillow 9.4, each of which this reader passed while Pillow sized a
    // later picture otherwise and corrupted its heap or allocated for 20,000 x 20,000: two MPF
    // indexes (Pillow keeps the last), the MP entry tag twice (Pillow keeps the last), a "large
    // thumbnail" whose Exif size is larger or smaller than its frame header (Pillow takes the Exif
    // size), and the same on the first picture (Pillow re-reads it when it seeks back).
    for (String name : new String[] {"two-mpf-indexes", "mp-entries-twice", "thumbnail-exif-larger",
        "thumbnail-exif-smaller", "primary-thumbnail-exif"}) {
      byte[] file;
      try (InputStream in = ImageHeaderTest.class.getResourceAsStream("mpo/" + name + ".jpg")) {
        file = in.readAllBytes();
      }
      assertThat(ImageFormat.sniff(file)).as(name).contains(ImageFormat.JPEG);
      assertThat(ImageHeader.read(file)).as(name).isEmpty();
    }
    byte[] primary = TestImages.real("jpeg", 37, 21);
    byte[] mpo = multiPicture(primary, TestImages.real("jpeg", 8, 8), false, 0);
    // "MM*\0": Pillow reads the index's IFD big-endian and its entries little-endian.
    byte[] mixed = mpo.clone();
    int tiff = 10;
    mixed[tiff + 2] = 0x2a;
    mixed[tiff + 3] = 0;
    assertThat(ImageHeader.read(mixed)).isEmpty();
    // Two entries for one later picture: each picture is read once, in order, so junk cannot be
    // walked once per entry (the review's 1,000 entries on one padded picture took 1.8 s).
    assertThat(ImageHeader.read(multiPicture(primary, TestImages.real("jpeg", 8, 8), true, 0, 2))).isEmpty();
  }

  @Test
  void refusesAJpegThatIsAlsoAPhotoCdFile() {
    // Pillow opens a file its JPEG reader refuses with its PhotoCD reader when "PCD_" stands at
    // byte 2048 (the review's 12-bit and TEM variants opened as 768 x 512): such a file is refused.
    byte[] jpeg = TestImages.real("jpeg", 37, 21);
    int length = 2048 - 4 + 4 + 2; // from the segment's length field to just past "PCD_"
    byte[] comment = new byte[2 + length];
    comment[0] = (byte) 0xff;
    comment[1] = (byte) 0xfe;
    comment[2] = (byte) (length >> 8);
    comment[3] = (byte) length;
    System.arraycopy("PCD_".getBytes(StandardCharsets.US_ASCII), 0, comment, 2048 - 2, 4);
    byte[] polyglot = insert(jpeg, 2, comment);
    assertThat(new String(polyglot, 2048, 4, StandardCharsets.US_ASCII)).isEqualTo("PCD_");
    assertThat(ImageHeader.read(polyglot)).isEmpty();
    comment[2048 - 2] = 'X';
    assertThat(ImageHeader.read(insert(jpeg, 2, comment))).as("the same comment without the magic")
        .contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 1));
  }

  @Test
  void aLargeThumbnailIsReadWithItsExifSize() {
    byte[] primary = TestImages.real("jpeg", 37, 21);
    byte[] thumbnail = TestImages.real("jpeg", 8, 8);
    int largeThumbnail = 0x010001;
    assertThat(ImageHeader.read(multiPicture(primary, insert(thumbnail, 2, exif(8, 8)), true, largeThumbnail)))
        .contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 2));
    assertThat(ImageHeader.read(multiPicture(primary, insert(thumbnail, 2, exif(16, 16)), true, largeThumbnail)))
        .as("Exif says 16 x 16, the frame 8 x 8").isEmpty();
    assertThat(ImageHeader.read(multiPicture(primary, insert(thumbnail, 2, exif(16, 16)), true, 0)))
        .as("another picture type: Pillow ignores the Exif size").contains(new ImageHeader(ImageFormat.JPEG, 37, 21, 2));
  }

  /** An Exif APP1 segment whose Exif IFD declares PixelXDimension {@code w} and PixelYDimension {@code h}. */
  private static byte[] exif(int w, int h) {
    java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(8 + 2 + 12 + 4 + 2 + 2 * 12 + 4)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    tiff.put(new byte[] {'I', 'I', 0x2a, 0}).putInt(8);
    tiff.putShort((short) 1).putShort((short) 0x8769).putShort((short) 4).putInt(1).putInt(8 + 2 + 12 + 4).putInt(0);
    tiff.putShort((short) 2);
    tiff.putShort((short) 0xa002).putShort((short) 3).putInt(1).putShort((short) w).putShort((short) 0);
    tiff.putShort((short) 0xa003).putShort((short) 3).putInt(1).putShort((short) h).putShort((short) 0);
    tiff.putInt(0);
    int length = 2 + 6 + tiff.capacity();
    return concat(concat(new byte[] {(byte) 0xff, (byte) 0xe1, (byte) (length >> 8), (byte) length},
        "Exif\0\0".getBytes(StandardCharsets.US_ASCII)), tiff.array());
  }

  private static byte[] multiPicture(byte[] primary, byte[] second, boolean littleEndian) {
    return multiPicture(primary, second, littleEndian, 0, 1);
  }

  private static byte[] multiPicture(byte[] primary, byte[] second, boolean littleEndian, int secondType) {
    return multiPicture(primary, second, littleEndian, secondType, 1);
  }

  /**
   * {@code primary} with an APP2 MPF index (right after its SOI) listing itself and, {@code
   * entries} times, {@code second} (of MP type {@code secondType}), appended after it, as a camera
   * writes a multi-picture JPEG.
   */
  private static byte[] multiPicture(byte[] primary, byte[] second, boolean littleEndian, int secondType, int entries) {
    int pictures = 1 + entries;
    int indexLength = 2 + 4 + 8 + 2 + 3 * 12 + 4 + 16 * pictures; // length, "MPF\0", TIFF header, IFD, entries
    int tiff = 2 + 2 + 2 + 4; // SOI, marker, length, "MPF\0"
    long secondAt = primary.length + 2 + indexLength - tiff;
    java.nio.ByteBuffer index = java.nio.ByteBuffer.allocate(2 + indexLength)
        .order(littleEndian ? java.nio.ByteOrder.LITTLE_ENDIAN : java.nio.ByteOrder.BIG_ENDIAN);
    index.put((byte) 0xff).put((byte) 0xe2);
    index.put((byte) (indexLength >> 8)).put((byte) indexLength); // segment lengths are big-endian
    index.put(new byte[] {'M', 'P', 'F', 0});
    index.put(littleEndian ? new byte[] {'I', 'I', 0x2a, 0} : new byte[] {'M', 'M', 0, 0x2a}).putInt(8);
    index.putShort((short) 3); // MPF version, number of images, MP entries
    index.putShort((short) 0xb000).putShort((short) 7).putInt(4).put(new byte[] {'0', '1', '0', '0'});
    index.putShort((short) 0xb001).putShort((short) 4).putInt(1).putInt(pictures);
    index.putShort((short) 0xb002).putShort((short) 7).putInt(16 * pictures).putInt(8 + 2 + 3 * 12 + 4);
    index.putInt(0); // no next IFD
    index.putInt(0x20030000).putInt(primary.length).putInt(0).putShort((short) 0).putShort((short) 0);
    for (int k = 0; k < entries; k++) {
      index.putInt(secondType).putInt(second.length).putInt((int) secondAt).putShort((short) 0).putShort((short) 0);
    }
    return concat(insert(primary, 2, index.array()), second);
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
  void aGifFrameCountsWithItsOffsetForDecodersGrowTheImageToCoverIt() {
    // Pillow sizes a GIF to cover every frame it meets: a 16 x 16 screen with a 16 x 16 frame at
    // (12000, 12000) opens as 12016 x 12016, a 144-megapixel canvas from a 28-byte file.
    byte[] gif = TestImages.gifWithFrameAt(12_000, 12_000, 16, 16);

    assertThat(ImageHeader.read(gif)).contains(new ImageHeader(ImageFormat.GIF, 12_016, 12_016, 1));
    assertThat(ImageSpec.defaults().accepts(gif)).isFalse();
    assertThat(ImageSpec.defaults().accepts(TestImages.gifWithFrameAt(4_090, 0, 16, 16))).isFalse();
    assertThat(ImageHeader.read(TestImages.gifWithFrameAt(0, 0, 16, 16))).contains(new ImageHeader(ImageFormat.GIF, 16, 16, 1));
  }

  @Test
  void refusesAPngWithASecondHeaderChunk() {
    // Pillow reads the chunks up to the image data and keeps the last IHDR: this file opens as
    // 12000 x 12000 there, while its first IHDR says 8 x 8.
    byte[] png = TestImages.pngWithSecondHeader(8, 8, 12_000, 12_000);

    assertThat(ImageHeader.read(png)).isEmpty();
    assertThat(ImageSpec.defaults().accepts(png)).isFalse();
    assertThat(ImageHeader.read(TestImages.real("png", 8, 8))).contains(new ImageHeader(ImageFormat.PNG, 8, 8, 1));
  }

  @Test
  void anApngHasAsManyFramesAsItDeclaresOrHoldsWhicheverIsMore() throws IOException {
    int[] whole = {0, 0, 16, 16};
    int[] corner = {8, 8, 8, 8};
    byte[] normal = TestImages.apng(16, 16, 3, whole, corner, corner);
    assertThat(ImageHeader.read(normal)).contains(new ImageHeader(ImageFormat.PNG, 16, 16, 3));
    assertThat(ImageSpec.defaults().violation(normal)).isNull();
    assertThat(ImageSpec.defaults().decode(normal).getWidth()).as("ImageIO reads its default image").isEqualTo(16);

    // Pillow reports the acTL's num_frames and iterates on until the frames run out: a small file
    // declaring thousands of frames is refused by the frame limit, as is one holding more fcTL
    // chunks than its acTL declares.
    byte[] declaresMany = TestImages.apng(16, 16, 5_000, whole, corner);
    assertThat(ImageHeader.read(declaresMany)).contains(new ImageHeader(ImageFormat.PNG, 16, 16, 5_000));
    assertThat(ImageSpec.defaults().violation(declaresMany)).isEqualTo("has more than 100 frames");
    int[][] many = new int[101][];
    Arrays.fill(many, corner);
    many[0] = whole;
    byte[] holdsMany = TestImages.apng(16, 16, 1, many);
    assertThat(ImageHeader.read(holdsMany)).contains(new ImageHeader(ImageFormat.PNG, 16, 16, 101));
    assertThat(ImageSpec.defaults().violation(holdsMany)).isEqualTo("has more than 100 frames");
    assertThat(ImageHeader.read(TestImages.apng(16, 16, 0xffff_ffffL, whole)))
        .contains(new ImageHeader(ImageFormat.PNG, 16, 16, Integer.MAX_VALUE));
    // A default image outside the animation (its IDAT before the first fcTL) is one frame more.
    assertThat(ImageHeader.read(TestImages.apng(16, 16, 2, true, corner, corner)))
        .contains(new ImageHeader(ImageFormat.PNG, 16, 16, 3));
  }

  @Test
  void refusesAnApngFrameOutsideItsCanvas() {
    int[] whole = {0, 0, 16, 16};
    // APNG requires every frame inside the IHDR's canvas; Pillow refuses such a file ("APNG
    // contains invalid frames"), a decoder trusting it would composite past the canvas.
    for (int[] frame : new int[][] {{12_000, 12_000, 16, 16}, {8, 0, 16, 16}, {0, 1, 16, 16}, {0, 0, 17, 16},
        {0, 0, 0, 16}, {-1, 0, 1, 1}}) {
      assertThat(ImageHeader.read(TestImages.apng(16, 16, 2, whole, frame))).as(Arrays.toString(frame)).isEmpty();
    }
    assertThat(ImageSpec.defaults().violation(TestImages.apng(16, 16, 2, whole, new int[] {4_090, 0, 16, 16})))
        .isEqualTo("has an unreadable image header");
    assertThat(ImageHeader.read(TestImages.apng(16, 16, 2, whole, new int[] {15, 15, 1, 1})))
        .contains(new ImageHeader(ImageFormat.PNG, 16, 16, 2));
    // A second acTL (Pillow then shows the default image only) and a short fcTL are refused too.
    byte[] apng = TestImages.apng(16, 16, 2, whole, whole);
    int acTL = 33;
    assertThat(ImageHeader.read(insert(apng, acTL, Arrays.copyOfRange(apng, acTL, acTL + 20)))).isEmpty();
    byte[] shortFcTL = apng.clone();
    shortFcTL[acTL + 20 + 3] = 25;
    assertThat(ImageHeader.read(shortFcTL)).isEmpty();
    // Cut off anywhere, the file is read without an exception.
    for (int n = 0; n < apng.length; n++) {
      ImageHeader.read(Arrays.copyOf(apng, n));
    }
  }

  @Test
  void anAnimatedWebpHasOneFramePerAnimationFrameChunk() {
    ImageSpec webp = ImageSpec.builder().formats(ImageFormat.WEBP).build();
    assertThat(ImageHeader.read(TestImages.webpLossless(37, 21))).contains(new ImageHeader(ImageFormat.WEBP, 37, 21, 1));
    int[] whole = {0, 0, 16, 16};
    int[] corner = {8, 8, 8, 8};
    byte[] normal = TestImages.animatedWebp(16, 16, whole, corner, corner);
    assertThat(ImageHeader.read(normal)).contains(new ImageHeader(ImageFormat.WEBP, 16, 16, 3));
    assertThat(webp.violation(normal)).isNull();

    // libwebp (and so Pillow) decodes every ANMF frame: 101 of them break the limit of 100.
    int[][] many = new int[101][];
    Arrays.fill(many, corner);
    byte[] holdsMany = TestImages.animatedWebp(16, 16, many);
    assertThat(ImageHeader.read(holdsMany)).contains(new ImageHeader(ImageFormat.WEBP, 16, 16, 101));
    assertThat(webp.violation(holdsMany)).isEqualTo("has more than 100 frames");
  }

  @Test
  void refusesAnAnimatedWebpFrameOutsideItsCanvas() {
    int[] whole = {0, 0, 16, 16};
    // Each frame's offset plus its size must lie inside the VP8X canvas, as its ANMF header
    // declares it and as its bitstream does (libwebp refuses a bitstream that does not fit).
    for (int[] frame : new int[][] {{12_000, 12_000, 16, 16}, {2, 0, 16, 16}, {0, 2, 16, 16}, {0, 0, 17, 16},
        {0, 0, 16, 16, 4_000, 4_000}, {8, 8, 8, 8, 9, 8}}) {
      assertThat(ImageHeader.read(TestImages.animatedWebp(16, 16, whole, frame))).as(Arrays.toString(frame)).isEmpty();
    }
    assertThat(ImageHeader.read(TestImages.animatedWebp(16, 16, whole, new int[] {14, 14, 2, 2})))
        .contains(new ImageHeader(ImageFormat.WEBP, 16, 16, 2));
    // Cut off anywhere, the file is read without an exception; a cut-off ANMF header is refused.
    byte[] webp = TestImages.animatedWebp(16, 16, whole, whole);
    for (int n = 0; n < webp.length; n++) {
      ImageHeader.read(Arrays.copyOf(webp, n));
    }
    int secondFrame = webp.length - (webp.length - 12 - 18 - 14) / 2;
    assertThat(new String(webp, secondFrame, 4, StandardCharsets.US_ASCII)).isEqualTo("ANMF");
    assertThat(ImageHeader.read(Arrays.copyOf(webp, secondFrame + 20))).isEmpty();
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
