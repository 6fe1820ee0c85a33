package io.modelguard.input;

import java.util.Locale;
import java.util.Optional;

/**
 * Image formats recognised by their magic bytes. The {@code Content-Type} a client or an upstream
 * declares is only a hint: {@link #sniff(byte[])} decides.
 */
public enum ImageFormat {
  /** PNG: {@code 89 50 4E 47 0D 0A 1A 0A}. */
  PNG("image/png"),
  /** JPEG: {@code FF D8 FF}. */
  JPEG("image/jpeg"),
  /** GIF: {@code GIF87a} or {@code GIF89a}. */
  GIF("image/gif"),
  /** WebP: {@code RIFF....WEBP}. Recognised and measured; the JDK cannot decode it. */
  WEBP("image/webp");

  private final String mediaType;

  ImageFormat(String mediaType) {
    this.mediaType = mediaType;
  }

  /** {@return the IANA media type, for example {@code image/png}} */
  public String mediaType() {
    return mediaType;
  }

  /**
   * {@return the format whose media type is {@code mediaType} (case-insensitive, no parameters); {@code image/jpg} counts as JPEG}
   *
   * @param mediaType the media type, such as {@code image/png}; not null
   */
  public static Optional<ImageFormat> forMediaType(String mediaType) {
    String m = mediaType.toLowerCase(Locale.ROOT);
    if (m.equals("image/jpg")) {
      return Optional.of(JPEG);
    }
    for (ImageFormat f : values()) {
      if (f.mediaType.equals(m)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  /**
   * {@return the format {@code bytes} start with, or empty if none of these. Reads at most 12 bytes}
   *
   * @param bytes the content, or its first bytes; not null
   */
  public static Optional<ImageFormat> sniff(byte[] bytes) {
    int n = bytes.length;
    if (n >= 8 && (bytes[0] & 0xff) == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G'
        && bytes[4] == 0x0d && bytes[5] == 0x0a && bytes[6] == 0x1a && bytes[7] == 0x0a) {
      return Optional.of(PNG);
    }
    if (n >= 3 && (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xd8 && (bytes[2] & 0xff) == 0xff) {
      return Optional.of(JPEG);
    }
    if (n >= 6 && bytes[0] == 'G' && bytes[1] == 'I' && bytes[2] == 'F' && bytes[3] == '8'
        && (bytes[4] == '7' || bytes[4] == '9') && bytes[5] == 'a') {
      return Optional.of(GIF);
    }
    if (n >= 12 && bytes[0] == 'R' && bytes[1] == 'I' && bytes[2] == 'F' && bytes[3] == 'F'
        && bytes[8] == 'W' && bytes[9] == 'E' && bytes[10] == 'B' && bytes[11] == 'P') {
      return Optional.of(WEBP);
    }
    return Optional.empty();
  }
}
