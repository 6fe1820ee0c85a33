package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Chain {@code rewriting}: answers asynchronously, writing the prediction only once the test
 * releases it, that is after the filter has returned.
 */
@ModelSecured(model = "digits", chain = "rewriting")
public class AsyncServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient CountDownLatch release;

  /** A servlet that writes its answer once {@code release} opens. */
  public AsyncServlet(CountDownLatch release) {
    this.release = release;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) {
    AsyncContext async = request.startAsync(request, response);
    async.start(() -> {
      try {
        if (release.await(10, TimeUnit.SECONDS)) {
          response.setContentType("application/json");
          response.getOutputStream().write(ConformanceFixture.predictionBytes("digits"));
        }
      } catch (IOException | RuntimeException e) {
        // The response may already be complete; nothing more to say.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        async.complete();
      }
    });
  }
}
