package io.modelguard.input;

import io.modelguard.GuardDecision;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;

/**
 * Run by {@link PixelBombTest} in a JVM with a 512 MB heap: the 6 KB PNG declaring 20000 × 20000
 * pixels goes through the input policy and {@link ImageSpec#decode}, then, as a control, straight
 * into {@code ImageIO.read}. Prints one line per step.
 */
public final class PixelBombProbe {
  private PixelBombProbe() {}

  /** No arguments. */
  public static void main(String[] args) throws Exception {
    byte[] bomb = TestImages.pngDeclaring(20_000, 20_000, 6 * 1024);
    System.out.println("size=" + bomb.length);
    System.out.println("maxHeap=" + Runtime.getRuntime().maxMemory());
    ModelSpec spec = ModelSpec.builder("thumbnails").imageBody(ImageSpec.defaults()).build();
    GuardDecision d = ModelInputPolicy.of(spec).check(TestRequest.bytes("thumbnails", "image/png", bomb));
    System.out.println("policy=" + d.reason().map(Object::toString).orElse("allowed") + " | " + d.detail().orElse(""));
    try {
      ImageSpec.defaults().decode(bomb);
      System.out.println("decode=DECODED");
    } catch (IllegalArgumentException e) {
      System.out.println("decode=REFUSED " + e.getMessage());
    }
    try {
      ImageIO.read(new ByteArrayInputStream(bomb));
      System.out.println("control=ImageIO decoded it");
    } catch (Throwable e) {
      // ImageIO wraps the OutOfMemoryError of the raster allocation in an IIOException.
      Throwable cause = e;
      while (cause.getCause() != null && !(cause instanceof OutOfMemoryError)) {
        cause = cause.getCause();
      }
      System.out.println(cause instanceof OutOfMemoryError ? "control=ImageIO ran out of memory" : "control=" + e);
    }
  }
}
