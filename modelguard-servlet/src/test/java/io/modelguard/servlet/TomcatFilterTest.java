package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.servlet.testapp.TomcatRuntime;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.ServletException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** {@link FilterBehaviourContract} on Tomcat 11. */
class TomcatFilterTest extends FilterBehaviourContract {
  private final TomcatRuntime runtime = new TomcatRuntime();

  @Override
  ServletRuntime runtime() {
    return runtime;
  }

  @Override
  boolean servlet61() {
    return true;
  }

  @Test
  @Override
  void unknownChainInAnAnnotationFailsStartUp() throws Exception {
    // Tomcat keeps running but logs the filter's exception and fails the context.
    List<LogRecord> severe = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
          severe.add(record);
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger catalina = Logger.getLogger("org.apache.catalina");
    catalina.addHandler(capture);
    try (Deployment deployment = deployWithUnknownChain()) {
      assertThat(runtime.lastContext().getState().isAvailable()).isFalse();
      assertThat(statusOf(URI.create(deployment.baseUri() + "/open"))).isEqualTo(404);
    } finally {
      catalina.removeHandler(capture);
    }
    assertThat(severe)
        .filteredOn(r -> r.getThrown() instanceof ServletException)
        .singleElement()
        .satisfies(r -> assertThat(r.getThrown())
            .hasMessageContaining("servlet 'UnknownChainServlet'")
            .hasMessageContaining("No ModelGuard chain named 'no-such-chain'"));
    assertThat(severe).anySatisfy(r -> assertThat(r.getMessage()).contains("/app"));
  }
}
