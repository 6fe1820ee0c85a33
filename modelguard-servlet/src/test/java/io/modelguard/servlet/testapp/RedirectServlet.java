package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code rewriting}: writes a little, then redirects to {@code /elsewhere}. On Servlet 6.1
 * (Tomcat 11) it uses the new {@code sendRedirect(location, 307, true)}; on 6.0 the classic 302.
 */
@ModelSecured(model = "digits", chain = "rewriting")
public class RedirectServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.getOutputStream().write("partial output".getBytes(StandardCharsets.US_ASCII));
    String location = request.getContextPath() + "/elsewhere";
    Method servlet61;
    try {
      servlet61 = HttpServletResponse.class.getMethod("sendRedirect", String.class, int.class, boolean.class);
    } catch (NoSuchMethodException e) {
      response.sendRedirect(location);
      return;
    }
    try {
      servlet61.invoke(response, location, 307, true);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IOException(e);
    }
  }
}
