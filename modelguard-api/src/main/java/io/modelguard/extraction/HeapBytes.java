package io.modelguard.extraction;

import java.lang.management.ManagementFactory;

/**
 * Upper bounds of what objects and arrays occupy on a 64-bit HotSpot heap, compressed references
 * and class pointers or not, at the running JVM's object alignment ({@code
 * -XX:ObjectAlignmentInBytes}: 8 by default, 16 to keep compressed references on heaps up to 64
 * GiB), for the detectors' byte bounds: a bound counted from element sizes alone misses headers,
 * references and alignment, which for short rows are most of the bytes.
 */
final class HeapBytes {
  /** A reference field or array element, uncompressed (a heap above 32 GiB). */
  static final int REFERENCE = 8;
  /**
   * The JVM's object alignment, read once; 16 if it cannot be read (a JVM without the HotSpot
   * diagnostic bean), which bounds the common layouts from above.
   */
  static final int ALIGNMENT = alignment();
  /**
   * Whether the JVM keeps Latin-1 strings at one byte a character ({@code -XX:+CompactStrings}, the
   * default); false if it cannot be read, which charges every string two bytes a character.
   */
  static final boolean COMPACT_STRINGS = "true".equals(vmOption("CompactStrings"));

  private HeapBytes() {}

  /** An object whose own fields take {@code fieldBytes}: a 16-byte header and the fields, aligned. */
  static long object(long fieldBytes) {
    return align(16 + fieldBytes);
  }

  /**
   * An array of {@code length} elements of {@code elementBytes} each: a header of at most 20 bytes
   * (mark word, class pointer, length), padding to the elements' alignment, aligned.
   */
  static long array(long length, int elementBytes) {
    return align(24 + length * elementBytes);
  }

  /**
   * A string and its character array: one byte a character if every character is Latin-1 and the
   * JVM compacts strings, two otherwise. O(length): for values computed once, not per query.
   */
  static long string(String s) {
    int bytesPerChar = COMPACT_STRINGS && isLatin1(s) ? 1 : 2;
    // The value array's reference, the cached hash, the coder and the hash-is-zero flag.
    return object(REFERENCE + 4 + 1 + 1) + array((long) s.length() * bytesPerChar, 1);
  }

  private static boolean isLatin1(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0xFF) {
        return false;
      }
    }
    return true;
  }

  private static long align(long bytes) {
    return (bytes + ALIGNMENT - 1) & -ALIGNMENT;
  }

  private static int alignment() {
    try {
      int a = Integer.parseInt(vmOption("ObjectAlignmentInBytes"));
      return a >= 8 && a <= 256 && Integer.bitCount(a) == 1 ? a : 16;
    } catch (NumberFormatException e) {
      return 16;
    }
  }

  /** A HotSpot option's value, or null if it cannot be read (a JVM without the diagnostic bean). */
  private static String vmOption(String name) {
    try {
      return ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption(name).getValue();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }
}
