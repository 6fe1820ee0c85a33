package io.modelguard.input;

import java.util.Optional;

/**
 * An image's format and dimensions, read from its header without decoding a single pixel: PNG's
 * IHDR chunk, JPEG's SOFn segment, GIF's logical screen and every frame's image descriptor, WebP's
 * VP8/VP8L/VP8X header. Reading costs a scan of the header bytes only; this is what lets a 6 KB
 * PNG that declares 20000 × 20000 pixels be refused before a decoder allocates 1.6 GB for it.
 *
 * @param format the sniffed format
 * @param width width in pixels (for a GIF, the widest of the logical screen and every frame)
 * @param height height in pixels (for a GIF, the tallest of the logical screen and every frame)
 * @param frames number of frames (1 except for GIF)
 */
public record ImageHeader(ImageFormat format, long width, long height, int frames) {

  /** Width × height. */
  public long pixels() {
    return width * height;
  }

  /**
   * Reads the header of {@code bytes}. Empty if the format is not recognised or the header is
   * truncated or inconsistent (such input must be refused, not decoded to find out).
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
    return Optional.of(new ImageHeader(ImageFormat.PNG, w, h, 1));
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
   *       overran that buffer (heap corruption).
   * </ul>
   */
  private static Optional<ImageHeader> jpeg(byte[] b) {
    JpegScan first = jpegScan(b, 2);
    if (first == null) {
      return Optional.empty();
    }
    ImageHeader frame = first.frame();
    if (first.mpfIndex() < 0) {
      return Optional.of(frame);
    }
    long[] offsets = mpOffsets(b, first.mpfIndex(), first.mpfEnd());
    if (offsets == null) {
      return Optional.empty();
    }
    for (int k = 1; k < offsets.length; k++) {
      long at = first.mpfIndex() + offsets[k];
      if (at + 2 > b.length || (b[(int) at] & 0xff) != 0xff || (b[(int) at + 1] & 0xff) != 0xd8) {
        return Optional.empty();
      }
      JpegScan picture = jpegScan(b, (int) at + 2);
      if (picture == null || picture.frame().width() > frame.width() || picture.frame().height() > frame.height()) {
        return Optional.empty();
      }
    }
    return Optional.of(new ImageHeader(ImageFormat.JPEG, frame.width(), frame.height(), Math.max(1, offsets.length)));
  }

  /**
   * A JPEG picture's frame header and, if it has one, its MPF index (the position of the index's
   * TIFF header and the end of its segment; -1 if none).
   */
  private record JpegScan(ImageHeader frame, int mpfIndex, int mpfEnd) {}

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
        return frame == null ? null : new JpegScan(frame, mpf, mpfEnd); // the first scan
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
      } else if (marker == 0xe2 && mpf < 0 && length >= 6 && i + 6 <= b.length
          && b[i + 2] == 'M' && b[i + 3] == 'P' && b[i + 4] == 'F' && b[i + 5] == 0) {
        mpf = i + 6;
        mpfEnd = Math.min(b.length, i + length);
      }
      i += length;
    }
    return null;
  }

  /**
   * The offsets (from the index's TIFF header) of the pictures an MPF index lists, in its MP entry
   * tag; an empty array if it lists none; null if it is malformed or lists more than {@value
   * #MAX_PICTURES}.
   */
  private static long[] mpOffsets(byte[] b, int tiff, int end) {
    if (tiff + 8 > end) {
      return null;
    }
    boolean le;
    if (b[tiff] == 'I' && b[tiff + 1] == 'I') {
      le = true;
    } else if (b[tiff] == 'M' && b[tiff + 1] == 'M') {
      le = false;
    } else {
      return null;
    }
    long ifd = tiff + u32(b, tiff + 4, le);
    if (ifd + 2 > end) {
      return null;
    }
    int count = u16(b, (int) ifd, le);
    if (ifd + 2 + 12L * count > end) {
      return null;
    }
    for (int k = 0; k < count; k++) {
      int entry = (int) ifd + 2 + 12 * k;
      if (u16(b, entry, le) != 0xb002) {
        continue;
      }
      long bytes = u32(b, entry + 4, le);
      long data = tiff + u32(b, entry + 8, le);
      if (bytes % 16 != 0 || bytes / 16 > MAX_PICTURES || data + bytes > end) {
        return null;
      }
      long[] offsets = new long[(int) (bytes / 16)];
      for (int p = 0; p < offsets.length; p++) {
        offsets[p] = u32(b, (int) data + 16 * p + 8, le);
      }
      return offsets;
    }
    return new long[0];
  }

  /** The most pictures an MPF index may list. */
  private static final int MAX_PICTURES = 1_000;

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
        w = Math.max(w, u16le(b, i + 5));
        h = Math.max(h, u16le(b, i + 7));
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
    long w;
    long h;
    if (b[12] == 'V' && b[13] == 'P' && b[14] == '8' && b[15] == 'X') {
      w = 1 + ((b[24] & 0xff) | (b[25] & 0xff) << 8 | (b[26] & 0xff) << 16);
      h = 1 + ((b[27] & 0xff) | (b[28] & 0xff) << 8 | (b[29] & 0xff) << 16);
    } else if (b[12] == 'V' && b[13] == 'P' && b[14] == '8' && b[15] == 'L' && (b[20] & 0xff) == 0x2f) {
      long bits = (b[21] & 0xffL) | (b[22] & 0xffL) << 8 | (b[23] & 0xffL) << 16 | (b[24] & 0xffL) << 24;
      w = 1 + (bits & 0x3fff);
      h = 1 + ((bits >>> 14) & 0x3fff);
    } else if (b[12] == 'V' && b[13] == 'P' && b[14] == '8' && b[15] == ' '
        && (b[23] & 0xff) == 0x9d && b[24] == 0x01 && b[25] == 0x2a) {
      w = u16le(b, 26) & 0x3fff;
      h = u16le(b, 28) & 0x3fff;
    } else {
      return Optional.empty();
    }
    return w == 0 || h == 0 ? Optional.empty() : Optional.of(new ImageHeader(ImageFormat.WEBP, w, h, 1));
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
