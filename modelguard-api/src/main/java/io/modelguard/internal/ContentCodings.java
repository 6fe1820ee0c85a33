package io.modelguard.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The content codings a response declares. Internal: not part of the public API. */
public final class ContentCodings {
  private ContentCodings() {}

  /**
   * The codings named by {@code Content-Encoding} header values (each may list several, separated
   * by commas), lower-cased and in order, leaving out {@code identity} and empty members: a body
   * in any of them is bytes the output policies cannot read.
   */
  public static List<String> declared(Iterable<?> headerValues) {
    List<String> codings = null;
    for (Object value : headerValues) {
      for (String member : String.valueOf(value).split(",")) {
        String coding = member.trim().toLowerCase(Locale.ROOT);
        if (!coding.isEmpty() && !coding.equals("identity")) {
          if (codings == null) {
            codings = new ArrayList<>(1);
          }
          codings.add(coding);
        }
      }
    }
    // Nearly every response declares none: that case allocates nothing.
    return codings == null ? List.of() : codings;
  }
}
