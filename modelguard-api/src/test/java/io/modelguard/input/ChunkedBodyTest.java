package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Chunked response bodies, served raw from a loopback socket: a body cut into many small chunks is
 * fetched intact, with a bounded number of buffer copies and without its chunk framing counting as
 * one oversized header; per-line and trailer caps still hold.
 */
class ChunkedBodyTest {
  private final FakeResolver resolver = new FakeResolver();

  /** PNG magic bytes (so the default format check passes) followed by seeded pseudo-random bytes. */
  private static byte[] body(int length) {
    byte[] b = new byte[length];
    new Random(42).nextBytes(b);
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    System.arraycopy(png, 0, b, 0, png.length);
    return b;
  }

  /** A 200 response carrying {@code body} in chunks of {@code chunk} bytes, then {@code trailers}. */
  private static byte[] chunked(byte[] body, int chunk, String trailers) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length * 2);
    out.writeBytes("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII));
    for (int off = 0; off < body.length; off += chunk) {
      int n = Math.min(chunk, body.length - off);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, off, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes(("0\r\n" + trailers + "\r\n").getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private FetchResult fetch(byte[] response, int maxBytes) throws IOException {
    try (RawHttpServer server = new RawHttpServer(response, 0, 0)) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).maxBytes(maxBytes)
          .allowInternalEndpoint("127.0.0.1", server.port()).build();
      return f.fetch("http://127.0.0.1:" + server.port() + "/a.png");
    }
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  @Test
  void aBodyInManySmallChunksIsCopiedAFewTimesNotOncePerChunk() throws IOException {
    // 1 MiB in 2,048 chunks of 512 bytes: re-copying the whole body per chunk allocated ~1 GB.
    byte[] body = body(1 << 20);
    byte[] response = chunked(body, 512, "");
    fetch(response, 5 << 20); // warm up class loading and the server thread, outside the measurement

    long before = allocatedByThisThread();
    FetchResult r = fetch(response, 5 << 20);
    long allocated = allocatedByThisThread() - before;

    assertThat(r.body()).hasValueSatisfying(b -> assertThat(b).isEqualTo(body));
    assertThat(allocated).as("bytes allocated by the fetching thread").isLessThan(32L << 20);
  }

  @Test
  void theGrowthPolicyDoublesUpToTheCapSoAppendsCopyLinearly() {
    int cap = 5 << 20;
    int length = 64 * 1024;
    int total = 0;
    int growths = 0;
    long copied = 0;
    // 5 MiB − 7,000 bytes, then 6,000 one-byte chunks, as an upstream may send them.
    for (int append = 0; append <= 6_000; append++) {
      int n = append == 0 ? cap - 7_000 : 1;
      while (total + n > length) {
        int grown = HttpExchange.grownCapacity(length, cap);
        assertThat(grown).isGreaterThan(length).isLessThanOrEqualTo(cap);
        copied += length;
        length = grown;
        growths++;
      }
      total += n;
    }

    assertThat(growths).isLessThanOrEqualTo(7); // 64 KiB doubled to 5 MiB
    assertThat(copied).isLessThan(2L * cap);
    assertThat(HttpExchange.grownCapacity(cap - 1, cap)).isEqualTo(cap);
  }

  @Test
  void aHundredKilobyteBodyInSixteenByteChunksIsNotMistakenForAHeaderFlood() throws IOException {
    // 6,400 chunks: their size lines and CRLFs add 38 KB of framing, more than one header's cap.
    byte[] body = body(100_000);

    FetchResult r = fetch(chunked(body, 16, "X-Trailer: y\r\n"), 5 << 20);

    assertThat(r.failure()).isEmpty();
    assertThat(r.body()).hasValueSatisfying(b -> assertThat(b).isEqualTo(body));
  }

  @Test
  void anOverlongChunkSizeLineIsRefused() throws IOException {
    String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    byte[] response = (head + "1;ext=" + "e".repeat(HttpExchange.MAX_HEADER_LINE) + "\r\nx\r\n0\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);

    assertThat(fetch(response, 5 << 20).failure()).contains(FetchFailure.BAD_RESPONSE);
  }

  @Test
  void trailersAreCappedAsAWhole() throws IOException {
    StringBuilder trailers = new StringBuilder();
    for (int i = 0; i < 2_000; i++) {
      trailers.append("X-Trailer-").append(i).append(": ").append("y".repeat(20)).append("\r\n");
    }

    FetchResult r = fetch(chunked(body(1000), 100, trailers.toString()), 5 << 20);

    assertThat(r.failure()).contains(FetchFailure.BAD_RESPONSE);
  }
}
