package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway demo's upstream on the command line ({@code java -cp ... UpstreamServer --port N}),
 * in its own JVM as the README starts it: a bad option or a port in use is exit code 2 and one
 * line on stderr, as for the demo itself, never a stack trace.
 */
class UpstreamServerCommandLineTest {
  @TempDir
  Path dir;

  private record Exit(int code, String stdout, String stderr) {}

  private Exit run(String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        UpstreamServer.class.getName()));
    command.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("UpstreamServer " + args + " did not exit");
    }
    return new Exit(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void aPortThatIsNotANumberExitsTwoWithOneLine() throws Exception {
    for (String[] args : List.of(new String[] {"--port", "abc"}, new String[] {"--port="},
        new String[] {"--port", "70000"})) {
      Exit exit = run(args);

      assertThat(exit.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(exit.stderr()).as(String.join(" ", args)).isEqualTo(
          "modelguard-upstream: --port must be a number from 0 to 65535 (0 = any free port)" + System.lineSeparator());
      assertThat(exit.stdout()).isEmpty();
    }
  }

  @Test
  void aPortInUseExitsTwoWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      Exit exit = run("--port", Integer.toString(taken.getLocalPort()));

      assertThat(exit.code()).isEqualTo(2);
      assertThat(exit.stderr()).startsWith("modelguard-upstream: cannot listen on 127.0.0.1:" + taken.getLocalPort())
          .doesNotContain("\tat ").hasLineCount(1);
      assertThat(exit.stdout()).isEmpty();
    }
  }
}
