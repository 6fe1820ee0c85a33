package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Chain {@code label-only} (an output policy): writes more than the filter holds for the output
 * policies, {@code limit} bytes, and then goes on in the way its {@link Mode} names.
 */
@ModelSecured(model = "digits", chain = "label-only")
public class OverflowingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** What the servlet does around writing too much. */
  public enum Mode {
    /**
     * Writes exactly {@code limit} bytes through {@code getWriter()} and flushes them, then prints
     * one character more without flushing: it is still in the writer when the servlet returns.
     */
    UNFLUSHED_WRITER_TAIL,
    /** Writes past the limit to the output stream, catches the failed write and sends error 500. */
    SEND_ERROR,
    /** Writes past the limit to the output stream, catches the failed write and redirects to {@code /elsewhere}. */
    REDIRECT
  }

  private final int limit;
  private final Mode mode;

  /** A servlet that writes more than {@code limit} bytes in the way {@code mode} names. */
  public OverflowingServlet(int limit, Mode mode) {
    this.limit = limit;
    this.mode = mode;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    if (mode == Mode.UNFLUSHED_WRITER_TAIL) {
      response.setCharacterEncoding("UTF-8");
      PrintWriter writer = response.getWriter();
      writer.print(" ".repeat(limit));
      writer.flush();
      writer.print(' ');
      return;
    }
    try {
      response.getOutputStream().write(new byte[limit + 1]);
    } catch (IOException e) {
      if (mode == Mode.SEND_ERROR) {
        response.sendError(500);
      } else {
        response.sendRedirect(request.getContextPath() + "/elsewhere");
      }
    }
  }
}
