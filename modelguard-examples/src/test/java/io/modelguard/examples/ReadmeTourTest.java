package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.test.FakeClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's five-minute tour, run: every {@code $ command} of the tour's {@code console} blocks
 * is run with bash (and real curl) against the demo started on a free loopback port, and what it
 * prints must be exactly the output the README shows under it, less the {@code Date} header. So the
 * README is the source of truth: a change to the demo's answers fails this test until the README
 * shows the new answers, and a README edit fails it until the demo gives them.
 *
 * <p>The commands run as written, with {@code localhost:8080} pointed at the test's port and
 * {@code $FREE}, {@code $PRO}, {@code $ENTERPRISE}, {@code $REVOKED} and {@code $EXPIRED} set to
 * the demo keys, as the tour tells the reader to set them. A command without {@code curl} (such as
 * {@code D='...'}) sets a variable: it is run again before every later command. The quota store's
 * clock stands still while a command runs and moves an hour between commands, as a reader's pauses
 * do; so a loop inside one command exhausts a burst exactly as it does when typed.
 *
 * <p>Needs {@code bash} and {@code curl} on the PATH (Debian: {@code apt-get install curl}). With
 * {@code -Dtour.record=true} the test also writes what the demo printed, in the README's form, to
 * {@code target/tour-actual.md}, for updating the README after a deliberate change.
 */
class ReadmeTourTest {
  private static final Path README = Path.of("..", "README.md");
  private static final String SECTION = "## A five-minute tour";

  /** One command of the tour and the output the README shows for it. */
  record Step(String command, String expected) {}

  @Test
  void theToursCommandsPrintExactlyWhatTheReadmeShows() throws Exception {
    List<Step> steps = steps(Files.readString(README, StandardCharsets.UTF_8));
    assertThat(steps).as("commands in the README's tour").hasSizeGreaterThanOrEqualTo(10);
    assertThat(new ProcessBuilder("curl", "--version").start().waitFor())
        .as("curl must be installed (Debian: apt-get install curl)").isZero();

    FakeClock quotaClock = FakeClock.standard();
    StringBuilder transcript = new StringBuilder();
    List<String> mismatches = new ArrayList<>();
    try (ModelServingApp app = ModelServingApp.start(
        AppOptions.defaults().withPort(0).withQuotaClock(quotaClock).withAuditLog(false),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      Map<String, String> env = new LinkedHashMap<>();
      for (String label : List.of("free", "pro", "enterprise", "revoked", "expired")) {
        env.put(label.toUpperCase(java.util.Locale.ROOT), app.key(label).orElseThrow().plaintext());
      }
      StringBuilder assignments = new StringBuilder();
      for (Step step : steps) {
        String command = step.command().replace("localhost:8080", "127.0.0.1:" + app.port());
        if (!command.contains("curl")) {
          assignments.append(command).append('\n');
          transcript.append("$ ").append(step.command()).append("\n\n");
          continue;
        }
        quotaClock.advance(Duration.ofHours(1));
        String actual = run(assignments + command, env);
        transcript.append("$ ").append(step.command()).append('\n').append(actual).append("\n\n");
        if (!actual.equals(step.expected())) {
          mismatches.add("$ " + step.command() + "\n--- README shows:\n" + step.expected() + "\n--- the demo printed:\n"
              + actual + "\n");
        }
      }
    }
    if (Boolean.getBoolean("tour.record")) {
      Files.writeString(Path.of("target", "tour-actual.md"), transcript, StandardCharsets.UTF_8);
    }
    assertThat(mismatches).as("commands whose output differs from the README").isEmpty();
    assertThat(String.join("\n", steps.stream().map(Step::expected).toList()))
        .as("the tour shows these answers")
        .contains("HTTP/1.1 401", "HTTP/1.1 403", "HTTP/1.1 413", "HTTP/1.1 422", "HTTP/1.1 429",
            "\"model\":\"digits\",\"label\"", "\"model\":\"sentiment\",\"label\"");
  }

  @Test
  void readsEachCommandWithTheLinesUpToTheNextOneAndOnlyFromTheToursConsoleBlocks() {
    String readme = String.join("\n",
        "# Title", "```console", "$ curl -s ignored", "not the tour", "```",
        SECTION, "text", "```console", "$ X='1'", "", "$ curl -s localhost:8080/a \\", "    -H 'A: b'",
        "HTTP/1.1 200 OK", "", "{}", "", "```", "```sh", "$ curl not a console block", "```",
        "```console", "$ curl -s localhost:8080/b", "[]", "```", "## Next", "```console", "$ curl after", "```");

    assertThat(steps(readme)).containsExactly(
        new Step("X='1'", ""),
        new Step("curl -s localhost:8080/a \\\n    -H 'A: b'", "HTTP/1.1 200 OK\n\n{}"),
        new Step("curl -s localhost:8080/b", "[]"));
  }

  /** The {@code $ } commands of the tour section's {@code console} blocks, each with the lines up to the next. */
  static List<Step> steps(String readme) {
    int start = readme.indexOf("\n" + SECTION + "\n");
    assertThat(start).as("the README has a section '%s'", SECTION).isNotNegative();
    int end = readme.indexOf("\n## ", start + SECTION.length() + 1);
    String section = readme.substring(start, end < 0 ? readme.length() : end);
    List<Step> steps = new ArrayList<>();
    boolean inConsole = false;
    StringBuilder command = null;
    StringBuilder output = null;
    for (String line : section.split("\n", -1)) {
      if (!inConsole) {
        inConsole = line.equals("```console");
        continue;
      }
      boolean fenceEnd = line.equals("```");
      boolean continued = command != null && output.length() == 0 && command.toString().endsWith("\\");
      if (continued && !fenceEnd) {
        command.append('\n').append(line);
        continue;
      }
      if (fenceEnd || line.startsWith("$ ")) {
        if (command != null) {
          steps.add(new Step(command.toString(), trimTrailingBlankLines(output.toString())));
        }
        command = fenceEnd ? null : new StringBuilder(line.substring(2));
        output = new StringBuilder();
        inConsole = !fenceEnd;
        continue;
      }
      if (command != null) {
        output.append(line).append('\n');
      }
    }
    return steps;
  }

  /** Runs {@code script} with bash; stdout, with CRLF as LF, without the Date header and trailing blank lines. */
  private static String run(String script, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(false);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out;
    try (InputStream in = p.getInputStream()) {
      out = in.readNBytes(1 << 20);
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the command did not finish in 60 s: " + script);
    }
    String text = new String(out, StandardCharsets.UTF_8).replace("\r\n", "\n");
    StringBuilder kept = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (!line.startsWith("Date: ")) {
        kept.append(line).append('\n');
      }
    }
    return trimTrailingBlankLines(kept.toString());
  }

  private static String trimTrailingBlankLines(String s) {
    int end = s.length();
    while (end > 0 && Character.isWhitespace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }
}
