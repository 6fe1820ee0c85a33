package io.modelguard.input;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test class path in a fresh JVM with extra JVM options: for settings the
 * JDK reads once at start-up ({@code -Djdk.net.hosts.file}, {@code -Xint}). Public for the tests
 * of other packages.
 */
public final class ForkedJvm {
  private ForkedJvm() {}

  /** The exit code and everything the JVM printed. */
  public record Result(int exitCode, String output) {}

  /** Runs {@code main} with {@code args} in a JVM started with {@code jvmOptions}; waits up to two minutes. */
  public static Result run(List<String> jvmOptions, Class<?> main, String... args) throws IOException, InterruptedException {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    // Surefire runs tests from a manifest-only jar; it publishes the real class path here.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classPath);
    command.add(main.getName());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("forked JVM did not finish");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
