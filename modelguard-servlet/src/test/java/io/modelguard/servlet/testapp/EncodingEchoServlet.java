package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code body-limit} (a policy reads the whole body first): the common {@code
 * setCharacterEncoding("UTF-8")} then {@code getReader()}, echoing the text it read as UTF-8.
 */
@ModelSecured(model = "digits", chain = "body-limit")
public class EncodingEchoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    request.setCharacterEncoding("UTF-8");
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[256];
    for (int n; (n = request.getReader().read(buffer)) >= 0; ) {
      text.append(buffer, 0, n);
    }
    response.setContentType("text/plain");
    response.getOutputStream().write(text.toString().getBytes(StandardCharsets.UTF_8));
  }
}
