package io.modelguard.quota;

import java.net.InetAddress;

/**
 * Run by {@link AddressKeyLookupTest} in a JVM started with {@code -Djdk.net.hosts.file}, whose
 * file gives an address to each of {@code args} (without its zone, after a '%'): prints what the JVM
 * resolves each to, then each one's address key. A key that shows the file's address came from a
 * name lookup.
 */
public final class AddressLookupProbe {
  private AddressLookupProbe() {}

  public static void main(String[] args) throws Exception {
    for (String address : args) {
      // The file is really read: the JVM's resolver answers these names from it.
      String name = address.split("%", 2)[0];
      System.out.println("resolves " + name + "=" + InetAddress.getByName(name).getHostAddress());
    }
    for (String address : args) {
      System.out.println("key " + address + "=" + QuotaKey.forAddress(address).partition());
    }
  }
}
