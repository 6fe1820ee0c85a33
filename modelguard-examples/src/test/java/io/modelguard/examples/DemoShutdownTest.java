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
 * first, and the log is stopped whatever the close does, also when it never returns; run while
 * start-up is under way, the hook waits for start-up to hand over the app (or end), within the
 * same bound.
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

  @Test
  void closesAnAppHandedOverAfterTheHookBeganThenStopsTheLog() throws Exception {
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMinutes(10), () -> done.add("log stopped"));
    Thread hook = new Thread(shutdown::run, "hook");
    hook.start();

    // Whether the hook is already waiting or not yet running, the app is closed before the log.
    shutdown.closeAtExit(() -> done.add("app closed"));
    hook.join();

    assertThat(done).containsExactly("app closed", "log stopped");
  }

  @Test
  void stopsTheLogAtOnceWhenStartUpEndedWithoutAnApp() {
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMinutes(10), () -> done.add("log stopped"));
    shutdown.startUpEnded();

    // Far below the 10 min bound: only a hook that waits for an app after start-up ended takes that long.
    assertTimeoutPreemptively(Duration.ofSeconds(60), shutdown::run, "the hook waited for an app");

    assertThat(done).containsExactly("log stopped");
  }

  @Test
  void stopsTheLogAfterTheBoundWhenStartUpNeverEndsAndThenTellsStartUpNotToAnnounce() {
    DemoShutdown shutdown = new DemoShutdown(Duration.ofMillis(50), () -> done.add("log stopped"));

    assertTimeoutPreemptively(Duration.ofSeconds(60), shutdown::run, "the hook waited for start-up");

    assertThat(done).containsExactly("log stopped");
    assertThat(shutdown.closeAtExit(() -> done.add("app closed"))).as("announce the app").isFalse();
  }

  @Test
  void tellsStartUpToAnnounceTheAppWhileNotStopping() {
    assertThat(DemoShutdown.none().closeAtExit(() -> done.add("app closed"))).as("announce the app").isTrue();
    assertThat(done).isEmpty();
  }
}
