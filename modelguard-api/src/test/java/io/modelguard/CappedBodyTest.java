package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.input.FieldSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CappedBodyTest {

  /** A stream of {@code size} bytes that counts what was read from it. */
  static final class CountingStream extends InputStream {
    final AtomicLong read = new AtomicLong();
    final long size;

    CountingStream(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      if (read.get() >= size) {
        return -1;
      }
      read.incrementAndGet();
      return 'x';
    }
  }

  @Test
  void aStreamThatCannotBeOpenedFailsEveryReaderAsTheServerFaultItIsAndIsNotOpenedAgain() {
    // The container may refuse the stream unchecked (an IllegalStateException once the application
    // took the reader): a fault of the server, not a body the client sent unreadable, so it stays
    // unchecked for every reader; and the source is not opened again, not even to discard the rest.
    AtomicLong opens = new AtomicLong();
    CappedBody body = new CappedBody(() -> {
      opens.incrementAndGet();
      throw new IllegalStateException("getReader() was called");
    });

    assertThatThrownBy(() -> body.read(64)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> body.read(1024)).isInstanceOf(IllegalStateException.class);
    assertThat(body.discardRest(10)).isFalse();
    assertThat(opens).hasValue(1);
    assertThat(body.consumed()).isFalse();
  }

  @Test
  void aStreamTheContainerRefusesFailsTheReadingPolicyAsAnInternalErrorNotAsMalformedInput() {
    // Before: the refusal, wrapped as an I/O failure, reached ModelInputPolicy as a body that could
    // not be read: 400 input.malformed, blaming the client, with a DEBUG line as the only trace of
    // the application's misconfiguration (a filter that took the reader before the guard).
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "input", ModelInputPolicy.of(
            ModelSpec.builder("digits").field("pixels", FieldSpec.numbers(64)).build())))
        .build();
    CappedBody refused = new CappedBody(() -> {
      throw new IllegalStateException("getReader() has already been called for this request");
    });
    InferenceRequest request = new InferenceRequest() {
      @Override public String method() { return "POST"; }
      @Override public String path() { return "/v1/models/digits/predict"; }
      @Override public Optional<String> header(String name) {
        return "Content-Type".equalsIgnoreCase(name) ? Optional.of("application/json") : Optional.empty();
      }
      @Override public List<String> headers(String name) { return header(name).map(List::of).orElse(List.of()); }
      @Override public Optional<String> remoteAddress() { return Optional.of("127.0.0.1"); }
      @Override public Endpoint endpoint() { return Endpoint.of("digits", "default", 1); }
      @Override public byte[] body(int maxBytes) throws IOException { return refused.read(maxBytes); }
    };

    assertThat(guard.check(request).reason()).contains(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void bodyAtTheCapIsReturnedWhole() throws IOException {
    CappedBody body = new CappedBody(() -> new ByteArrayInputStream(new byte[64]));
    assertThat(body.read(64)).hasSize(64);
    assertThat(body.complete()).isTrue();
    assertThat(body.read(64)).hasSize(64);
  }

  @Test
  void capsBeyondOneGibibyteAreRefusedUpFront() {
    // Above 2^30 the doubling buffer could ask for an array the JVM cannot allocate (an
    // OutOfMemoryError, not a 413); such caps used to be accepted up to Integer.MAX_VALUE - 1.
    CountingStream stream = new CountingStream(16);
    CappedBody body = new CappedBody(() -> stream);
    assertThatThrownBy(() -> body.read(Integer.MAX_VALUE - 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> body.read(CappedBody.MAX_CAP + 1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(stream.read).as("nothing read for a refused cap").hasValue(0);
    assertThat(CappedBody.MAX_CAP).isEqualTo(1 << 30);
  }

  @Test
  void bodyOverTheCapIsRefusedAfterReadingAtMostCapPlusOne() {
    CountingStream stream = new CountingStream(10L << 20);
    CappedBody body = new CappedBody(() -> stream);

    assertThatThrownBy(() -> body.read(1 << 20))
        .isInstanceOf(BodyTooLargeException.class)
        .satisfies(e -> assertThat(((BodyTooLargeException) e).limit()).isEqualTo(1 << 20));
    assertThat(stream.read.get()).isEqualTo((1 << 20) + 1);
    assertThat(body.bytesRead()).hasSize((1 << 20) + 1);
  }

  @Test
  void aLargerCapLaterContinuesWhereTheSmallerOneStopped() throws IOException {
    CappedBody body = new CappedBody(() -> new ByteArrayInputStream(new byte[100]));

    assertThatThrownBy(() -> body.read(10)).isInstanceOf(BodyTooLargeException.class);
    assertThat(body.read(100)).hasSize(100);
    assertThatThrownBy(() -> body.read(50)).isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void bodiesLargerThanTheFirstBufferArriveWholeAndInOrder() throws IOException {
    byte[] sent = new byte[5000];
    for (int i = 0; i < sent.length; i++) {
      sent[i] = (byte) (i * 31 + 7);
    }
    CappedBody body = new CappedBody(() -> new ByteArrayInputStream(sent));

    assertThatThrownBy(() -> body.read(1500)).isInstanceOf(BodyTooLargeException.class);
    assertThat(body.bytesRead()).hasSize(1501).isEqualTo(java.util.Arrays.copyOf(sent, 1501));
    assertThat(body.read(5000)).isEqualTo(sent);
    assertThat(body.complete()).isTrue();
  }

  @Test
  void aDeclaredBodyLeavesUnreadBytesUntilReadToItsEnd() throws IOException {
    CappedBody body = new CappedBody(() -> new ByteArrayInputStream(new byte[100]));
    assertThat(body.leavesUnreadBytes(0, false)).as("no body declared").isFalse();
    assertThat(body.leavesUnreadBytes(100, false)).as("declared, not read").isTrue();
    assertThat(body.leavesUnreadBytes(-1, true)).as("chunked, not read").isTrue();

    assertThatThrownBy(() -> body.read(10)).isInstanceOf(BodyTooLargeException.class);
    assertThat(body.leavesUnreadBytes(100, false)).as("read in part").isTrue();
    body.read(100);
    assertThat(body.leavesUnreadBytes(100, false)).as("read to its end").isFalse();
    assertThat(body.leavesUnreadBytes(-1, true)).isFalse();
  }

  @Test
  void streamIsOpenedOnlyWhenRead() throws IOException {
    int[] opens = {0};
    CappedBody body = new CappedBody(() -> {
      opens[0]++;
      return new ByteArrayInputStream(new byte[3]);
    });
    assertThat(body.consumed()).isFalse();
    assertThat(opens[0]).isZero();
    body.read(10);
    body.read(10);
    assertThat(opens[0]).isEqualTo(1);
  }

  @Test
  void bytesReadBeforeAStreamFailureAreKeptForReplay() {
    InputStream failing = new InputStream() {
      int served;

      @Override
      public int read() throws IOException {
        if (served == 5) {
          throw new IOException("connection reset");
        }
        served++;
        return 'a';
      }
    };
    CappedBody body = new CappedBody(() -> failing);

    assertThatThrownBy(() -> body.read(100)).isInstanceOf(IOException.class).hasMessage("connection reset");
    assertThat(body.bytesRead()).hasSize(5);
    assertThat(body.complete()).isFalse();
    // A later reader (another policy) is told the same, not that five bytes are too many (a 413).
    for (int cap : new int[] {100, 1000}) {
      assertThatThrownBy(() -> body.read(cap)).as("cap %d", cap).isInstanceOf(IOException.class)
          .isNotInstanceOf(BodyTooLargeException.class).hasMessageContaining("connection reset");
    }
  }

  @Test
  void anUncheckedStreamFailureIsRememberedLikeAnIoFailure() {
    // Five bytes, then the container's stream fails unchecked in the middle of a bulk read (the
    // five are lost with it), then it would go on with other bytes.
    InputStream failing = new InputStream() {
      int served;

      @Override
      public int read() {
        served++;
        if (served == 6) {
          throw new IllegalStateException("bad chunk");
        }
        return served < 6 ? 'a' : served < 9 ? 'b' : -1;
      }
    };
    CappedBody body = new CappedBody(() -> failing);

    assertThatThrownBy(() -> body.read(100)).isInstanceOf(IOException.class)
        .hasRootCauseInstanceOf(IllegalStateException.class);
    // A later reader is told the same: neither "too large" (a 413) nor, with a larger cap, the
    // bytes after the failure as if they were the whole body.
    for (int cap : new int[] {100, 1000}) {
      assertThatThrownBy(() -> body.read(cap)).as("cap %d", cap).isInstanceOf(IOException.class)
          .isNotInstanceOf(BodyTooLargeException.class).hasRootCauseInstanceOf(IllegalStateException.class);
    }
    assertThat(body.complete()).isFalse();
  }

  /**
   * A stream of {@code body} whose bulk read returns 0 (a broken container stream) while its
   * one-byte read blocks and serves the body as it should; it stops the test, rather than spin for
   * ever, after {@code 1,000} zero reads.
   */
  private static InputStream returningZero(byte[] body) {
    return new InputStream() {
      int at;
      int zeros;

      @Override
      public int read() {
        return at < body.length ? body[at++] & 0xFF : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (++zeros > 1_000) {
          throw new IOException("spun on 1,000 zero reads");
        }
        return 0;
      }
    };
  }

  @Test
  void aStreamWhoseBulkReadReturnsZeroIsReadByteByByteInsteadOfSpinning() throws IOException {
    byte[] bytes = "{\"pixels\":[1,2,3]}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    CappedBody body = new CappedBody(() -> returningZero(bytes));
    assertThat(body.read(bytes.length)).isEqualTo(bytes);
    assertThat(body.complete()).isTrue();

    CappedBody tooLarge = new CappedBody(() -> returningZero(bytes));
    assertThatThrownBy(() -> tooLarge.read(bytes.length - 1)).isInstanceOf(BodyTooLargeException.class);
    assertThat(tooLarge.bytesRead()).hasSize(bytes.length);
  }

  @Test
  void discardingTheRestOfAStreamWhoseBulkReadReturnsZeroEnds() {
    CappedBody body = new CappedBody(() -> returningZero(new byte[100]));
    assertThat(body.discardRest(100)).as("read to its end").isTrue();
  }

  @Test
  void aStreamClaimingMoreBytesThanItWasAskedForFailsInsteadOfPaddingTheBody() {
    // Counted as read, the bytes it never wrote (zeros) became part of a "complete" body.
    InputStream lying = new InputStream() {
      boolean lied;

      @Override
      public int read() {
        return -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (lied) {
          return -1;
        }
        lied = true;
        b[off] = 'x';
        return len + 5;
      }
    };
    CappedBody body = new CappedBody(() -> lying);
    assertThatThrownBy(() -> body.read(100_000)).isInstanceOf(IOException.class)
        .isNotInstanceOf(BodyTooLargeException.class);
    assertThatThrownBy(() -> body.read(100_000)).as("remembered").isInstanceOf(IOException.class)
        .isNotInstanceOf(BodyTooLargeException.class);
  }
}
