package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/**
 * Chain {@code peek}: a policy read the start of the body; the servlet starts asynchronous
 * processing with {@code startAsync()} and reads the body from the asynchronous context's request.
 */
@ModelSecured(model = "digits", chain = "peek")
public class PeekAsyncContextEchoServlet extends NonBlockingEchoServlet {
  private static final long serialVersionUID = 1L;

  /** Reads through the asynchronous context. */
  public PeekAsyncContextEchoServlet() {
    super(true);
  }
}
