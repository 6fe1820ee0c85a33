package io.modelguard.input;

import io.modelguard.CappedBody;
import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link InferenceRequest} over any body stream, counting the bytes read from it, and carrying
 * {@link RequestAttributes} the way a servlet request does.
 */
final class TestRequest implements InferenceRequest, RequestAttributes {
  private final Endpoint endpoint;
  private final Map<String, String> headers = new HashMap<>();
  private final Map<String, Object> attributes = new HashMap<>();
  private final CountingStream stream;
  private final CappedBody body;
  private String remoteAddress = "127.0.0.1";

  TestRequest(String model, String contentType, InputStream body) {
    this.endpoint = Endpoint.of(model, "default", 1);
    if (contentType != null) {
      headers.put("content-type", contentType);
    }
    this.stream = new CountingStream(body);
    this.body = new CappedBody(() -> stream);
  }

  static TestRequest json(String model, String json) {
    return new TestRequest(model, "application/json", new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
  }

  static TestRequest bytes(String model, String contentType, byte[] body) {
    return new TestRequest(model, contentType, new ByteArrayInputStream(body));
  }

  TestRequest header(String name, String value) {
    headers.put(name.toLowerCase(Locale.ROOT), value);
    return this;
  }

  /** The client's address, instead of {@code 127.0.0.1}. */
  TestRequest remoteAddress(String address) {
    this.remoteAddress = address;
    return this;
  }

  /** Bytes consumed from the body stream so far. */
  long bytesRead() {
    return stream.count.get();
  }

  @Override
  public String method() {
    return "POST";
  }

  @Override
  public String path() {
    return "/v1/models/" + endpoint.model().orElse("-") + "/predict";
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }

  @Override
  public List<String> headers(String name) {
    return header(name).map(List::of).orElse(List.of());
  }

  @Override
  public Optional<String> remoteAddress() {
    return Optional.of(remoteAddress);
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public byte[] body(int maxBytes) throws IOException {
    return body.read(maxBytes);
  }

  @Override
  public void setAttribute(String name, Object value) {
    attributes.put(name, value);
  }

  @Override
  public Optional<Object> attribute(String name) {
    return Optional.ofNullable(attributes.get(name));
  }

  /** Counts what is read through it. */
  static final class CountingStream extends InputStream {
    final AtomicLong count;
    private final InputStream in;

    CountingStream(InputStream in) {
      this(in, new AtomicLong());
    }

    /** Adds to {@code count}, which several streams may share (one per connection, say). */
    CountingStream(InputStream in, AtomicLong count) {
      this.in = in;
      this.count = count;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count.addAndGet(n);
      }
      return n;
    }
  }

  /** An endless-looking stream of {@code size} bytes of {@code fill}, generated on the fly (never held in memory). */
  static InputStream generated(long size, byte[] prefix, byte fill, byte[] suffix) {
    return new InputStream() {
      private long pos;

      @Override
      public int read() {
        long total = prefix.length + size + suffix.length;
        if (pos >= total) {
          return -1;
        }
        long i = pos++;
        if (i < prefix.length) {
          return prefix[(int) i] & 0xff;
        }
        if (i < prefix.length + size) {
          return fill & 0xff;
        }
        return suffix[(int) (i - prefix.length - size)] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        int n = 0;
        while (n < len) {
          int c = read();
          if (c < 0) {
            return n == 0 ? -1 : n;
          }
          b[off + n++] = (byte) c;
        }
        return n;
      }
    };
  }
}
