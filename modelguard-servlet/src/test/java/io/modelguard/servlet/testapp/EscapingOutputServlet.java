package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * Chain {@code label-only}, whose output policy strips the probabilities from {@link #PREDICTION}:
 * a servlet that tries, in the way its {@link Mode} names, to get the raw prediction to the client
 * past that policy.
 */
@ModelSecured(model = "digits", chain = "label-only")
public class EscapingOutputServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The raw prediction; its probabilities must never reach the client. */
  public static final String PREDICTION = "{\"label\":7,\"probabilities\":[0.0123,0.9731]}";

  /** What only the raw prediction contains. */
  public static final String SECRET = "0.9731";

  /** How the servlet tries to get its output past the output policy. */
  public enum Mode {
    /** Sets {@code Content-Encoding: gzip} and writes the prediction compressed. */
    GZIP,
    /**
     * As {@link #GZIP}, under the name {@code "Content-Encoding "}, which the containers send as
     * {@code Content-Encoding : gzip}: a proxy strips the space, and the client decodes the body.
     */
    GZIP_UNDER_A_PADDED_NAME,
    /** Writes the prediction padded to 1 MiB, through the output stream. */
    HUGE,
    /**
     * Starts asynchronous processing with {@code startAsync()}, whose context holds the container's
     * own response, and writes and flushes the prediction there before returning; completes once
     * the test releases it.
     */
    ASYNC_ORIGINAL_RESPONSE,
    /** Sends an error whose message is the prediction. */
    ERROR_MESSAGE,
    /** Sends an error, then writes the prediction. */
    WRITE_AFTER_ERROR,
    /** Redirects, then writes the prediction. */
    WRITE_AFTER_REDIRECT,
    /**
     * Writes the label, then fails with an exception whose message quotes the prediction, as a
     * parser's message quotes the input it could not read.
     */
    EXCEPTION,
    /** Writes the label, and the prediction as a trailer field. */
    TRAILER,
    /**
     * Writes the prediction with headers computed over it (ETag, Last-Modified, Content-MD5, Digest,
     * Repr-Digest, Content-Digest, Accept-Ranges): after the policy rewrote the body, a hash of the
     * raw prediction would identify it.
     */
    VALIDATORS,
    /**
     * Answers a conditional request itself, against the raw prediction's ETag (304 when the client
     * names it), and reports in {@code X-Saw-Range} whether it saw a {@code Range} header.
     */
    CONDITIONAL,
    /**
     * Writes the prediction through its writer in UTF-16, a charset it may choose (or take from
     * the client's {@code Accept-Charset}): the policy reads the body as UTF-8.
     */
    UTF_16,
    /**
     * Writes the prediction through its writer in UTF-8, then names UTF-16 in a {@code
     * Content-Type} header ({@code setHeader}, not {@code setContentType}): too late to change what
     * the writer wrote, as a container's own writer would have it; relabelled, the policy would read
     * the UTF-8 bytes as UTF-16 text it cannot recognise, and the client decode them back.
     */
    CONTENT_TYPE_HEADER_AFTER_WRITER,
    /**
     * Writes the prediction through its writer in UTF-16, a charset it sets (or takes from the
     * client's {@code Accept-Charset}), without any {@code Content-Type}: nothing declares the
     * charset, and the policy reads the body as UTF-8.
     */
    WRITER_WITHOUT_CONTENT_TYPE,
    /**
     * Leaves the prediction in the request attribute {@link #PREDICTION_ATTRIBUTE} and sends an
     * error ({@code 422}) whose message is the prediction too, for the application's error page
     * ({@link PredictionErrorPageServlet}) to render.
     */
    ERROR_PAGE
  }

  /** The request attribute the {@link Mode#ERROR_PAGE} servlet leaves the prediction in. */
  public static final String PREDICTION_ATTRIBUTE = "test.prediction";

  private final Mode mode;
  private final transient CountDownLatch release;

  /** A servlet escaping in the way {@code mode} names. */
  public EscapingOutputServlet(Mode mode) {
    this(mode, new CountDownLatch(0));
  }

  /** A servlet escaping in the way {@code mode} names, whose asynchronous work waits for {@code release}. */
  public EscapingOutputServlet(Mode mode, CountDownLatch release) {
    this.mode = mode;
    this.release = release;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    byte[] prediction = PREDICTION.getBytes(StandardCharsets.UTF_8);
    switch (mode) {
      case GZIP, GZIP_UNDER_A_PADDED_NAME -> {
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
          gzip.write(prediction);
        }
        response.setContentType("application/json");
        response.setHeader(mode == Mode.GZIP ? "Content-Encoding" : "Content-Encoding ", "gzip");
        response.getOutputStream().write(compressed.toByteArray());
      }
      case HUGE -> {
        response.setContentType("application/json");
        ServletOutputStream out = response.getOutputStream();
        out.write(prediction);
        byte[] padding = new byte[8192];
        java.util.Arrays.fill(padding, (byte) ' ');
        for (int i = 0; i < 128; i++) {
          out.write(padding);
        }
      }
      case ASYNC_ORIGINAL_RESPONSE -> {
        AsyncContext async = request.startAsync();
        CountDownLatch written = new CountDownLatch(1);
        async.start(() -> {
          try {
            async.getResponse().setContentType("application/json");
            async.getResponse().getOutputStream().write(prediction);
            async.getResponse().flushBuffer();
          } catch (IOException | RuntimeException e) {
            // Refused: nothing more to do.
          }
          written.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            async.complete();
          }
        });
        try {
          written.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      case ERROR_MESSAGE -> response.sendError(422, PREDICTION);
      case ERROR_PAGE -> {
        request.setAttribute(PREDICTION_ATTRIBUTE, PREDICTION);
        response.sendError(422, PREDICTION);
      }
      case WRITE_AFTER_ERROR -> {
        response.sendError(409);
        try {
          response.setContentType("application/json");
          response.getOutputStream().write(prediction);
          response.flushBuffer();
        } catch (IOException | IllegalStateException e) {
          // Refused by the container.
        }
      }
      case WRITE_AFTER_REDIRECT -> {
        response.sendRedirect(request.getContextPath() + "/elsewhere");
        try {
          response.setContentType("application/json");
          response.getOutputStream().write(prediction);
          response.flushBuffer();
        } catch (IOException | IllegalStateException e) {
          // Refused by the container.
        }
      }
      case EXCEPTION -> {
        response.setContentType("application/json");
        response.getOutputStream().write("{\"label\":7}".getBytes(StandardCharsets.UTF_8));
        throw new IllegalStateException("Unexpected token at [Source: " + PREDICTION + "; line: 1]");
      }
      case TRAILER -> {
        response.setContentType("application/json");
        response.setTrailerFields(() -> Map.of("x-prediction", PREDICTION));
        response.getOutputStream().write("{\"label\":7}".getBytes(StandardCharsets.UTF_8));
      }
      case VALIDATORS -> {
        response.setContentType("application/json");
        String digest = digestOf(prediction);
        response.setHeader("ETag", "\"" + digest + "\"");
        response.setDateHeader("Last-Modified", 1_700_000_000_000L);
        response.addHeader("Content-MD5", digest);
        response.setHeader("Digest", "sha-256=" + digest);
        response.addHeader("Repr-Digest", "sha-256=:" + digest + ":");
        response.setHeader("Content-Digest", "sha-256=:" + digest + ":");
        response.setHeader("Accept-Ranges", "bytes");
        response.setHeader("X-Model-Version", "7");
        response.getOutputStream().write(prediction);
      }
      case CONDITIONAL -> {
        String etag = "\"" + digestOf(prediction) + "\"";
        response.setHeader("X-Saw-Range", String.valueOf(request.getHeader("Range") != null));
        if (etag.equals(request.getHeader("If-None-Match"))) {
          response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
          return;
        }
        response.setContentType("application/json");
        response.getOutputStream().write(prediction);
      }
      case UTF_16 -> {
        response.setContentType("application/json; charset=UTF-16");
        response.getWriter().print(PREDICTION);
      }
      case CONTENT_TYPE_HEADER_AFTER_WRITER -> {
        response.setContentType("application/json;charset=UTF-8");
        java.io.PrintWriter writer = response.getWriter();
        writer.print(PREDICTION);
        writer.print(' '); // an even number of bytes: whole UTF-16 code units
        response.setHeader("Content-Type", "application/json; charset=UTF-16BE");
      }
      case WRITER_WITHOUT_CONTENT_TYPE -> {
        response.setCharacterEncoding("UTF-16BE");
        response.getWriter().print(PREDICTION);
      }
      default -> throw new IllegalStateException(mode.toString());
    }
  }

  /** The base64 SHA-256 of {@code bytes}. */
  public static String digestOf(byte[] bytes) {
    try {
      return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
