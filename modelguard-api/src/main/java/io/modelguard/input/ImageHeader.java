package io.modelguard.input;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An image's format and dimensions, read from its header without decoding a single pixel: PNG's
 * IHDR chunk (and an APNG's acTL and fcTL chunks), JPEG's SOFn segment, GIF's logical screen and
 * every frame's image descriptor, WebP's VP8/VP8L/VP8X header (and an animated WebP's ANMF
 * chunks). Reading costs one pass over the file's structure (its chunk, segment and block
 * headers), never an allocation of a size the image declares; this is what lets a 6 KB PNG that
 * declares 20000 × 20000 pixels be refused before a decoder allocates 1.6 GB for it.
 *
 * @param format the sniffed format
 * @param width width in pixels (for a GIF, the widest of the logical screen and every frame's
 *     extent, its left offset plus its width)
 * @param height height in pixels (for a GIF, the tallest of the logical screen and every frame's
 *     extent, its top offset plus its height)
 * @param frames number of frames: a GIF's image descriptors; a multi-picture JPEG's pictures; an
 *     APNG's frames, the more of its acTL's num_frames and its fcTL chunks (plus one for a default
 *     image that is not part of the animation); an animated WebP's ANMF chunks; 1 otherwise. An
 *     APNG or animated WebP frame that does not lie inside the canvas is refused ({@link
 *     #read(byte[])} is empty), as decoders refuse it
 */
public record ImageHeader(ImageFormat format, long width, long height, int frames) {

  /**
   * Width × height.
   *
   * @return the pixel count, {@code width * height}
   */
  public long pixels() {
    return width * height;
  }

  /**
   * Reads the header of {@code bytes}. Empty if the format is not recognised or the header is
   * truncated or inconsistent (such input must be refused, not decoded to find out).
   *
   * @param bytes the whole image; not null
   * @return the format, size and frame count the header declares, or empty
   */
  public static Optional<ImageHeader> read(byte[] bytes) {
    Optional<ImageFormat> format = ImageFormat.sniff(bytes);
    if (format.isEmpty()) {
      return Optional.empty();
    }
    switch (format.get()) {
      case PNG:
        return png(bytes);
      case JPEG:
        return jpeg(bytes);
      case GIF:
        return gif(bytes);
      default:
        return webp(bytes);
    }
  }

  private static Optional<ImageHeader> png(byte[] b) {
    // Signature (8), then the first chunk must be IHDR: length 13, type, width, height.
    if (b.length < 24 || u32be(b, 8) != 13 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
      return Optional.empty();
    }
    long w = u32be(b, 16);
    long h = u32be(b, 20);
    if (w == 0 || h == 0 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
      return Optional.empty();
    }
    long declared = 0; // acTL num_frames
    long controls = 0; // fcTL chunks
    boolean defaultImage = false; // an IDAT before the first fcTL: a frame outside the animation
    boolean animationControl = false;
    // A second IHDR refuses the image: Pillow reads every chunk up to the image data and keeps the
    // last IHDR it meets (an 8 x 8 IHDR followed by a 12,000 x 12,000 one opens as 12000 x 12000),
    // while ImageIO and this reader take the first. A valid PNG has exactly one.
    long at = 33; // after the signature and the first IHDR chunk (length, type, 13 bytes, CRC)
    while (at + 8 <= b.length) {
      int chunk = (int) at;
      long length = u32be(b, chunk);
      if (bytesAt(b, chunk + 4, 'I', 'H', 'D', 'R')) {
        return Optional.empty();
      }
      if (bytesAt(b, chunk + 4, 'I', 'E', 'N', 'D')) {
        break;
      }
      if (bytesAt(b, chunk + 4, 'a', 'c', 'T', 'L')) {
        // APNG animation control: num_frames, then num_plays. A second one refuses the image:
        // Pillow then shows the default image only, a valid APNG has exactly one.
        if (animationControl || length < 8 || chunk + 16 > b.length) {
          return Optional.empty();
        }
        animationControl = true;
        declared = u32be(b, chunk + 8);
      } else if (bytesAt(b, chunk + 4, 'f', 'c', 'T', 'L')) {
        // APNG frame control: sequence_number, width, height, x_offset, y_offset, ... The frame
        // must lie inside the canvas (APNG 4.2; Pillow refuses the file, "invalid frames", and
        // libpng's APNG patch too); one that does not is refused rather than composited past the
        // canvas's edge by a decoder that trusts it. A short or cut-off one cannot be read: refused.
        if (length < 26 || chunk + 34 > b.length) {
          return Optional.empty();
        }
        long fw = u32be(b, chunk + 12);
        long fh = u32be(b, chunk + 16);
        if (fw == 0 || fh == 0 || u32be(b, chunk + 20) + fw > w || u32be(b, chunk + 24) + fh > h) {
          return Optional.empty();
        }
        controls++;
      } else if (controls == 0 && bytesAt(b, chunk + 4, 'I', 'D', 'A', 'T')) {
        defaultImage = true;
      }
      at += 12 + length;
    }
    // An APNG's frames are as many as its acTL declares or as it holds fcTL chunks, whichever is
    // more: Pillow reports num_frames (and iterates until the frames run out), other decoders play
    // the frames they find. A default image that is not the first frame (its IDAT before any fcTL)
    // is one more, as Pillow counts it.
    long animated = Math.max(declared, controls);
    long frames = animated + (animated > 0 && defaultImage ? 1 : 0);
    return Optional.of(new ImageHeader(ImageFormat.PNG, w, h, (int) Math.max(1, Math.min(frames, Integer.MAX_VALUE))));
  }

  /**
   * The frame header (SOFn) of a JPEG. The markers are read on to the first scan (SOS) the way
   * decoders read them, and the header is refused (empty) where decoders could disagree about the
   * frame:
   *
   * <ul>
   *   <li>bytes other than a marker between segments are skipped, as libjpeg and Pillow skip them
   *       ("extraneous bytes"), and so is a stuffed {@code FF 00};
   *   <li>a second frame header, a DHP or EXP (hierarchical coding), a second SOI, or a marker no
   *       baseline decoder knows ({@code C8}, {@code F0}–{@code FD}, the reserved {@code 02}–{@code
   *       BF}) refuses the image: libjpeg refuses such a file ("two SOF markers", "unsupported
   *       marker"), while Pillow reads no length after those markers and reports the last frame
   *       header it meets (an 8 × 8 frame followed by a 12,000 × 12,000 one opens as 12000 ×
   *       12000), so reading past one of them as a segment could miss the frame that counts;
   *   <li>no scan before the end of the image or of the bytes refuses it too: libjpeg refuses such
   *       a file, while Pillow reads on past an EOI to the next frame header (an 8 × 8 frame, EOI,
   *       then a 13,000 × 13,000 one, opens as 13000 × 13000);
   *   <li>a multi-picture JPEG (an APP2 {@code MPF} index, as cameras and phones write for previews,
   *       depth or gain maps) counts its pictures as frames, and each picture after the first must
   *       be a JPEG whose frame header is readable and no larger than the first's: Pillow 9.4
   *       decodes every later picture into an image of the first one's size, and a larger one
   *       overran that buffer (heap corruption). The index must be unambiguous, as Pillow reads
   *       it: one MPF segment (Pillow keeps the last), a TIFF header of exactly {@code II*\0} or
   *       {@code MM\0*} (Pillow reads {@code MM*\0} half big-, half little-endian), no tag twice
   *       (Pillow keeps the last), the pictures in file order after one another (so each is read
   *       once); and a "large thumbnail" picture (the first included) whose Exif declares its
   *       pixel size must declare its frame header's size, since Pillow sizes it by its Exif.
   *       A JPEG appended after the first picture's end without an index is not read: Pillow
   *       ignores it, while {@code ImageIO} counts it as a second image (read image 0 only).
   * </ul>
   */
  private static Optional<ImageHeader> jpeg(byte[] b) {
    if (bytesAt(b, PCD_MAGIC_AT, 'P', 'C', 'D', '_')) {
      // Also a Kodak PhotoCD file: Pillow opens a JPEG its JPEG reader refuses (a 12-bit frame, an
      // odd component count, TEM, a short JFIF segment, ...) with its PCD reader, as 768 x 512.
      return Optional.empty();
    }
    JpegScan first = jpegScan(b, 2);
    if (first == null) {
      return Optional.empty();
    }
    ImageHeader frame = first.frame();
    if (first.mpfIndex() < 0) {
      return Optional.of(frame);
    }
    Picture[] entries = mpEntries(b, first.mpfIndex(), first.mpfEnd());
    if (entries == null) {
      return Optional.empty();
    }
    if (entries.length > 0 && !largeThumbnailSizeAgrees(b, 0, entries[0].attribute(), frame)) {
      return Optional.empty();
    }
    int scannedTo = first.scan();
    for (int k = 1; k < entries.length; k++) {
      long at = first.mpfIndex() + entries[k].offset();
      // Each picture after the one before's first scan: a picture is read once, in order.
      if (at <= scannedTo || at + 2 > b.length || (b[(int) at] & 0xff) != 0xff || (b[(int) at + 1] & 0xff) != 0xd8) {
        return Optional.empty();
      }
      JpegScan picture = jpegScan(b, (int) at + 2);
      if (picture == null || picture.frame().width() > frame.width() || picture.frame().height() > frame.height()
          || !largeThumbnailSizeAgrees(b, (int) at, entries[k].attribute(), picture.frame())) {
        return Optional.empty();
      }
      scannedTo = picture.scan();
    }
    return Optional.of(new ImageHeader(ImageFormat.JPEG, frame.width(), frame.height(), Math.max(1, entries.length)));
  }

  /**
   * A JPEG picture's frame header and, if it has one, its MPF index (the position of the index's
   * TIFF header and the end of its segment; -1 if none).
   */
  private record JpegScan(ImageHeader frame, int mpfIndex, int mpfEnd, int scan) {}

  /** Reads one JPEG picture's markers from {@code start} (after its SOI) to its first scan; null: refused. */
  private static JpegScan jpegScan(byte[] b, int start) {
    ImageHeader frame = null;
    int mpf = -1;
    int mpfEnd = -1;
    int i = start;
    while (i < b.length) {
      if ((b[i] & 0xff) != 0xff) {
        i++; // extraneous bytes before a marker
        continue;
      }
      while (i < b.length && (b[i] & 0xff) == 0xff) {
        i++; // fill bytes
      }
      if (i >= b.length) {
        return null;
      }
      int marker = b[i++] & 0xff;
      if (marker == 0x00 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        continue; // a stuffed zero, TEM and RSTn: no length
      }
      if (marker == 0xda) {
        return frame == null ? null : new JpegScan(frame, mpf, mpfEnd, i); // the first scan
      }
      if (marker < 0xc0 || marker == 0xc8 || marker == 0xd8 || marker == 0xd9 || marker == 0xde || marker == 0xdf
          || (marker >= 0xf0 && marker <= 0xfd)) {
        return null; // reserved, JPG, a second SOI, EOI before a scan, DHP, EXP, JPGn
      }
      if (i + 2 > b.length) {
        return null;
      }
      int length = u16be(b, i);
      if (length < 2) {
        return null;
      }
      boolean sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xcc;
      if (sof) {
        if (frame != null || i + 7 > b.length) {
          return null;
        }
        long h = u16be(b, i + 3);
        long w = u16be(b, i + 5);
        // Height 0 means "defined later by a DNL marker": refuse rather than decode to find out.
        if (w == 0 || h == 0) {
          return null;
        }
        frame = new ImageHeader(ImageFormat.JPEG, w, h, 1);
      } else if (marker == 0xe2 && length >= 6 && bytesAt(b, i + 2, 'M', 'P', 'F', 0)) {
        if (mpf >= 0) {
          return null; // a second MPF index: Pillow keeps the last, this reader the first
        }
        mpf = i + 6;
        mpfEnd = Math.min(b.length, i + length);
      }
      i += length;
    }
    return null;
  }

  /** A picture an MPF index lists: its attribute (flags and MP type) and offset from the index's TIFF header. */
  private record Picture(long attribute, long offset) {}

  /**
   * The pictures an MPF index lists; none if it lists none; null if it is malformed, ambiguous (another TIFF header than {@code II*\0} or
   * {@code MM\0*}, a tag twice, MP entries of another type than BYTE or UNDEFINED) or lists more
   * than {@value #MAX_PICTURES}.
   */
  private static Picture[] mpEntries(byte[] b, int tiff, int end) {
    Tiff t = Tiff.at(b, tiff, end);
    Map<Integer, Integer> ifd = t == null ? null : t.firstIfd();
    if (ifd == null) {
      return null;
    }
    Integer entry = ifd.get(0xb002);
    if (entry == null) {
      return new Picture[0];
    }
    int type = t.u16(entry + 2);
    long bytes = t.u32(entry + 4);
    long data = tiff + t.u32(entry + 8);
    if ((type != 1 && type != 7) || bytes % 16 != 0 || bytes / 16 > MAX_PICTURES || data + bytes > end) {
      return null;
    }
    Picture[] entries = new Picture[(int) (bytes / 16)];
    for (int p = 0; p < entries.length; p++) {
      entries[p] = new Picture(t.u32((int) data + 16 * p), t.u32((int) data + 16 * p + 8));
    }
    return entries;
  }

  /**
   * Whether a "large thumbnail" picture (MP type 0x010001 or 0x010002) whose first segment is an
   * Exif APP1 declares, if it declares both, the size its frame header has: Pillow 9.4 sizes such a
   * picture (the first one included, when it seeks back to it) by its Exif PixelXDimension and
   * PixelYDimension, so another size there is a buffer of another size than the data. Pictures of
   * other types, or without such an APP1, agree.
   */
  private static boolean largeThumbnailSizeAgrees(byte[] b, int picture, long attribute, ImageHeader frame) {
    long type = attribute & 0xffffff;
    if ((type != 0x010001 && type != 0x010002) || picture + 6 > b.length
        || (b[picture + 2] & 0xff) != 0xff || (b[picture + 3] & 0xff) != 0xe1) {
      return true;
    }
    int segmentEnd = Math.min(b.length, picture + 4 + u16be(b, picture + 4));
    int exif = picture + 6;
    if (exif + 6 > segmentEnd || !bytesAt(b, exif, 'E', 'x', 'i', 'f', 0, 0)) {
      return false; // an APP1 Pillow would read as Exif in some way this reader cannot tell
    }
    Tiff t = Tiff.at(b, exif + 6, segmentEnd);
    Map<Integer, Integer> ifd0 = t == null ? null : t.firstIfd();
    if (ifd0 == null) {
      return false;
    }
    Integer pointer = ifd0.get(0x8769);
    if (pointer == null) {
      return true;
    }
    long offset = t.scalar(pointer);
    Map<Integer, Integer> sub = offset < 0 ? null : t.ifd(offset);
    if (sub == null) {
      return false;
    }
    Integer x = sub.get(0xa002);
    Integer y = sub.get(0xa003);
    return x == null || y == null || (t.scalar(x) == frame.width() && t.scalar(y) == frame.height());
  }

  /** Where a Kodak PhotoCD file has its magic "PCD_", which Pillow looks for in any file. */
  private static final int PCD_MAGIC_AT = 2048;

  /** The most pictures an MPF index may list. */
  private static final int MAX_PICTURES = 1_000;

  /** A TIFF structure inside a JPEG segment: its start, the segment's end, its byte order. */
  private record Tiff(byte[] b, int start, int end, boolean le) {
    /** The TIFF structure at {@code start}; null unless its header is exactly {@code II*\0} or {@code MM\0*}. */
    static Tiff at(byte[] b, int start, int end) {
      if (start + 8 > end) {
        return null;
      }
      if (bytesAt(b, start, 'I', 'I', 0x2a, 0)) {
        return new Tiff(b, start, end, true);
      }
      if (bytesAt(b, start, 'M', 'M', 0, 0x2a)) {
        return new Tiff(b, start, end, false);
      }
      return null;
    }

    /** The entries of the first IFD, whose offset follows the header. */
    Map<Integer, Integer> firstIfd() {
      return ifd(u32(start + 4));
    }

    /** The entries of the IFD at {@code offset} (from the start), tag to position; null if malformed or a tag repeats. */
    Map<Integer, Integer> ifd(long offset) {
      long at = start + offset;
      if (offset < 8 || at + 2 > end) {
        return null;
      }
      int count = u16((int) at);
      if (at + 2 + 12L * count > end) {
        return null;
      }
      Map<Integer, Integer> entries = new HashMap<>();
      for (int k = 0; k < count; k++) {
        int entry = (int) at + 2 + 12 * k;
        if (entries.put(u16(entry), entry) != null) {
          return null;
        }
      }
      return entries;
    }

    /** The value of a SHORT or LONG entry of count 1; -1 for any other. */
    long scalar(int entry) {
      int type = u16(entry + 2);
      if (u32(entry + 4) != 1) {
        return -1;
      }
      return type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : -1;
    }

    int u16(int i) {
      return ImageHeader.u16(b, i, le);
    }

    long u32(int i) {
      return ImageHeader.u32(b, i, le);
    }
  }

  /** Whether {@code b} holds {@code expected} from {@code at} on. */
  private static boolean bytesAt(byte[] b, int at, int... expected) {
    if (at < 0 || at + expected.length > b.length) {
      return false;
    }
    for (int k = 0; k < expected.length; k++) {
      if (b[at + k] != (byte) expected[k]) {
        return false;
      }
    }
    return true;
  }

  private static int u16(byte[] b, int i, boolean le) {
    return le ? u16le(b, i) : u16be(b, i);
  }

  private static long u32(byte[] b, int i, boolean le) {
    return le ? (u16le(b, i) | (long) u16le(b, i + 2) << 16) : u32be(b, i);
  }

  private static Optional<ImageHeader> gif(byte[] b) {
    if (b.length < 13) {
      return Optional.empty();
    }
    long w = u16le(b, 6);
    long h = u16le(b, 8);
    int flags = b[10] & 0xff;
    int i = 13 + ((flags & 0x80) != 0 ? 3 * (1 << ((flags & 7) + 1)) : 0);
    int frames = 0;
    // Walk the blocks: a frame may declare a larger size than the logical screen, and a decoder
    // allocates for the frame.
    while (i < b.length) {
      int block = b[i] & 0xff;
      if (block == 0x3b) {
        break; // trailer
      } else if (block == 0x21) {
        i = skipSubBlocks(b, i + 2);
      } else if (block == 0x2c) {
        if (i + 10 > b.length) {
          break;
        }
        frames++;
        // A frame's extent is its offset plus its size: Pillow grows the image to cover it (a 16 x
        // 16 frame at (12000, 12000) on a 16 x 16 screen opens as 12016 x 12016).
        w = Math.max(w, u16le(b, i + 1) + (long) u16le(b, i + 5));
        h = Math.max(h, u16le(b, i + 3) + (long) u16le(b, i + 7));
        int f = b[i + 9] & 0xff;
        i += 10 + ((f & 0x80) != 0 ? 3 * (1 << ((f & 7) + 1)) : 0);
        i = skipSubBlocks(b, i + 1); // LZW minimum code size, then the data
      } else {
        return Optional.empty();
      }
      if (i < 0) {
        break; // truncated: judge what was seen
      }
    }
    if (w == 0 || h == 0 || frames == 0) {
      return Optional.empty();
    }
    return Optional.of(new ImageHeader(ImageFormat.GIF, w, h, frames));
  }

  private static int skipSubBlocks(byte[] b, int i) {
    while (i < b.length) {
      int size = b[i] & 0xff;
      i += 1 + size;
      if (size == 0) {
        return i;
      }
    }
    return -1;
  }

  private static Optional<ImageHeader> webp(byte[] b) {
    if (b.length < 30) {
      return Optional.empty();
    }
    if (!bytesAt(b, 12, 'V', 'P', '8', 'X')) {
      long[] size = bitstreamSize(b, 12);
      return size == null ? Optional.empty() : Optional.of(new ImageHeader(ImageFormat.WEBP, size[0], size[1], 1));
    }
    if (u32le(b, 16) < 10) {
      return Optional.empty(); // a VP8X chunk too short for its canvas size: libwebp refuses it
    }
    long w = 1 + u24le(b, 24);
    long h = 1 + u24le(b, 27);
    // The chunks after VP8X, to the end of the bytes: every ANMF chunk is a frame (libwebp, and so
    // Pillow, reports and decodes as many), and each must lie inside the canvas, its offset plus
    // its size, both as its ANMF header declares it and as its own VP8/VP8L bitstream does (libwebp
    // refuses a frame whose bitstream does not fit). One that does not is refused, and so is an
    // ANMF header cut off. A chunk's payload is padded to an even length.
    int frames = 0;
    long at = 20 + u32le(b, 16);
    at += at & 1;
    while (at + 8 <= b.length) {
      int chunk = (int) at;
      long size = u32le(b, chunk + 4);
      if (bytesAt(b, chunk, 'A', 'N', 'M', 'F')) {
        if (size < 16 || chunk + 24 > b.length) {
          return Optional.empty();
        }
        long x = 2 * u24le(b, chunk + 8);
        long y = 2 * u24le(b, chunk + 11);
        if (x + 1 + u24le(b, chunk + 14) > w || y + 1 + u24le(b, chunk + 17) > h) {
          return Optional.empty();
        }
        long[] bitstream = frameBitstreamSize(b, chunk + 24, Math.min(b.length, at + 8 + size));
        if (bitstream != null && (x + bitstream[0] > w || y + bitstream[1] > h)) {
          return Optional.empty();
        }
        frames++;
      }
      at += 8 + size + (size & 1);
    }
    return Optional.of(new ImageHeader(ImageFormat.WEBP, w, h, Math.max(1, frames)));
  }

  /**
   * The size of the VP8 or VP8L bitstream among the sub-chunks of an ANMF frame from {@code at} to
   * {@code end} (an ALPH chunk may come first); null if there is none this reader can read.
   */
  private static long[] frameBitstreamSize(byte[] b, int at, long end) {
    while (at + 8 <= end) {
      if (bytesAt(b, at, 'V', 'P', '8', ' ') || bytesAt(b, at, 'V', 'P', '8', 'L')) {
        return bitstreamSize(b, at);
      }
      long next = at + 8 + u32le(b, at + 4);
      next += next & 1;
      if (next > end) {
        return null;
      }
      at = (int) next;
    }
    return null;
  }

  /** Width and height of the VP8 or VP8L chunk at {@code c}; null if it is none or cut off, or declares no pixels. */
  private static long[] bitstreamSize(byte[] b, int c) {
    long w;
    long h;
    if (bytesAt(b, c, 'V', 'P', '8', 'L') && c + 13 <= b.length && (b[c + 8] & 0xff) == 0x2f) {
      long bits = u32le(b, c + 9);
      w = 1 + (bits & 0x3fff);
      h = 1 + ((bits >>> 14) & 0x3fff);
    } else if (bytesAt(b, c, 'V', 'P', '8', ' ') && c + 18 <= b.length
        && (b[c + 11] & 0xff) == 0x9d && b[c + 12] == 0x01 && b[c + 13] == 0x2a) {
      w = u16le(b, c + 14) & 0x3fff;
      h = u16le(b, c + 16) & 0x3fff;
    } else {
      return null;
    }
    return w == 0 || h == 0 ? null : new long[] {w, h};
  }

  private static long u24le(byte[] b, int i) {
    return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16;
  }

  private static long u32le(byte[] b, int i) {
    return u24le(b, i) | (b[i + 3] & 0xffL) << 24;
  }

  private static long u32be(byte[] b, int i) {
    return (b[i] & 0xffL) << 24 | (b[i + 1] & 0xffL) << 16 | (b[i + 2] & 0xffL) << 8 | (b[i + 3] & 0xffL);
  }

  private static int u16be(byte[] b, int i) {
    return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
  }

  private static int u16le(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }
}
