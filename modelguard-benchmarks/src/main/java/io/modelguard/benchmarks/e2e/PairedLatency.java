package io.modelguard.benchmarks.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One-connection latency of two servers measured side by side, for the "p99 added" of the
 * end-to-end benchmark ({@code e2e.sh}): one keep-alive connection to each, one request at a
 * time, alternating between them (A then B, then B then A, ...), each pair sending the same body
 * and credential. On a shared virtual machine the stalls that make up a one-connection p99 (the
 * machine's scheduling, not the servers) drift over minutes, so two runs one after the other can
 * differ by more than the guard costs; interleaved, both servers meet the same stalls, and the
 * difference of their percentiles is the servers' own.
 *
 * <p>Prints one line: {@code PAIRED_RESULT requests=N a_p50_us= a_p99_us= a_p999_us= b_p50_us=
 * b_p99_us= b_p999_us= p99_added_us= a_non2xx= b_non2xx=} (requests counted per server; "added" is
 * B's p99 less A's).
 *
 * <p>Run with the JDK alone: {@code java PairedLatency.java DIR CREDENTIALS HEADER PREFIX
 * WARMUP_SECONDS SECONDS URL_A URL_B}, where DIR holds {@code bodies.txt} and the CREDENTIALS file
 * (one a line, as {@link E2eSetup} writes them), HEADER is the credential's header ({@code
 * X-API-Key}) and PREFIX what precedes it ({@code ""} or {@code "Bearer "}); the URLs are the
 * servers' predict URLs, such as {@code http://127.0.0.1:8080/v1/models/digits/predict}. The
 * first WARMUP_SECONDS of pairs (this client's own JIT warm-up) are not counted.
 */
public final class PairedLatency {
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private PairedLatency() {}

  /** {@code DIR CREDENTIALS HEADER PREFIX WARMUP_SECONDS SECONDS URL_A URL_B}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 8) {
      throw new IllegalArgumentException(
          "usage: PairedLatency DIR CREDENTIALS HEADER PREFIX WARMUP_SECONDS SECONDS URL_A URL_B");
    }
    Path dir = Path.of(args[0]);
    Load load = new Load(lines(dir.resolve("bodies.txt")), lines(dir.resolve(args[1])), args[2], args[3]);
    Duration warmUp = Duration.ofSeconds(Long.parseLong(args[4]));
    Duration duration = Duration.ofSeconds(Long.parseLong(args[5]));
    System.out.println(run(load, warmUp, duration, URI.create(args[6]), URI.create(args[7])).line());
  }

  private static List<String> lines(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    if (lines.isEmpty()) {
      throw new IllegalArgumentException(file + " is empty");
    }
    return lines;
  }

  /**
   * What the requests carry: request {@code i} sends body {@code i mod bodies} with credential
   * {@code i mod credentials} in {@code header}, after {@code prefix}.
   */
  record Load(List<String> bodies, List<String> credentials, String header, String prefix) {
    String body(long i) {
      return bodies.get((int) (i % bodies.size()));
    }

    String credential(long i) {
      return prefix + credentials.get((int) (i % credentials.size()));
    }
  }

  /**
   * Sends alternating requests to {@code a} and {@code b}, uncounted for {@code warmUp}, then
   * counted for {@code duration}.
   */
  static Result run(Load load, Duration warmUp, Duration duration, URI a, URI b) throws IOException {
    try (Connection first = new Connection(a); Connection second = new Connection(b)) {
      long measured = System.nanoTime() + warmUp.toNanos();
      long next = pairs(load, first, second, 0, measured, new Latencies(), new Latencies());
      Latencies la = new Latencies();
      Latencies lb = new Latencies();
      pairs(load, first, second, next, measured + duration.toNanos(), la, lb);
      return new Result(la, lb);
    }
  }

  /**
   * Sends pairs from pair {@code from} until {@code end} ({@link System#nanoTime}), the first of
   * each even pair to {@code first}; returns the next pair's number.
   */
  private static long pairs(
      Load load, Connection first, Connection second, long from, long end, Latencies la, Latencies lb)
      throws IOException {
    long i = from;
    for (; System.nanoTime() < end; i++) {
      String body = load.body(i);
      String credential = load.credential(i);
      if ((i & 1) == 0) {
        la.add(first.exchange(load.header(), credential, body));
        lb.add(second.exchange(load.header(), credential, body));
      } else {
        lb.add(second.exchange(load.header(), credential, body));
        la.add(first.exchange(load.header(), credential, body));
      }
    }
    return i;
  }

  /** The two servers' latencies. */
  record Result(Latencies a, Latencies b) {
    String line() {
      return String.format(Locale.ROOT,
          "PAIRED_RESULT requests=%d a_p50_us=%d a_p99_us=%d a_p999_us=%d b_p50_us=%d b_p99_us=%d b_p999_us=%d"
              + " p99_added_us=%d a_non2xx=%d b_non2xx=%d",
          a.count(), a.percentileMicros(50), a.percentileMicros(99), a.percentileMicros(99.9),
          b.percentileMicros(50), b.percentileMicros(99), b.percentileMicros(99.9),
          b.percentileMicros(99) - a.percentileMicros(99), a.non2xx(), b.non2xx());
    }
  }

  /** Latencies in nanoseconds, and how many answers were not 2xx. */
  static final class Latencies {
    private long[] nanos = new long[1 << 16];
    private int count;
    private int non2xx;
    /** Whether {@code nanos[0, count)} is in order: sorted once, by the first percentile asked for. */
    private boolean sorted = true;

    void add(Exchange exchange) {
      if (count == nanos.length) {
        nanos = Arrays.copyOf(nanos, count * 2);
      }
      nanos[count++] = exchange.nanos();
      sorted = false;
      if (exchange.status() / 100 != 2) {
        non2xx++;
      }
    }

    int count() {
      return count;
    }

    int non2xx() {
      return non2xx;
    }

    /** The nearest-rank percentile, in whole microseconds; 0 without samples. */
    long percentileMicros(double percentile) {
      if (count == 0) {
        return 0;
      }
      if (!sorted) {
        Arrays.sort(nanos, 0, count);
        sorted = true;
      }
      int rank = (int) Math.ceil(percentile / 100 * count);
      return nanos[Math.max(rank, 1) - 1] / 1_000;
    }
  }

  /** One request's status and time from its first byte sent to its last byte received. */
  record Exchange(int status, long nanos) {}

  /**
   * One keep-alive HTTP/1.1 connection sending POSTs to one URL. A response that ends the
   * connection ({@code Connection: close}, as a server may answer a refusal) is read whole and
   * counted like any other; the next request opens a new connection.
   */
  static final class Connection implements Closeable {
    private final URI url;
    private final String head;
    private Socket socket;
    private OutputStream out;
    private InputStream in;

    Connection(URI url) throws IOException {
      if (!"http".equals(url.getScheme()) || url.getPort() < 0) {
        throw new IllegalArgumentException("an http URL with a port is needed, got " + url);
      }
      this.url = url;
      head = "POST " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort()
          + "\r\nContent-Type: application/json\r\n";
      open();
    }

    private void open() throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5_000);
      socket.setSoTimeout(30_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    }

    Exchange exchange(String header, String credential, String body) throws IOException {
      if (socket == null) {
        open();
      }
      byte[] content = body.getBytes(StandardCharsets.UTF_8);
      byte[] request = (head + header + ": " + credential + "\r\nContent-Length: " + content.length + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8);
      long start = System.nanoTime();
      out.write(request);
      out.flush();
      int status = readResponse();
      return new Exchange(status, System.nanoTime() - start);
    }

    /** Reads one whole response (Content-Length or chunked); returns its status. */
    private int readResponse() throws IOException {
      String statusLine = line();
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP/1.x status line: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      long length = -1;
      boolean chunked = false;
      boolean closing = false;
      for (String line = line(); !line.isEmpty(); line = line()) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          throw new IOException("malformed header line: " + line);
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          length = Long.parseLong(value);
        } else if (name.equals("transfer-encoding")) {
          chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        } else if (name.equals("connection")) {
          for (String token : value.split(",")) {
            closing |= token.strip().equalsIgnoreCase("close");
          }
        }
      }
      if (chunked) {
        for (long size = chunkSize(); size > 0; size = chunkSize()) {
          skip(size);
          expectEmptyLine();
        }
        for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
          // trailers are read and ignored
        }
      } else if (length >= 0) {
        skip(length);
      } else {
        throw new IOException("a response without Content-Length or chunked coding (status " + status + ")");
      }
      if (closing) {
        close();
      }
      return status;
    }

    /** Reads a chunk-size line (hexadecimal, any extensions after ';' ignored). */
    private long chunkSize() throws IOException {
      return Long.parseLong(line().split(";", 2)[0].trim(), 16);
    }

    private void expectEmptyLine() throws IOException {
      String rest = line();
      if (!rest.isEmpty()) {
        throw new IOException("a chunk did not end with CRLF");
      }
    }

    private void skip(long n) throws IOException {
      long left = n;
      while (left > 0) {
        long skipped = in.skip(left);
        if (skipped <= 0) {
          if (in.read() < 0) {
            throw new EOFException("the connection ended inside a body");
          }
          skipped = 1;
        }
        left -= skipped;
      }
    }

    /** A line without its CRLF, in ISO-8859-1. */
    private String line() throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new EOFException("the connection ended inside a response head");
        }
        if (bytes.size() == MAX_HEADER_BYTES) {
          throw new IOException("a response head line longer than " + MAX_HEADER_BYTES + " bytes");
        }
        bytes.write(c);
      }
      byte[] b = bytes.toByteArray();
      int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
      return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
      if (socket != null) {
        socket.close();
        socket = null;
      }
    }
  }
}
