package io.modelguard.input;

import java.io.CharConversionException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Well-formed UTF-8 (RFC 3629), checked incrementally so that a body read as a stream is held to
 * the same rule as one in memory: no overlong forms, no surrogates, nothing beyond U+10FFFF, no
 * truncated sequence at the end. Jackson decodes overlong forms (C1 AF as 'o') and sequences beyond
 * U+10FFFF, which the application's decoder refuses (Python) or reads as U+FFFD (servlet readers,
 * Go, Node): another name, another text than the one checked. One instance per body; not
 * thread-safe.
 */
final class Utf8Check {
  /** Continuation bytes still expected, the length of the open sequence, its code point so far. */
  private int need;
  private int len;
  private int cp;
  private boolean failed;

  /** Whether {@code b} is well-formed UTF-8. */
  static boolean isUtf8(byte[] b) {
    Utf8Check c = new Utf8Check();
    return c.accept(b, 0, b.length) && c.complete();
  }

  /**
   * How many bytes the UTF-8 encoding of {@code chars[offset..offset + length)} takes, counted from
   * the chars without encoding them: 1 to 3 per char, 4 per surrogate pair, and 3 for a surrogate
   * without its pair, as WTF-8 encodes it: the most any encoder writes for one (others refuse it or
   * write a 1- to 3-byte replacement).
   */
  static long encodedLength(char[] chars, int offset, int length) {
    long bytes = length; // 1 per char, plus what each char beyond ASCII adds
    for (int i = offset, end = offset + length; i < end; i++) {
      char c = chars[i];
      if (c < 0x80) {
        continue;
      }
      if (c < 0x800) {
        bytes += 1;
      } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(chars[i + 1])) {
        bytes += 2; // 4 for the pair
        i++;
      } else {
        bytes += 2;
      }
    }
    return bytes;
  }

  /**
   * {@code in}, checked as it is read: a read that would return an ill-formed byte, or reach the end
   * inside a sequence, throws a {@link CharConversionException} instead, before the caller sees the
   * bytes. Nothing is buffered.
   */
  static InputStream checking(InputStream in) {
    return new CheckingStream(in);
  }

  /** Checks the next bytes {@code b[off..end)}; false (for good) at the first one that is ill-formed. */
  boolean accept(byte[] b, int off, int end) {
    int need = this.need;
    int len = this.len;
    int cp = this.cp;
    for (int i = off; i < end && !failed; i++) {
      int c = b[i] & 0xff;
      if (need == 0) {
        if (c < 0x80) {
          continue;
        }
        len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        failed = len == 0;
        cp = c & (0x7f >> len);
        need = len - 1;
      } else if ((c & 0xc0) != 0x80) {
        failed = true;
      } else {
        cp = (cp << 6) | (c & 0x3f);
        if (--need == 0) {
          failed = (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
              || (len == 4 && (cp < 0x10000 || cp > 0x10ffff));
        }
      }
    }
    this.need = need;
    this.len = len;
    this.cp = cp;
    return !failed;
  }

  /** Whether the bytes so far end where a character ends (and none was ill-formed). */
  boolean complete() {
    return !failed && need == 0;
  }

  private static final class CheckingStream extends FilterInputStream {
    private final Utf8Check check = new Utf8Check();

    CheckingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n;
      do {
        n = read(one, 0, 1);
      } while (n == 0);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int length) throws IOException {
      int n = in.read(b, off, length);
      if (n < 0 ? !check.complete() : !check.accept(b, off, off + n)) {
        throw new CharConversionException("The body is not well-formed UTF-8.");
      }
      return n;
    }

    /** Reads what it skips: skipping the underlying stream would pass bytes unchecked. */
    @Override
    public long skip(long n) throws IOException {
      if (n <= 0) {
        return 0;
      }
      byte[] buffer = new byte[(int) Math.min(n, 2048)];
      return Math.max(read(buffer, 0, buffer.length), 0);
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    @Override
    public void mark(int readLimit) {}

    @Override
    public void reset() throws IOException {
      throw new IOException("mark/reset not supported");
    }
  }
}
