package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@value ConformanceFixture#ECHO}: chain {@code body-limit}, whose policy reads the body first;
 * answers the request body as {@code application/octet-stream}.
 */
@ModelSecured(model = "{model}", chain = "body-limit", path = ConformanceFixture.ECHO)
public class EchoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    byte[] body = request.getInputStream().readAllBytes();
    response.setContentType("application/octet-stream");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
