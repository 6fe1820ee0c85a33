package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stop (SIGTERM) that comes while the demo starts: whatever has started is closed before the log
 * is stopped, also when the stop comes just as the banner says the demo is up, before the main
 * method has the app in hand. The demo runs in process through its main method's body ({@link
 * ModelServingApp#run(String[], Map, PrintStream, PrintStream, ModelServingApp.Endpoints,
 * DemoShutdown)}); the hook ({@link DemoShutdown#run}) runs when a test's trigger fires, with a
 * stand-in for stopping the log that records whether the demo's port still took connections then.
 */
class ShutdownDuringStartUpTest {
  private final CompletableFuture<Boolean> servingWhenLogStopped = new CompletableFuture<>();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private volatile int port;
  private Thread demoMain;
  private final DemoShutdown shutdown =
      new DemoShutdown(Duration.ofMinutes(5), () -> servingWhenLogStopped.complete(accepts(port)));

  @Test
  void aStopJustAfterTheBannerClosesTheServerBeforeTheLogIsStopped() throws Exception {
    // The hook runs to its end while the banner is being printed, as a signal arriving then would.
    startDemo(site -> {}, line -> {
      if (line.contains("ModelGuard demo listening on")) {
        runHook().join();
      }
    });

    assertThat(servingWhenLogStopped.get(120, TimeUnit.SECONDS)).as("the server still listening").isFalse();
    assertThat(exit.get(60, TimeUnit.SECONDS)).as("the main method's exit code").isZero();
  }

  @Test
  void aStopWhileTheServerIsBeingSetUpClosesItBeforeTheLogIsStopped() throws Exception {
    // The port is bound, the server not started yet; the hook runs alongside the rest of start-up.
    startDemo(site -> runHook(), line -> {});

    assertThat(servingWhenLogStopped.get(120, TimeUnit.SECONDS)).as("the server still listening").isFalse();
    assertThat(exit.get(60, TimeUnit.SECONDS)).as("the main method's exit code").isZero();
  }

  /** Runs the demo's main method's body on a thread of its own, firing the triggers as it starts. */
  private void startDemo(Consumer<ModelServingApp.Site> onContext, Consumer<String> onBannerLine) {
    ModelServingApp.Endpoints endpoints = site -> {
      port = URI.create(site.issuer().orElseThrow().issuer()).getPort();
      onContext.accept(site);
      return ModelServingApp.SERVLETS.context(site);
    };
    PrintStream banner = new PrintStream(new LineStream(onBannerLine), true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    Thread main = new Thread(() -> {
      try {
        exit.complete(ModelServingApp.run(new String[] {"--port", "0"}, Map.of(), banner, err, endpoints, shutdown));
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      }
    }, "demo-main");
    main.start();
    demoMain = main;
  }

  /** A main method still serving (its app never closed) is interrupted, which closes the app. */
  @AfterEach
  void stopTheDemo() throws InterruptedException {
    if (demoMain != null) {
      demoMain.interrupt();
      demoMain.join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  private CompletableFuture<Void> runHook() {
    return CompletableFuture.runAsync(shutdown::run, r -> new Thread(r, "demo-shutdown").start());
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Hands each complete line written to it to {@code onLine}, on the writing thread. */
  private static final class LineStream extends OutputStream {
    private final Consumer<String> onLine;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineStream(Consumer<String> onLine) {
      this.onLine = onLine;
    }

    @Override
    public void write(int b) {
      if (b == '\n') {
        onLine.accept(line.toString(StandardCharsets.UTF_8));
        line.reset();
      } else {
        line.write(b);
      }
    }
  }
}
