package io.modelguard.input;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * What an image input may be: formats (by magic bytes), bytes, width, height, pixels and frames,
 * all checked from the header before any decoder runs ({@link ImageHeader}). Immutable.
 */
public final class ImageSpec {
  private final Set<ImageFormat> formats;
  private final int maxBytes;
  private final int maxWidth;
  private final int maxHeight;
  private final long maxPixels;
  private final int maxFrames;

  private ImageSpec(Builder b) {
    this.formats = Set.copyOf(b.formats);
    this.maxBytes = b.maxBytes;
    this.maxWidth = b.maxWidth;
    this.maxHeight = b.maxHeight;
    this.maxPixels = b.maxPixels;
    this.maxFrames = b.maxFrames;
  }

  /**
   * Starts a builder: PNG, JPEG and GIF; at most 5 MiB, 4096 × 4096 pixels (16,777,216 in all) and
   * 100 frames.
   *
   * @return a new builder with those defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the default image spec (see {@link #builder()})} */
  public static ImageSpec defaults() {
    return builder().build();
  }

  /** {@return the accepted formats} */
  public Set<ImageFormat> formats() {
    return formats;
  }

  /**
   * Largest image in bytes. For an image URL field it is also the download cap: the fetch stops
   * reading one byte past it.
   *
   * @return the limit in bytes, at least 1
   */
  public int maxBytes() {
    return maxBytes;
  }

  /**
   * The rule {@code bytes} break, as a client-safe phrase; null if they break none. Reads the header
   * only.
   */
  String violation(byte[] bytes) {
    if (bytes.length > maxBytes) {
      return "is larger than " + maxBytes + " bytes";
    }
    Optional<ImageFormat> format = ImageFormat.sniff(bytes);
    if (format.isEmpty() || !formats.contains(format.get())) {
      return "is not an image of an accepted format";
    }
    Optional<ImageHeader> header = ImageHeader.read(bytes);
    if (header.isEmpty()) {
      return "has an unreadable image header";
    }
    ImageHeader h = header.get();
    if (h.width() > maxWidth || h.height() > maxHeight) {
      return "is larger than " + maxWidth + " x " + maxHeight + " pixels";
    }
    if (h.pixels() > maxPixels) {
      return "has more than " + maxPixels + " pixels";
    }
    if (h.frames() > maxFrames) {
      return "has more than " + maxFrames + " frames";
    }
    return null;
  }

  /**
   * {@return whether {@code bytes} satisfy this spec (header checks only, no decoding)}
   *
   * @param bytes the whole image; not null
   */
  public boolean accepts(byte[] bytes) {
    return violation(bytes) == null;
  }

  /**
   * Decodes {@code bytes} with ImageIO <em>after</em> checking them against this spec, so no
   * decoder ever sees an image whose header declares more than the limits. Uses an in-memory image
   * stream (no temporary files, no global ImageIO setting changed).
   *
   * @param bytes the whole image; not null
   * @return the decoded image (its first frame)
   * @throws IllegalArgumentException if the bytes violate this spec (the message is client-safe)
   * @throws IOException if the image passes the header checks but cannot be decoded
   */
  public BufferedImage decode(byte[] bytes) throws IOException {
    String violation = violation(bytes);
    if (violation != null) {
      throw new IllegalArgumentException("The image " + violation + ".");
    }
    ImageFormat format = ImageFormat.sniff(bytes).orElseThrow();
    Iterator<ImageReader> readers = ImageIO.getImageReadersByMIMEType(format.mediaType());
    if (!readers.hasNext()) {
      throw new IOException("no decoder for " + format);
    }
    ImageReader reader = readers.next();
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      // The decoder's own view of the size must agree with the header we checked.
      if (reader.getWidth(0) > maxWidth || reader.getHeight(0) > maxHeight) {
        throw new IllegalArgumentException("The image is larger than " + maxWidth + " x " + maxHeight + " pixels.");
      }
      return reader.read(0);
    } finally {
      reader.dispose();
    }
  }

  /** Builds an {@link ImageSpec}; each setter rejects values below 1 naming the field. */
  public static final class Builder {
    private Set<ImageFormat> formats = EnumSet.of(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.GIF);
    private int maxBytes = 5 << 20;
    private int maxWidth = 4096;
    private int maxHeight = 4096;
    private long maxPixels = 4096L * 4096L;
    private int maxFrames = 100;

    private Builder() {}

    /**
     * Accepted formats. Default PNG, JPEG, GIF.
     *
     * @param formats the formats, at least one
     * @return this builder
     */
    public Builder formats(ImageFormat... formats) {
      if (formats.length == 0) {
        throw new IllegalArgumentException("ImageSpec.formats: at least one format is required");
      }
      this.formats = EnumSet.copyOf(Arrays.asList(formats));
      return this;
    }

    /**
     * Largest image in bytes. Default 5 MiB.
     *
     * @param v the limit in bytes, at least 1
     * @return this builder
     */
    public Builder maxBytes(int v) {
      this.maxBytes = atLeastOne(v, "maxBytes");
      return this;
    }

    /**
     * Widest image in pixels. Default 4096.
     *
     * @param v the limit in pixels, at least 1
     * @return this builder
     */
    public Builder maxWidth(int v) {
      this.maxWidth = atLeastOne(v, "maxWidth");
      return this;
    }

    /**
     * Tallest image in pixels. Default 4096.
     *
     * @param v the limit in pixels, at least 1
     * @return this builder
     */
    public Builder maxHeight(int v) {
      this.maxHeight = atLeastOne(v, "maxHeight");
      return this;
    }

    /**
     * Most pixels (width × height). Default 16,777,216.
     *
     * @param v the limit in pixels, at least 1
     * @return this builder
     */
    public Builder maxPixels(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("ImageSpec.maxPixels must be at least 1, was " + v);
      }
      this.maxPixels = v;
      return this;
    }

    /**
     * Most frames: a GIF's, an animated PNG's (the more of those it declares and those it holds),
     * an animated WebP's, a multi-picture JPEG's pictures (see {@link ImageHeader#frames()}).
     * Default 100.
     *
     * @param v the limit in frames, at least 1
     * @return this builder
     */
    public Builder maxFrames(int v) {
      this.maxFrames = atLeastOne(v, "maxFrames");
      return this;
    }

    private static int atLeastOne(int v, String field) {
      if (v < 1) {
        throw new IllegalArgumentException("ImageSpec." + field + " must be at least 1, was " + v);
      }
      return v;
    }

    /**
     * Builds the spec.
     *
     * @return the spec, immutable
     */
    public ImageSpec build() {
      Objects.requireNonNull(formats, "formats");
      return new ImageSpec(this);
    }
  }
}
