package io.modelguard.authn;

/**
 * A newly issued key: the plaintext, to hand to the client once, and the record to store. {@link
 * #toString()} never prints the plaintext.
 *
 * @param key the plaintext key; show it once, never log or store it
 * @param record the record to store
 */
public record IssuedApiKey(String key, ApiKeyRecord record) {
  @Override
  public String toString() {
    return "IssuedApiKey[" + record + "]";
  }
}
