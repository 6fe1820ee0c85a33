package io.modelguard.examples.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Images of digits come back as the digits model's input: 8×8 levels 0..16, ink high. */
class DigitImagesTest {
  private static Dataset digits;
  private static Classifier model;

  @BeforeAll
  static void load() {
    digits = Dataset.fromResource("digits", "digits.csv");
    model = ModelCatalog.trainDemoModels().get(ModelCatalog.DIGITS).orElseThrow().classifier();
  }

  @Test
  void everyFullRangeDigitDrawnDarkOnLightComesBackExactly() {
    int checked = 0;
    for (int i = 0; i < digits.size(); i++) {
      double[] row = digits.features(i);
      if (!DigitPictures.spansFullRange(row)) {
        continue;
      }
      assertThat(DigitImages.toPixels(DigitPictures.draw(row, 4, true))).as("row %d", i).containsExactly(row);
      checked++;
    }
    assertThat(checked).as("rows that reach both 0 and 16").isEqualTo(1_765);
  }

  @Test
  void lightInkOnBlackIsNotInverted() {
    for (int label = 0; label < 10; label++) {
      double[] row = digits.features(DigitPictures.firstFullRangeRow(digits, label));
      assertThat(DigitImages.toPixels(DigitPictures.draw(row, 3, false))).containsExactly(row);
    }
  }

  @Test
  void sizesThatAreNotMultiplesOfEightAreAveragedByArea() {
    // 12 x 12: each cell covers 1.5 x 1.5 source pixels; a checker of 2 x 2 blocks averages out.
    BufferedImage image = new BufferedImage(12, 12, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 12; y++) {
      for (int x = 0; x < 12; x++) {
        image.setRGB(x, y, x < 6 ? 0x000000 : 0xffffff);
      }
    }
    double[] pixels = DigitImages.toPixels(image);
    // Border mean 127.5 is not light: no inversion; left half dark (0), right half light (16).
    for (int r = 0; r < 8; r++) {
      for (int c = 0; c < 8; c++) {
        assertThat(pixels[r * 8 + c]).as("cell %d,%d", r, c).isEqualTo(c < 4 ? 0 : 16);
      }
    }
  }

  @Test
  void aTransparentBackgroundCountsAsLight() {
    double[] row = digits.features(DigitPictures.firstFullRangeRow(digits, 3));
    BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 32; x++) {
        int alpha = (int) Math.round(row[(y / 4) * 8 + x / 4] * 255 / 16);
        image.setRGB(x, y, alpha << 24); // black ink, as opaque as the level is high
      }
    }
    assertThat(DigitImages.toPixels(image)).containsExactly(row);
  }

  @Test
  void aUniformImageIsAllZeroAndTinyImagesWork() {
    BufferedImage white = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        white.setRGB(x, y, 0xffffff);
      }
    }
    assertThat(DigitImages.toPixels(white)).containsOnly(0.0).hasSize(64);
    assertThat(DigitImages.toPixels(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB))).containsOnly(0.0);
    assertThat(DigitImages.toPixels(new BufferedImage(3, 5, BufferedImage.TYPE_BYTE_GRAY))).hasSize(64);
  }

  @Test
  void jpegAndGifOfEveryDigitAreClassifiedAsTheOriginal() throws IOException {
    for (int label = 0; label < 10; label++) {
      double[] row = digits.features(DigitPictures.firstFullRangeRow(digits, label));
      int expected = SoftmaxRegression.argMax(model.predictProba(row));
      for (String format : new String[] {"png", "jpeg", "gif"}) {
        byte[] file = DigitPictures.encode(DigitPictures.draw(row, 8, true), format);
        double[] pixels = DigitImages.toPixels(ImageIO.read(new ByteArrayInputStream(file)));
        for (int i = 0; i < 64; i++) {
          assertThat(Math.abs(pixels[i] - row[i])).as("%s of digit %d, cell %d", format, label, i).isLessThanOrEqualTo(1);
        }
        assertThat(SoftmaxRegression.argMax(model.predictProba(pixels))).as("%s of digit %d", format, label)
            .isEqualTo(expected);
      }
    }
  }
}
