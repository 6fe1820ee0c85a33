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

  private static long align(long bytes) {
    return (bytes + ALIGNMENT - 1) & -ALIGNMENT;
  }

  private static int alignment() {
    try {
      String value = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("ObjectAlignmentInBytes").getValue();
      int a = Integer.parseInt(value);
      return a >= 8 && a <= 256 && Integer.bitCount(a) == 1 ? a : 16;
    } catch (RuntimeException | LinkageError e) {
      return 16;
    }
  }
}
