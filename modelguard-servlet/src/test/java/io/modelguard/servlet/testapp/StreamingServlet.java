package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Chain {@code default}: writes {@code first}, flushes, then waits for the test to release it
 * before writing {@code second}. The client sees the first line only if the response streams.
 */
@ModelSecured(model = "digits")
public class StreamingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient CountDownLatch release;

  /** A servlet that waits for {@code release} between its two lines. */
  public StreamingServlet(CountDownLatch release) {
    this.release = release;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("text/plain");
    ServletOutputStream out = response.getOutputStream();
    out.write("first\n".getBytes(StandardCharsets.US_ASCII));
    response.flushBuffer();
    boolean released;
    try {
      released = release.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      released = false;
    }
    out.write((released ? "second\n" : "timed out\n").getBytes(StandardCharsets.US_ASCII));
  }
}
