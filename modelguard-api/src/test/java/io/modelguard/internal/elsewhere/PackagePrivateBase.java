package io.modelguard.internal.elsewhere;

import io.modelguard.ModelSecured;

/**
 * Declares a package-private annotated method, which a class of another package cannot override
 * (see {@code AnnotationInheritanceTest}).
 */
public class PackagePrivateBase {
  @ModelSecured(model = "m", chain = "lenient")
  String predict() {
    return "base";
  }
}
