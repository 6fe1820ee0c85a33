package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.input.FetchedInputs;
import io.modelguard.test.input.FetchedInputsFixture;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chain {@value FetchedInputsFixture#CHAIN}: answers, as text, what it found under {@link
 * FetchedInputs#ATTRIBUTE} ({@link FetchedInputsFixture#describe}) and how many body bytes it could
 * still read after the input policy read them, and counts its calls.
 */
@ModelSecured(model = FetchedInputsFixture.MODEL, chain = FetchedInputsFixture.CHAIN)
public class FetchedImageServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  /** How many requests reached a servlet of this class. */
  public static final AtomicInteger CALLS = new AtomicInteger();

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    CALLS.incrementAndGet();
    String found = FetchedInputsFixture.describe(request.getAttribute(FetchedInputs.ATTRIBUTE));
    int body = request.getInputStream().readAllBytes().length;
    response.setContentType("text/plain");
    response.getOutputStream().write((found + " | body " + body).getBytes(StandardCharsets.UTF_8));
  }
}
