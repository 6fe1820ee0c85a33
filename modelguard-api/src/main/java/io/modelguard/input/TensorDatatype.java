package io.modelguard.input;

import java.math.BigDecimal;

/**
 * The tensor element types of the KServe Open Inference Protocol (v2), with their size in bytes and
 * the range an element must lie in. Integer ranges are checked exactly, whatever the magnitude: an
 * element of an integer type must be an integral value ({@code 1.0} and {@code 1e2} count, {@code
 * 1.00000000000000001} does not) within the type's bounds, so {@code 9223372036854775808} is refused
 * for {@link #INT64} although it is {@code (double) Long.MAX_VALUE}.
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
  /** Unsigned 64-bit integer, 0 to 18446744073709551615. */
  UINT64(8, 0, 18_446_744_073_709_551_615d, new BigDecimal("18446744073709551615")),
  /** Signed 8-bit integer. */
  INT8(1, -128, 127),
  /** Signed 16-bit integer. */
  INT16(2, -32_768, 32_767),
  /** Signed 32-bit integer. */
  INT32(4, Integer.MIN_VALUE, Integer.MAX_VALUE),
  /** Signed 64-bit integer, {@link Long#MIN_VALUE} to {@link Long#MAX_VALUE}. */
  INT64(8, Long.MIN_VALUE, Long.MAX_VALUE, BigDecimal.valueOf(Long.MAX_VALUE)),
  /**
   * Half-precision float: every number that rounds to a finite one (below 65520 in magnitude; the
   * largest finite is 65504).
   */
  FP16(2, -Math.nextDown(65_520.0), Math.nextDown(65_520.0)),
  /**
   * Single-precision float: every number that rounds to a finite one, so {@code 3.4028235e38}, as
   * Java, NumPy and most JSON writers print the largest finite float, is in range (below {@code
   * 0x1.ffffffp127}, the largest finite plus half its ulp, in magnitude).
   */
  FP32(4, -Math.nextDown(0x1.ffffffp127), Math.nextDown(0x1.ffffffp127)),
  /** Double-precision float. */
  FP64(8, -Double.MAX_VALUE, Double.MAX_VALUE),
  /**
   * Byte strings, sent as JSON strings; the size check counts their UTF-8 bytes ('é' is 2 bytes, an
   * emoji 4), as the server encodes them.
   */
  BYTES(1, 0, 0);

  private final int size;
  final double min;
  final double max; // rounded up where the bound is not a double (INT64, UINT64)
  final BigDecimal exactMin;
  final BigDecimal exactMax;

  TensorDatatype(int size, double min, double max) {
    this(size, min, max, new BigDecimal(max));
  }

  TensorDatatype(int size, double min, double max, BigDecimal exactMax) {
    this.size = size;
    this.min = min;
    this.max = max;
    this.exactMin = new BigDecimal(min); // every lower bound, -2^63 included, is a double
    this.exactMax = exactMax;
  }

  /**
   * Bytes per element (for {@link #BYTES}, the minimum of 1).
   *
   * @return the size in bytes, 1 to 8
   */
  public int elementSize() {
    return size;
  }

  /** {@return whether elements are integers} */
  public boolean isInteger() {
    return this != FP16 && this != FP32 && this != FP64 && this != BOOL && this != BYTES;
  }

  /** {@return whether elements are numbers (not booleans or strings)} */
  public boolean isNumeric() {
    return this != BOOL && this != BYTES;
  }
}
