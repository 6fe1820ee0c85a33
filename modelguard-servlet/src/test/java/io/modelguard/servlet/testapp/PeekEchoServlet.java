package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/**
 * Chain {@code peek}: a policy reads only the first few bytes of a longer body and allows it, so the
 * servlet must get those bytes back followed by the rest of the stream.
 */
@ModelSecured(model = "digits", chain = "peek")
public class PeekEchoServlet extends BodyEchoServlet {
  private static final long serialVersionUID = 1L;

  /** See {@link BodyEchoServlet#BodyEchoServlet(boolean)}. */
  public PeekEchoServlet(boolean useReader) {
    super(useReader);
  }
}
