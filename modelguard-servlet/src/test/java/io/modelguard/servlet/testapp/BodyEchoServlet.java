package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Echoes the request body, read through {@code getInputStream()} or {@code getReader()}, and
 * reports in {@code X-Other-Body-Accessor} whether the other accessor was then refused, as the
 * Servlet specification requires. With {@code X-Read: bulk} the stream is read with the bulk
 * methods instead ({@code readNBytes(3)}, {@code skipNBytes(7)}, {@code readNBytes(buffer, 0, 5)},
 * then {@code transferTo}), so the echo is the body less its bytes 3 to 9. Subclasses carry the
 * annotation.
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
    } else if ("bulk".equals(request.getHeader("X-Read"))) {
      ServletInputStream in = request.getInputStream();
      ByteArrayOutputStream echo = new ByteArrayOutputStream();
      echo.write(in.readNBytes(3));
      in.skipNBytes(7);
      byte[] five = new byte[5];
      echo.write(five, 0, in.readNBytes(five, 0, 5));
      in.transferTo(echo);
      response.setContentType("application/octet-stream");
      response.getOutputStream().write(echo.toByteArray());
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
