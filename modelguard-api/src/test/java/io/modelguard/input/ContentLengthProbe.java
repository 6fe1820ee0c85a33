package io.modelguard.input;

import java.nio.charset.StandardCharsets;

/**
 * Run by {@link ContentLengthLieTest} in a JVM with a 64 MB heap: a server declares a body (or a
 * chunk) of {@code args[0]} bytes, sends 100 and hangs up, and a fetcher whose byte cap is above the
 * declared length fetches it. Prints {@code result=} and the fetch result, or {@code threw=} and what the
 * fetch threw.
 */
public final class ContentLengthProbe {
  private ContentLengthProbe() {}

  /** {@code args[0]}: the declared length; {@code args[1]}: {@code length} or {@code chunked}. */
  public static void main(String[] args) throws Exception {
    long declared = Long.parseLong(args[0]);
    String head0 = args[1].equals("chunked")
        ? "Transfer-Encoding: chunked\r\n\r\n" + Long.toHexString(declared) + "\r\n"
        : "Content-Length: " + declared + "\r\n\r\n";
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n" + head0).getBytes(StandardCharsets.US_ASCII);
    byte[] response = new byte[head.length + 100];
    System.arraycopy(head, 0, response, 0, head.length);
    try (RawHttpServer liar = new RawHttpServer(response, 0, 0)) {
      SafeUrlFetcher fetcher = SafeUrlFetcher.builder().resolver(new FakeResolver()).maxBytes(1 << 30)
          .allowInternalEndpoint("127.0.0.1", liar.port()).build();
      try {
        System.out.println("result=" + fetcher.fetch("http://127.0.0.1:" + liar.port() + "/big.png"));
      } catch (Throwable e) {
        System.out.println("threw=" + e.getClass().getName());
      }
    }
  }
}
