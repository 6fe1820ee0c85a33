package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A demo main method in a JVM of its own, with the demo's real {@code logback.xml} (the test class
 * path would otherwise pick the tests' {@code logback-test.xml}): its stdout read line by line, its
 * stderr (the log) written to a file. A file, not a pipe: read through a pipe from this JVM, the
 * lines the child wrote in its shutdown hook did not arrive (seen here, cause not pinned down;
 * through a file or a shell pipe they do), and those are the very lines the tests look for. Closing
 * it kills the process if it still runs.
 */
final class DemoProcess implements AutoCloseable {
  /** How long start-up (training the models in a fresh JVM) may take. */
  private static final long START_SECONDS = 120;

  private final Process process;
  private final Path stderr;
  private final List<String> stdout = new ArrayList<>(); // guarded by itself
  private boolean stdoutEnded; // guarded by stdout

  private DemoProcess(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
  }

  /** Starts {@code main} with {@code args}; its stderr goes to a file in {@code dir} named after it. */
  static DemoProcess start(Path dir, Class<?> main, String... args) throws Exception {
    URL config = DemoProcess.class.getClassLoader().getResource("logback.xml");
    assertThat(config).as("the demo's logback.xml on the class path").isNotNull();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Dlogback.configurationFile=" + config,
        "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    Path stderr = dir.resolve(main.getSimpleName() + "-stderr.txt");
    DemoProcess demo = new DemoProcess(new ProcessBuilder(command).redirectError(stderr.toFile()).start(), stderr);
    Thread reader = new Thread(demo::readStdout, main.getSimpleName() + "-stdout");
    reader.setDaemon(true);
    reader.start();
    return demo;
  }

  private void readStdout() {
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        synchronized (stdout) {
          stdout.add(line);
          stdout.notifyAll();
        }
      }
    } catch (Exception e) {
      // The process ended or was killed: what it printed so far is all there is.
    } finally {
      synchronized (stdout) {
        stdoutEnded = true;
        stdout.notifyAll();
      }
    }
  }

  /**
   * The first group of the first stdout line {@code pattern} finds, once the process has printed
   * it; fails if the process ends (or start-up takes minutes) without printing one.
   */
  String awaitStdout(Pattern pattern) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
    synchronized (stdout) {
      for (int seen = 0; ; ) {
        for (; seen < stdout.size(); seen++) {
          Matcher m = pattern.matcher(stdout.get(seen));
          if (m.find()) {
            return m.group(1);
          }
        }
        long left = deadline - System.nanoTime();
        if (stdoutEnded || left <= 0) {
          throw new AssertionError("no stdout line matched " + pattern + (stdoutEnded ? " before the process ended" : "")
              + "; stderr: " + stderrTextQuietly());
        }
        TimeUnit.NANOSECONDS.timedWait(stdout, left);
      }
    }
  }

  /** Sends SIGTERM (as Ctrl-C or a container runtime does) and fails unless the process then exits. */
  void stop() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
  }

  /** Fails unless the process exits on its own (a start-up failure); returns its exit code. */
  int awaitExit() throws InterruptedException {
    assertThat(process.waitFor(START_SECONDS, TimeUnit.SECONDS)).as("exited").isTrue();
    return process.exitValue();
  }

  /** What the process has written to stderr, without the trailing line break. */
  String stderrText() throws Exception {
    return Files.readString(stderr, StandardCharsets.UTF_8).strip();
  }

  private String stderrTextQuietly() {
    try {
      return stderrText();
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
