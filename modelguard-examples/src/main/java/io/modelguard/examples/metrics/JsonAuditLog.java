package io.modelguard.examples.metrics;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.event.GuardListener;
import io.modelguard.event.PolicyFailureEvent;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's structured audit log: one JSON object per line for every decision of the engine
 * ({@code "event":"decision"}) and every policy that threw ({@code "event":"policy_failure"}), to
 * the SLF4J logger {@value #LOGGER_NAME} (at INFO; the demo's {@code logback.xml} gives it an
 * appender of its own that prints the line alone) or appended to a file.
 *
 * <pre>{@code
 * {"ts":"2026-01-01T00:00:00.123Z","event":"decision","outcome":"denied","code":"authz.model_forbidden",
 *  "phase":"AUTHORIZE","policy":"model-access","chain":"default","model":"iris","subject":"demo-free",
 *  "tenant":"demo-free","method":"POST","path":"/v1/models/iris/predict"}
 * }</pre>
 *
 * <p>A denial whose policy set an {@linkplain DecisionEvent#operatorNote() operator note} has it
 * right after its code, as {@code "operatorNote"}: a host name refused for resolving to an
 * internal address, which the client is told does not resolve, is
 *
 * <pre>{@code
 * {"ts":"...","event":"decision","outcome":"denied","code":"input.fetch_failed",
 *  "operatorNote":"ssrf_refused:DENIED_ADDRESS","phase":"VALIDATE","policy":"input",...}
 * }</pre>
 *
 * <p>while a name that does not resolve has no {@code "operatorNote"}.
 *
 * <p>The extraction defence's detections ({@link ExtractionDetectionEvent}) get lines of their own:
 *
 * <pre>{@code
 * {"ts":"...","event":"extraction_detection","model":"digits","subject":"demo-free","tenant":"demo-free",
 *  "client":"p:demo-free:demo-free","previousLevel":"OBSERVE","level":"PERTURB","detectors":["prada"],"score":1.0,
 *  "query":12}
 * }</pre>
 *
 * <p>A line holds what its event holds and nothing else: never a key, a token, a header, the
 * request body or the model's output (the events carry none). Absent values are left out. The
 * model id and path are what the client sent, cut to {@value #MAX_TEXT} characters; every control
 * character, line separator and bidirectional control is escaped, so a path cannot forge a line
 * or disguise one, and so is every lone surrogate, which would otherwise be written as {@code ?}.
 * Events of other types are ignored. Thread-safe.
 */
public final class JsonAuditLog implements GuardListener, AutoCloseable {
  /** The SLF4J logger lines go to unless a file is given. */
  public static final String LOGGER_NAME = "io.modelguard.examples.audit";
  /** The most characters of a request-controlled value (path, model id) a line keeps. */
  static final int MAX_TEXT = 256;
  /** Hexadecimal digits, upper case as in Jackson's own escapes. */
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private final IsoInstantFormat timestamps = new IsoInstantFormat();
  /** Where lines go: the logger, a test's list, or a file's {@link BatchedLineWriter}. */
  private final Consumer<String> sink;

  private JsonAuditLog(Consumer<String> sink) {
    this.sink = sink;
  }

  /** Lines to the SLF4J logger {@value #LOGGER_NAME}, at INFO. */
  public static JsonAuditLog toLogger() {
    Logger log = LoggerFactory.getLogger(LOGGER_NAME);
    return new JsonAuditLog(log::info);
  }

  /**
   * Lines appended to {@code path} (created if missing) by a background thread, in batches flushed
   * every few milliseconds ({@link BatchedLineWriter}); {@link #close()} writes the rest.
   *
   * @throws IOException if the file cannot be opened for appending
   */
  public static JsonAuditLog toFile(Path path) throws IOException {
    // string() escapes every lone surrogate, so nothing is left to replace; REPLACE stays so that a
    // line could never fail the writer (and so lose every later line) with an encoding error.
    BufferedWriter writer = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(path,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE),
        StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE)));
    return new JsonAuditLog(new BatchedLineWriter(writer, "audit log " + path.getFileName()));
  }

  /** Lines to {@code sink} (tests). */
  static JsonAuditLog to(Consumer<String> sink) {
    return new JsonAuditLog(Objects.requireNonNull(sink, "sink"));
  }

  @Override
  public void onEvent(GuardEvent event) {
    if (!(event instanceof DecisionEvent || event instanceof PolicyFailureEvent
        || event instanceof ExtractionDetectionEvent)) {
      return;
    }
    // Written by hand into one builder: a line per request is on the hot path, and a generator
    // (with its writer, buffers and flush) cost several times as much for these few flat fields.
    StringBuilder json = new StringBuilder(320);
    json.append("{\"ts\":\"");
    timestamps.append(json, event.timestamp());
    json.append('"');
    if (event instanceof DecisionEvent d) {
      json.append(",\"event\":\"decision\",\"outcome\":\"").append(d.allowed() ? "allowed" : "denied").append('"');
      if (d.reasonCode().isPresent()) {
        put(json, "code", d.reasonCode().get().code());
      }
      put(json, "operatorNote", d.operatorNote());
      put(json, "phase", d.phase() == null ? null : d.phase().name());
      put(json, "policy", d.policy());
      put(json, "chain", d.chain());
      put(json, "model", d.model());
      put(json, "subject", d.subject());
      put(json, "tenant", d.tenant());
      put(json, "method", d.method());
      put(json, "path", d.path());
    } else if (event instanceof PolicyFailureEvent f) {
      json.append(",\"event\":\"policy_failure\"");
      put(json, "chain", f.chain());
      put(json, "policy", f.policy());
      put(json, "exception", f.exceptionType());
      json.append(",\"failedOpen\":").append(f.failedOpen());
    } else if (event instanceof ExtractionDetectionEvent x) {
      json.append(",\"event\":\"extraction_detection\"");
      put(json, "model", x.model());
      put(json, "subject", x.subject());
      put(json, "tenant", x.tenant());
      put(json, "client", x.client());
      put(json, "previousLevel", x.previousLevel().name());
      put(json, "level", x.level().name());
      json.append(",\"detectors\":[");
      for (int i = 0; i < x.detectors().size(); i++) {
        if (i > 0) {
          json.append(',');
        }
        string(json, x.detectors().get(i));
      }
      json.append("],\"score\":");
      number(json, x.score());
      json.append(",\"query\":").append(x.query());
    }
    sink.accept(json.append('}').toString());
  }

  /**
   * Appends {@code ,"field":"value"}, the value cut to {@value #MAX_TEXT} characters (one fewer
   * rather than half a surrogate pair); nothing if it is null.
   */
  private static void put(StringBuilder json, String field, String value) {
    if (value != null) {
      json.append(",\"").append(field).append("\":");
      int end = Math.min(value.length(), MAX_TEXT);
      if (end < value.length() && Character.isHighSurrogate(value.charAt(end - 1))
          && Character.isLowSurrogate(value.charAt(end))) {
        end--; // never half a pair
      }
      string(json, value.substring(0, end));
    }
  }

  /**
   * Appends {@code value} as a JSON string, escaped by Jackson's own encoder as its generator
   * escapes it by default, and also, as six-character JSON escapes, what Jackson leaves raw but a
   * reader of the line may still act on ({@link #escapedBeyondJackson}): the line parses to the
   * same value, but no control character or line separator reaches it, so a value can neither end
   * it (for a reader that also splits at NEL or U+2028) nor make the rest of it display in another
   * order. A lone surrogate (half of a pair without the other: a JWT claim may hold one) is escaped
   * too: no charset can encode it raw, and an encoder would write {@code ?} in its place, so the
   * line would no longer say what the client sent.
   */
  static void string(StringBuilder json, String value) {
    json.append('"');
    JsonStringEncoder encoder = JsonStringEncoder.getInstance();
    int from = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++; // a pair: one code point, written raw as Jackson writes it
      } else if (escapedBeyondJackson(c) || Character.isSurrogate(c)) {
        if (i > from) {
          encoder.quoteAsString(value.substring(from, i), json);
        }
        json.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF])
            .append(HEX[c & 0xF]);
        from = i + 1;
      }
    }
    encoder.quoteAsString(from == 0 ? value : value.substring(from), json);
    json.append('"');
  }

  /**
   * The characters Jackson writes raw that the line escapes all the same: DEL and the C1 controls
   * (U+007F to U+009F, NEL among them), the line and paragraph separators U+2028 and U+2029, and
   * the bidirectional embeddings, overrides, isolates and marks (U+202A to U+202E, U+2066 to
   * U+2069, U+200E, U+200F, U+061C) —
   * what the engine's own audit listener keeps out of its lines.
   */
  static boolean escapedBeyondJackson(char c) {
    return (c >= '\u007f' && c <= '\u009f') || c == '\u2028' || c == '\u2029'
        || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
        || c == '\u200e' || c == '\u200f' || c == '\u061c';
  }

  /** A number as Jackson writes one by default: finite as {@link Double#toString}, NaN and infinities quoted. */
  private static void number(StringBuilder json, double value) {
    if (Double.isFinite(value)) {
      json.append(value);
    } else {
      json.append('"').append(value).append('"');
    }
  }

  /** Whether lines go to a file ({@link #toFile}), whose writer may lose lines ({@link #linesLost()}). */
  public boolean writesToFile() {
    return sink instanceof BatchedLineWriter;
  }

  /**
   * The lines the file's writer did not write so far: writing failed (a full disk), or request
   * threads gave up waiting for room while it stalled ({@link BatchedLineWriter}); 0 for lines that
   * do not go to a file.
   */
  public long linesLost() {
    return sink instanceof BatchedLineWriter file ? file.lost() : 0;
  }

  /** Returns once the lines logged so far are in the file, if lines go to one. */
  public void flush() {
    if (sink instanceof BatchedLineWriter file) {
      file.flush();
    }
  }

  /** Writes the lines still queued for the file and closes it, if lines go to one. */
  @Override
  public void close() {
    if (sink instanceof BatchedLineWriter file) {
      file.close();
    }
  }
}
