package io.modelguard.test.input;

import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.input.FetchedInputs;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ImageSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import io.modelguard.input.SafeUrlFetcher;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/**
 * For adapter tests that the application's handler receives the {@link FetchedInputs} a {@link
 * ModelInputPolicy} fetched: a chain whose policy fetches {@value #FIELD} of model {@value #MODEL}
 * from one {@link LoopbackHttpServer}, a small PNG to serve, and a one-line description of what a
 * handler found, which the handler answers and the test compares with {@link #expected(byte[])}.
 *
 * <pre>{@code
 * LoopbackHttpServer images = LoopbackHttpServer.start().serve("/img.png", 200, "image/png", FetchedInputsFixture.png());
 * ModelGuard.builder()...chain(FetchedInputsFixture.CHAIN, FetchedInputsFixture.chain(images.port()))
 * // handler: answer FetchedInputsFixture.describe(request.getAttribute(FetchedInputs.ATTRIBUTE))
 * }</pre>
 */
public final class FetchedInputsFixture {
  /** The chain name to register with {@link #chain(int)}. */
  public static final String CHAIN = "fetch";
  /** The model whose input names an image URL. */
  public static final String MODEL = "image-classifier";
  /** The image URL field. */
  public static final String FIELD = "imageUrl";
  /** The width and height of {@link #png()}. */
  public static final int SIZE = 16;

  private FetchedInputsFixture() {}

  /**
   * The input policy: model {@value #MODEL} with one image URL field {@value #FIELD} (at most 64 ×
   * 64 pixels), fetched by a {@link SafeUrlFetcher} whose only exemption from the deny set is
   * {@code 127.0.0.1:port}.
   *
   * @param port the loopback port the image server listens on: the one address the fetcher may
   *     reach
   * @return a new policy
   */
  public static ModelInputPolicy policy(int port) {
    return ModelInputPolicy.builder()
        .model(ModelSpec.builder(MODEL).maxBodyBytes(4096)
            .field(FIELD, FieldSpec.imageUrl(ImageSpec.builder().maxWidth(64).maxHeight(64).build())).build())
        .fetcher(SafeUrlFetcher.builder().allowInternalEndpoint("127.0.0.1", port).build())
        .build();
  }

  /**
   * Adds {@link #policy(int)} in {@link Phase#VALIDATE} to a chain.
   *
   * @param port the loopback port the image server listens on
   * @return a chain customizer adding one shared instance of {@link #policy(int)} under the name
   *     {@code input}
   */
  public static Consumer<PolicyChain.Builder> chain(int port) {
    ModelInputPolicy policy = policy(port);
    return c -> c.policy(Phase.VALIDATE, "input", policy);
  }

  /**
   * {@return the request body naming {@code url} in {@value #FIELD}}
   *
   * @param url the image URL, put in the JSON as it is (not escaped)
   */
  public static String body(String url) {
    return "{\"" + FIELD + "\":\"" + url + "\"}";
  }

  /** {@return a real {@value #SIZE} × {@value #SIZE} RGB PNG, the same bytes on every call} */
  public static byte[] png() {
    BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        image.setRGB(x, y, (x * 16) << 16 | (y * 16) << 8 | 0x40);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * What a handler found under {@link FetchedInputs#ATTRIBUTE}: {@code none} if nothing (or
   * something else), otherwise each field with the format and size from the checked header, the
   * byte count and the SHA-256 of the bytes.
   *
   * @param attribute the request attribute as the handler found it; may be null
   * @return {@code none}, or one entry per field separated by {@code "; "}
   */
  public static String describe(Object attribute) {
    if (!(attribute instanceof FetchedInputs)) {
      return "none";
    }
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, FetchedInputs.FetchedImage> e : ((FetchedInputs) attribute).images().entrySet()) {
      FetchedInputs.FetchedImage image = e.getValue();
      if (b.length() > 0) {
        b.append("; ");
      }
      b.append(e.getKey()).append(": ").append(image.header().format()).append(' ')
          .append(image.header().width()).append('x').append(image.header().height()).append(", ")
          .append(image.bytes().length).append(" bytes, sha256 ").append(sha256(image.bytes()));
    }
    return b.toString();
  }

  /**
   * {@return what {@link #describe(Object)} must answer when {@value #FIELD} fetched the PNG {@code png}}
   *
   * @param png the PNG bytes the server answered, such as those of {@link #png()}
   */
  public static String expected(byte[] png) {
    return FIELD + ": PNG " + SIZE + "x" + SIZE + ", " + png.length + " bytes, sha256 " + sha256(png);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
