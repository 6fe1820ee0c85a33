package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code rewriting}: writes through its writer, then asks for UTF-16 with Servlet 6.1's
 * {@code setCharacterEncoding(Charset)} where the container's API has it (else with the {@code
 * String} overload), too late to change what the writer wrote.
 */
@ModelSecured(model = "digits", chain = "rewriting")
public class CharsetAfterWriterServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    PrintWriter writer = response.getWriter();
    try {
      ServletResponse.class.getMethod("setCharacterEncoding", Charset.class).invoke(response, StandardCharsets.UTF_16);
    } catch (ReflectiveOperationException e) {
      response.setCharacterEncoding("UTF-16"); // a Servlet 6.0 API
    }
    writer.print("{\"label\":7,\"name\":\"cafe\"}");
  }
}
