package io.modelguard.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * Which bodies are text, and their transcoding to UTF-8, the one charset the output policies read
 * ({@link io.modelguard.ModelOutput#bodyAsString()}, the codecs). Both adapters give the policies
 * text in another charset as UTF-8, so that it neither passes them unread nor leaves rewritten
 * under its old label. Internal: not part of the public API.
 */
public final class TextBodies {
  /** The {@code application/*} subtypes that are text (besides {@code +json}, {@code +xml}, {@code +yaml}). */
  private static final Set<String> TEXT_SUBTYPES = Set.of("json", "x-ndjson", "ndjson", "jsonl", "json-seq", "xml",
      "yaml", "x-yaml", "toml", "javascript", "ecmascript", "graphql", "sql", "csv", "x-www-form-urlencoded");

  private TextBodies() {}

  /**
   * Whether the media type {@code type}/{@code subtype} (any case) is text, whose {@code charset}
   * describes its bytes: {@code text/*}, any {@code +json}, {@code +xml} or {@code +yaml} type
   * (such as {@code image/svg+xml}), and JSON, JSON lines and sequences, XML, YAML, TOML,
   * JavaScript, GraphQL, SQL, CSV and forms. Other bodies may be binary and are never transcoded.
   *
   * @param type the top-level type, such as {@code application}; not null
   * @param subtype the subtype, such as {@code json}; not null
   * @return true if the body is text
   */
  public static boolean isText(String type, String subtype) {
    String main = type.toLowerCase(Locale.ROOT);
    String sub = subtype.toLowerCase(Locale.ROOT);
    return main.equals("text") || sub.endsWith("+json") || sub.endsWith("+xml") || sub.endsWith("+yaml")
        || (main.equals("application") && TEXT_SUBTYPES.contains(sub));
  }

  /**
   * {@return the media type of a {@code Content-Type} value: what precedes its parameters, trimmed, case kept}
   *
   * @param contentType a {@code Content-Type} value; not null
   */
  public static String mediaType(String contentType) {
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
  }

  /**
   * {@return whether {@code contentType} (parameters aside) is text, as {@link #isText(String, String)} says}
   *
   * @param contentType a {@code Content-Type} value; not null
   */
  public static boolean isText(String contentType) {
    String type = mediaType(contentType);
    int slash = type.indexOf('/');
    return slash > 0 && isText(type.substring(0, slash), type.substring(slash + 1));
  }

  /**
   * Whether {@code contentType} (nullable; parameters aside) is {@code application/json} or an
   * {@code application/*+json} type.
   *
   * @param contentType a {@code Content-Type} value, or null (then false)
   * @return true for a JSON media type
   */
  public static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = mediaType(contentType).toLowerCase(Locale.ROOT);
    return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
  }

  /**
   * The charset the first {@code charset} parameter of {@code contentType} (nullable) names, or
   * null if it has none.
   *
   * @param contentType a {@code Content-Type} value, or null
   * @return the charset, or null
   * @throws IllegalArgumentException if it names a charset Java does not know
   */
  public static Charset declaredCharset(String contentType) {
    if (contentType == null) {
      return null;
    }
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].strip();
      int eq = parameter.indexOf('=');
      if (eq > 0 && parameter.substring(0, eq).strip().equalsIgnoreCase("charset")) {
        String name = parameter.substring(eq + 1).strip();
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
          name = name.substring(1, name.length() - 1);
        }
        return Charset.forName(name);
      }
    }
    return null;
  }

  /**
   * {@code bytes} decoded from {@code charset} and encoded in UTF-8.
   *
   * @param bytes the body; not null
   * @param charset the charset the body declares; not null
   * @return the body in UTF-8, a new array
   * @throws CharacterCodingException if the bytes are not text in {@code charset}
   */
  public static byte[] toUtf8(byte[] bytes, Charset charset) throws CharacterCodingException {
    CharBuffer text = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
    ByteBuffer utf8 = StandardCharsets.UTF_8.encode(text);
    byte[] out = new byte[utf8.remaining()];
    utf8.get(out);
    return out;
  }
}
