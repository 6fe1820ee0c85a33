package io.modelguard.servlet.testapp;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Echoes the request body read with non-blocking I/O (a {@link ReadListener}). Subclasses carry
 * the annotation.
 */
public abstract class NonBlockingEchoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final boolean throughTheAsyncContext;

  /** Starts with {@code startAsync(request, response)} and reads the request it was given. */
  protected NonBlockingEchoServlet() {
    this(false);
  }

  /**
   * With {@code throughTheAsyncContext}, starts with {@code startAsync()} and reads and writes
   * through the asynchronous context's request and response, as many servlets do.
   */
  protected NonBlockingEchoServlet(boolean throughTheAsyncContext) {
    this.throughTheAsyncContext = throughTheAsyncContext;
  }

  @Override
  protected void doPost(HttpServletRequest req, HttpServletResponse res) throws IOException {
    AsyncContext async = throughTheAsyncContext ? req.startAsync() : req.startAsync(req, res);
    ServletInputStream in = (throughTheAsyncContext ? async.getRequest() : req).getInputStream();
    HttpServletResponse response = throughTheAsyncContext ? (HttpServletResponse) async.getResponse() : res;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    in.setReadListener(new ReadListener() {
      @Override
      public void onDataAvailable() throws IOException {
        byte[] buffer = new byte[4096];
        int n;
        while (in.isReady() && (n = in.read(buffer)) >= 0) {
          body.write(buffer, 0, n);
        }
      }

      @Override
      public void onAllDataRead() throws IOException {
        response.setContentType("application/octet-stream");
        response.getOutputStream().write(body.toByteArray());
        async.complete();
      }

      @Override
      public void onError(Throwable t) {
        response.setStatus(500);
        async.complete();
      }
    });
  }
}
