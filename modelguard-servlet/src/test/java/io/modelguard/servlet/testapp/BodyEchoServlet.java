package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Echoes the request body, read through {@code getInputStream()} or {@code getReader()}, and
 * reports in {@code X-Other-Body-Accessor} whether the other accessor was then refused, as the
 * Servlet specification requires. Subclasses carry the annotation.
 */
public abstract class BodyEchoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final boolean useReader;

  /** An echo that reads with {@code getReader()} if {@code useReader}, else {@code getInputStream()}. */
  protected BodyEchoServlet(boolean useReader) {
    this.useReader = useReader;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (useReader) {
      StringBuilder text = new StringBuilder();
      BufferedReader reader = request.getReader();
      char[] buffer = new char[4096];
      for (int n; (n = reader.read(buffer)) >= 0; ) {
        text.append(buffer, 0, n);
      }
      response.setHeader("X-Other-Body-Accessor", refused(() -> request.getInputStream()));
      response.setContentType("text/plain");
      response.setCharacterEncoding("UTF-8");
      PrintWriter writer = response.getWriter();
      writer.print(text);
    } else {
      byte[] body = request.getInputStream().readAllBytes();
      response.setHeader("X-Other-Body-Accessor", refused(() -> request.getReader()));
      response.setContentType("application/octet-stream");
      response.getOutputStream().write(body);
    }
  }

  private interface Accessor {
    Object open() throws IOException;
  }

  private static String refused(Accessor accessor) throws IOException {
    try {
      accessor.open();
      return "allowed";
    } catch (IllegalStateException e) {
      return "refused";
    }
  }
}
