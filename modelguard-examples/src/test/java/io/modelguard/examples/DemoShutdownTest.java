package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The demo's shutdown hook, run in process with a stand-in for stopping the log: the app is closed
 * first, and the log is stopped whatever the close does, also when it never returns.
 */
class DemoShutdownTest {
  private final List<String> done = new CopyOnWriteArrayList<>();

  @Test
  void closesTheAppThenStopsTheLog() {
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMinutes(1), () -> done.add("log stopped"));
    shutdown.closeAtExit(() -> done.add("app closed"));

    shutdown.run();

    assertThat(done).containsExactly("app closed", "log stopped");
  }

  @Test
  void stopsTheLogWhenClosingTheAppFails() {
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMinutes(1), () -> done.add("log stopped"));
    shutdown.closeAtExit(() -> {
      throw new IllegalStateException("cannot close");
    });

    shutdown.run();

    assertThat(done).containsExactly("log stopped");
  }

  @Test
  void stopsTheLogAfterTheBoundWhenClosingTheAppNeverReturns() {
    CountDownLatch never = new CountDownLatch(1);
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMillis(50), () -> done.add("log stopped"));
    shutdown.closeAtExit(() -> {
      done.add("closing");
      never.await();
    });
    try {
      // Far above the 50 ms bound: only a hook that waits for the close for ever takes this long.
      assertTimeoutPreemptively(Duration.ofSeconds(60), shutdown::run, "the hook waited for the close");

      assertThat(done).endsWith("log stopped");
    } finally {
      never.countDown();
    }
  }
}
