package io.modelguard.examples.model;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * Turns a decoded image into the input of the digits model: 64 grey levels 0..16, row by row, with
 * the ink high and the background 0, as in the digits data set.
 *
 * <ol>
 *   <li>Grey: each pixel's luminance (ITU-R BT.601 weights), alpha composited over white, so a
 *       transparent background counts as light.
 *   <li>Downscale to 8 × 8 by area averaging: each cell is the mean of the source area it covers,
 *       partly covered pixels weighted by the fraction covered (an image smaller than 8 × 8 is
 *       upscaled the same way).
 *   <li>Invert if the background is light: the background is judged from the image's outermost
 *       ring of pixels, which a centred digit leaves mostly empty. Dark ink on white paper then
 *       becomes high values on 0, like the data set; light ink on black stays as it is.
 *   <li>Scale to 0..16: the 64 values are stretched so the darkest cell is 0 and the brightest 16,
 *       then rounded to integers like the data set. A uniform image becomes all 0.
 * </ol>
 *
 * <p>A digit rendered from the data set as dark ink on white (or light on black) comes back as its
 * original 64 values whenever the row reaches both 0 and 16, as nearly every row does.
 * Stateless and thread-safe.
 */
public final class DigitImages {
  /** Cells per side of the model's input. */
  public static final int SIDE = 8;
  /** The largest grey level of the digits data. */
  public static final int MAX_LEVEL = 16;

  private DigitImages() {}

  /**
   * The 64 grey levels 0..16 (row by row, ink high) of {@code image}.
   *
   * @throws IllegalArgumentException if the image has no pixels
   */
  public static double[] toPixels(BufferedImage image) {
    Objects.requireNonNull(image, "image");
    int w = image.getWidth();
    int h = image.getHeight();
    if (w < 1 || h < 1) {
      throw new IllegalArgumentException("the image has no pixels");
    }
    double[][] grey = luminance(image);
    double[] cells = areaAverage(grey, w, h);
    if (borderMean(grey, w, h) > 127.5) {
      for (int i = 0; i < cells.length; i++) {
        cells[i] = 255 - cells[i];
      }
    }
    return stretch(cells);
  }

  /** Luminance 0..255 of every pixel, composited over white. */
  private static double[][] luminance(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    double[][] grey = new double[h][w];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        double alpha = ((argb >>> 24) & 0xff) / 255.0;
        double lum = 0.299 * ((argb >> 16) & 0xff) + 0.587 * ((argb >> 8) & 0xff) + 0.114 * (argb & 0xff);
        grey[y][x] = alpha * lum + (1 - alpha) * 255;
      }
    }
    return grey;
  }

  /** The 8 × 8 area averages, row by row. */
  private static double[] areaAverage(double[][] grey, int w, int h) {
    double[] cells = new double[SIDE * SIDE];
    for (int cy = 0; cy < SIDE; cy++) {
      double y0 = (double) cy * h / SIDE;
      double y1 = (double) (cy + 1) * h / SIDE;
      for (int cx = 0; cx < SIDE; cx++) {
        double x0 = (double) cx * w / SIDE;
        double x1 = (double) (cx + 1) * w / SIDE;
        double sum = 0;
        double area = 0;
        for (int y = (int) Math.floor(y0); y < Math.min(h, (int) Math.ceil(y1)); y++) {
          double wy = Math.min(y + 1, y1) - Math.max(y, y0);
          if (wy <= 0) {
            continue;
          }
          for (int x = (int) Math.floor(x0); x < Math.min(w, (int) Math.ceil(x1)); x++) {
            double wx = Math.min(x + 1, x1) - Math.max(x, x0);
            if (wx > 0) {
              sum += grey[y][x] * wx * wy;
              area += wx * wy;
            }
          }
        }
        cells[cy * SIDE + cx] = sum / area;
      }
    }
    return cells;
  }

  /** The mean luminance of the outermost ring of pixels. */
  private static double borderMean(double[][] grey, int w, int h) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
          sum += grey[y][x];
          n++;
        }
      }
    }
    return sum / n;
  }

  /** Stretches the values to 0..16 and rounds them. */
  private static double[] stretch(double[] cells) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : cells) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    double[] out = new double[cells.length];
    if (max - min < 1e-9) {
      return out;
    }
    for (int i = 0; i < cells.length; i++) {
      out[i] = Math.round((cells[i] - min) / (max - min) * MAX_LEVEL);
    }
    return out;
  }
}
