package io.modelguard;

import java.text.Normalizer;
import java.util.List;
import java.util.Map;

/**
 * Names that would display as another one, or not at all, in logs, meters and bills (one of each
 * kind {@link Principal#isDisplaySafe(String)} refuses), and ordinary names of several scripts that
 * must still pass as they are.
 */
public final class MisleadingNames {
  /** Kind of code point to a name holding one, inside otherwise ordinary text. */
  public static final Map<String, String> MISLEADING = Map.ofEntries(
      Map.entry("C0 control (BEL)", "ac\u0007me"),
      Map.entry("line feed", "acme\nfree"),
      Map.entry("DEL", "acme\u007f"),
      Map.entry("C1 control (NEL)", "acme\u0085"),
      Map.entry("right-to-left override", "\u202eemca"),
      Map.entry("left-to-right isolate", "acme\u2066"),
      Map.entry("zero-width space", "acme\u200b"),
      Map.entry("zero-width joiner", "ac\u200dme"),
      Map.entry("byte order mark", "\ufeffacme"),
      Map.entry("soft hyphen", "ac\u00adme"),
      Map.entry("tag character (Cf, supplementary)", "acme\udb40\udc41"),
      Map.entry("line separator", "acme\u2028"),
      Map.entry("paragraph separator", "acme\u2029"),
      Map.entry("lone high surrogate", "acme\ud800"),
      Map.entry("lone low surrogate", "\udfffacme"),
      Map.entry("non-character U+FDD0", "acme\ufdd0"),
      Map.entry("non-character U+FFFE", "acme\ufffe"),
      Map.entry("non-character U+1FFFF", "acme\ud83f\udfff"));

  /** Ordinary names, with and without combining marks ({@code josé} in NFC and in NFD). */
  public static final List<String> ORDINARY = List.of("müller", "山田", "josé",
      Normalizer.normalize("josé", Normalizer.Form.NFD), "Ørsted-ÅS", "Αθηνά", "ناصر", "acme 😀");

  private MisleadingNames() {}
}
