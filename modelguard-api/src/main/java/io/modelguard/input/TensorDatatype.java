package io.modelguard.input;

/**
 * The tensor element types of the KServe Open Inference Protocol (v2), with their size in bytes and
 * the range an element must lie in.
 */
public enum TensorDatatype {
  /** Boolean ({@code true}/{@code false}), 1 byte. */
  BOOL(1, 0, 1),
  /** Unsigned 8-bit integer. */
  UINT8(1, 0, 255),
  /** Unsigned 16-bit integer. */
  UINT16(2, 0, 65_535),
  /** Unsigned 32-bit integer. */
  UINT32(4, 0, 4_294_967_295d),
  /** Unsigned 64-bit integer (checked as a double: values above 2^53 lose precision). */
  UINT64(8, 0, 18_446_744_073_709_551_615d),
  /** Signed 8-bit integer. */
  INT8(1, -128, 127),
  /** Signed 16-bit integer. */
  INT16(2, -32_768, 32_767),
  /** Signed 32-bit integer. */
  INT32(4, Integer.MIN_VALUE, Integer.MAX_VALUE),
  /** Signed 64-bit integer (checked as a double). */
  INT64(8, Long.MIN_VALUE, Long.MAX_VALUE),
  /** Half-precision float (largest finite 65504). */
  FP16(2, -65_504, 65_504),
  /** Single-precision float. */
  FP32(4, -Float.MAX_VALUE, Float.MAX_VALUE),
  /** Double-precision float. */
  FP64(8, -Double.MAX_VALUE, Double.MAX_VALUE),
  /** Byte strings, sent as JSON strings; counted at 1 byte per character for the size check. */
  BYTES(1, 0, 0);

  private final int size;
  final double min;
  final double max;

  TensorDatatype(int size, double min, double max) {
    this.size = size;
    this.min = min;
    this.max = max;
  }

  /** Bytes per element (for {@link #BYTES}, the minimum of 1). */
  public int elementSize() {
    return size;
  }

  /** Whether elements are integers. */
  public boolean isInteger() {
    return this != FP16 && this != FP32 && this != FP64 && this != BOOL && this != BYTES;
  }

  /** Whether elements are numbers (not booleans or strings). */
  public boolean isNumeric() {
    return this != BOOL && this != BYTES;
  }
}
