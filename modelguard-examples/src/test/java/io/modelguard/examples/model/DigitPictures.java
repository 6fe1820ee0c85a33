package io.modelguard.examples.model;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Pictures of digits drawn from the digits data, as a person would draw or scan them, and crafted images. */
public final class DigitPictures {
  private DigitPictures() {}

  /**
   * Draws 64 grey levels 0..16 as an image of {@code 8 * scale} pixels square, each level a
   * {@code scale × scale} block: dark ink on white ({@code darkOnLight}) or light ink on black.
   */
  public static BufferedImage draw(double[] pixels, int scale, boolean darkOnLight) {
    int side = 8 * scale;
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        int ink = (int) Math.round(pixels[(y / scale) * 8 + x / scale] * 255 / 16);
        int grey = darkOnLight ? 255 - ink : ink;
        image.setRGB(x, y, grey << 16 | grey << 8 | grey);
      }
    }
    return image;
  }

  /** {@code image} encoded by ImageIO as {@code format} ({@code png}, {@code jpeg}, {@code gif}). */
  public static byte[] encode(BufferedImage image, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The index of the first row of {@code data} with {@code label} whose grey levels span all of 0..16. */
  public static int firstFullRangeRow(Dataset data, int label) {
    for (int i = 0; i < data.size(); i++) {
      if (data.label(i) == label && spansFullRange(data.features(i))) {
        return i;
      }
    }
    throw new IllegalStateException("no row of label " + label + " spans 0..16");
  }

  /** Whether the levels reach both 0 and 16. */
  public static boolean spansFullRange(double[] pixels) {
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    for (double v : pixels) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return min == 0 && max == 16;
  }

  /**
   * A well-formed PNG of a few dozen bytes whose header declares {@code width × height} RGB pixels:
   * a decoder would allocate the whole raster before noticing the data is missing.
   */
  public static byte[] pngDeclaring(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
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
}
