package io.modelguard.input;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/** Real images written by ImageIO, and crafted ones whose headers lie about their size. */
final class TestImages {
  private TestImages() {}

  /** A real image of {@code w × h} in {@code format} ("png", "jpeg", "gif"). */
  static byte[] real(String format, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (x * 31 + y * 17) & 0xffffff);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A valid-looking PNG declaring {@code w × h} RGB pixels, padded with compressed image data to
   * about {@code size} bytes: a decoder allocates the whole raster before reading the data.
   */
  static byte[] pngDeclaring(long w, long h, int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt((int) w).putInt((int) h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    // Incompressible-looking filler so the file has a realistic size (about 6 KB).
    byte[] raw = new byte[size * 4];
    long seed = 42;
    for (int i = 0; i < raw.length; i++) {
      seed = seed * 6364136223846793005L + 1442695040888963407L;
      raw[i] = (byte) (seed >>> 56);
    }
    Deflater d = new Deflater(Deflater.BEST_SPEED);
    d.setInput(raw);
    d.finish();
    byte[] compressed = new byte[size - 57];
    int n = d.deflate(compressed, 0, compressed.length, Deflater.SYNC_FLUSH);
    d.end();
    chunk(out, "IDAT", java.util.Arrays.copyOf(compressed, n));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** A GIF whose logical screen is small but whose one frame declares {@code w × h}. */
  static byte[] gifWithLargeFrame(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("GIF89a".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {16, 0, 16, 0, 0, 0, 0}); // 16 x 16 screen, no global colour table
    out.write(0x2c);
    out.writeBytes(new byte[] {0, 0, 0, 0, (byte) w, (byte) (w >> 8), (byte) h, (byte) (h >> 8), 0});
    out.writeBytes(new byte[] {2, 1, 0, 0}); // LZW code size, one empty-ish sub-block, terminator
    out.write(0x3b);
    return out.toByteArray();
  }

  /**
   * A GIF with a 16 x 16 logical screen and one {@code w × h} frame placed at {@code (left, top)}:
   * Pillow grows the image to cover the frame, to {@code (left + w) × (top + h)}.
   */
  static byte[] gifWithFrameAt(int left, int top, int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("GIF89a".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {16, 0, 16, 0, 0, 0, 0}); // 16 x 16 screen, no global colour table
    out.write(0x2c);
    out.writeBytes(new byte[] {(byte) left, (byte) (left >> 8), (byte) top, (byte) (top >> 8),
        (byte) w, (byte) (w >> 8), (byte) h, (byte) (h >> 8), 0});
    out.writeBytes(new byte[] {2, 1, 0, 0}); // LZW code size, one empty-ish sub-block, terminator
    out.write(0x3b);
    return out.toByteArray();
  }

  /**
   * A real {@code w × h} PNG with a second IHDR declaring {@code w2 × h2} inserted right after the
   * first (before the image data): Pillow keeps the last IHDR it reads before the data.
   */
  static byte[] pngWithSecondHeader(int w, int h, int w2, int h2) {
    byte[] png = real("png", w, h);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(png, 0, 33); // signature and the first IHDR chunk
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(w2).putInt(h2).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    out.write(png, 33, png.length - 33);
    return out.toByteArray();
  }

  /**
   * An APNG of {@code w × h} whose acTL declares {@code numFrames} frames and which holds one fcTL
   * per entry of {@code frames} ({@code {x, y, width, height}}), each followed by its image data
   * (8-bit RGB, all zero): the first frame's in the IDAT, the others' in fdAT chunks.
   */
  static byte[] apng(int w, int h, long numFrames, int[]... frames) {
    return apng(w, h, numFrames, false, frames);
  }

  /**
   * As {@link #apng(int, int, long, int[]...)}; with {@code defaultImage}, a {@code w × h} IDAT
   * comes before the first fcTL (a default image that is not part of the animation) and every
   * frame's data is in fdAT chunks.
   */
  static byte[] apng(int w, int h, long numFrames, boolean defaultImage, int[]... frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "acTL", ByteBuffer.allocate(8).putInt((int) numFrames).putInt(0).array());
    if (defaultImage) {
      chunk(out, "IDAT", zeroRows(w, h));
    }
    int sequence = 0;
    for (int k = 0; k < frames.length; k++) {
      int[] f = frames[k];
      ByteBuffer fctl = ByteBuffer.allocate(26);
      fctl.putInt(sequence++).putInt(f[2]).putInt(f[3]).putInt(f[0]).putInt(f[1]);
      fctl.putShort((short) 1).putShort((short) 10).put((byte) 0).put((byte) 0);
      chunk(out, "fcTL", fctl.array());
      byte[] data = zeroRows(f[2], f[3]);
      if (k == 0 && !defaultImage) {
        chunk(out, "IDAT", data);
      } else {
        chunk(out, "fdAT", ByteBuffer.allocate(4 + data.length).putInt(sequence++).put(data).array());
      }
    }
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** Zlib-compressed scanlines of a {@code w × h} 8-bit RGB image, each with filter type 0, all zero. */
  private static byte[] zeroRows(int w, int h) {
    Deflater d = new Deflater();
    d.setInput(new byte[(1 + 3 * w) * h]);
    d.finish();
    byte[] buffer = new byte[1024 + (1 + 3 * w) * h];
    int n = d.deflate(buffer);
    d.end();
    return java.util.Arrays.copyOf(buffer, n);
  }

  /** A still lossless WebP (a VP8L chunk only) of {@code w × h}. */
  static byte[] webpLossless(int w, int h) {
    return riff(vp8l(w, h));
  }

  /**
   * An animated WebP: a VP8X chunk with the animation flag and a {@code w × h} canvas, an ANIM
   * chunk, and one ANMF chunk per entry of {@code frames}: {@code {x, y, width, height}} (x and y
   * even, as the format stores them halved), or {@code {x, y, width, height, bitstreamWidth,
   * bitstreamHeight}} for a frame whose VP8L bitstream declares another size than its ANMF header.
   */
  static byte[] animatedWebp(int w, int h, int[]... frames) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    ByteBuffer vp8x = ByteBuffer.allocate(10).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    vp8x.put((byte) 0x12).put(new byte[3]); // alpha and animation
    vp8x.put(le24(w - 1)).put(le24(h - 1));
    riffChunk(body, "VP8X", vp8x.array());
    riffChunk(body, "ANIM", new byte[] {0, 0, 0, 0, 0, 0}); // background colour, loop forever
    for (int[] f : frames) {
      ByteArrayOutputStream anmf = new ByteArrayOutputStream();
      anmf.writeBytes(le24(f[0] / 2));
      anmf.writeBytes(le24(f[1] / 2));
      anmf.writeBytes(le24(f[2] - 1));
      anmf.writeBytes(le24(f[3] - 1));
      anmf.writeBytes(le24(100)); // duration, ms
      anmf.write(0); // blend, no dispose
      anmf.writeBytes(f.length > 4 ? vp8l(f[4], f[5]) : vp8l(f[2], f[3]));
      riffChunk(body, "ANMF", anmf.toByteArray());
    }
    return riff(body.toByteArray());
  }

  /** A VP8L chunk whose header declares {@code w × h}, followed by a few bytes of bitstream. */
  private static byte[] vp8l(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer header = ByteBuffer.allocate(5).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    header.put((byte) 0x2f).putInt((w - 1) | (h - 1) << 14 | 1 << 28); // size, alpha, version 0
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.writeBytes(header.array());
    data.writeBytes(new byte[] {0, 0, 0, 0, 0});
    riffChunk(out, "VP8L", data.toByteArray());
    return out.toByteArray();
  }

  private static byte[] riff(byte[] chunks) {
    ByteBuffer out = ByteBuffer.allocate(12 + chunks.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    out.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(4 + chunks.length);
    out.put("WEBP".getBytes(StandardCharsets.US_ASCII)).put(chunks);
    return out.array();
  }

  /** A RIFF chunk: its FourCC, its payload's size (little-endian), the payload padded to an even length. */
  private static void riffChunk(ByteArrayOutputStream out, String fourcc, byte[] payload) {
    out.writeBytes(fourcc.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(payload.length).array());
    out.writeBytes(payload);
    if (payload.length % 2 == 1) {
      out.write(0);
    }
  }

  private static byte[] le24(int v) {
    return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16)};
  }

  /**
   * A JPEG with an APP0 segment, an SOF0 declaring {@code w × h} and the header of its scan (SOS),
   * but no scan data.
   */
  static byte[] jpegDeclaring(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd8});
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xc0, 0, 17, 8, (byte) (h >> 8), (byte) h, (byte) (w >> 8), (byte) w, 3,
        1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0});
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd9});
    return out.toByteArray();
  }
}
