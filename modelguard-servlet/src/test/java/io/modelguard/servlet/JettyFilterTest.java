package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.servlet.testapp.ServletRuntime;
import jakarta.servlet.ServletException;
import org.junit.jupiter.api.Test;

/** {@link FilterBehaviourContract} on Jetty 12 (ee10). */
class JettyFilterTest extends FilterBehaviourContract {
  private final JettyRuntime runtime = new JettyRuntime();

  @Override
  ServletRuntime runtime() {
    return runtime;
  }

  @Override
  boolean servlet61() {
    return false;
  }

  @Test
  @Override
  void unknownChainInAnAnnotationFailsStartUp() {
    Throwable failure = catchThrowable(() -> deployWithUnknownChain().close());

    // Jetty fails Server.start() with the filter's exception and leaves the context unavailable.
    assertThat(failure)
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("servlet 'UnknownChainServlet'")
        .hasMessageContaining("No ModelGuard chain named 'no-such-chain'");
    assertThat(runtime.lastContext().isAvailable()).isFalse();
    assertThat(runtime.lastContext().isStarted()).isFalse();
  }
}
