package io.modelguard.extraction;

/**
 * Upper bounds of what objects and arrays occupy on a 64-bit HotSpot heap with the default 8-byte
 * object alignment, compressed references and class pointers or not, for the detectors' byte
 * bounds: a bound counted from element sizes alone misses headers, references and alignment,
 * which for short rows are most of the bytes. A JVM run with a larger {@code
 * -XX:ObjectAlignmentInBytes} (16 keeps compressed references on heaps up to 64 GiB) pads every
 * object further than these bounds count.
 */
final class HeapBytes {
  /** A reference field or array element, uncompressed (a heap above 32 GiB). */
  static final int REFERENCE = 8;

  private HeapBytes() {}

  /** An object whose own fields take {@code fieldBytes}: a 16-byte header, fields, 8-byte alignment. */
  static long object(long fieldBytes) {
    return 16 + align(fieldBytes);
  }

  /**
   * An array of {@code length} elements of {@code elementBytes} each: a header of at most 20 bytes
   * (mark word, class pointer, length), padding to the elements' alignment, 8-byte alignment.
   */
  static long array(long length, int elementBytes) {
    return 24 + align(length * elementBytes);
  }

  private static long align(long bytes) {
    return (bytes + 7) & ~7L;
  }
}
