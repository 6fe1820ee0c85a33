package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code late-body}, whose only policy reads the request body in the response phase: a model
 * that reads its query up to the first line break and leaves the rest of the body unread, as a
 * streaming parser stops after the first JSON value, or reads all of it. Answers {@code model saw
 * <what it read>}.
 */
@ModelSecured(model = "digits", chain = "late-body")
public class FirstLineServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final boolean wholeBody;

  /** A model that reads the first line of the body, or with {@code wholeBody} all of it. */
  public FirstLineServlet(boolean wholeBody) {
    this.wholeBody = wholeBody;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    ServletInputStream in = request.getInputStream();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) >= 0 && (wholeBody || b != '\n'); ) {
      line.write(b);
    }
    response.setContentType("text/plain;charset=UTF-8");
    response.getOutputStream().write(("model saw " + line.toString(StandardCharsets.UTF_8))
        .getBytes(StandardCharsets.UTF_8));
  }
}
