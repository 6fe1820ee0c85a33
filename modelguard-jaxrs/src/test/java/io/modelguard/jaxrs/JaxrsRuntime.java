package io.modelguard.jaxrs;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.ws.rs.core.Application;
import java.util.List;

/** A JAX-RS runtime that serves an {@link Application} over HTTP on a free loopback port. */
public interface JaxrsRuntime {

  /**
   * Deploys {@code application} and starts serving it.
   *
   * @throws Exception if the runtime refuses the application or cannot start
   */
  Deployment deploy(Application application) throws Exception;

  /**
   * Deploys {@code application} and starts serving it over HTTP/1.1 and cleartext HTTP/2 ({@link
   * JettyHost#startWithHttp2}).
   *
   * @throws Exception if the runtime refuses the application or cannot start
   */
  Deployment deployWithHttp2(Application application) throws Exception;

  /** The class-name prefix of this runtime's {@code RuntimeDelegate}. */
  String runtimeDelegatePrefix();

  /**
   * This runtime's own response compression, as provider classes to add to an application: gzip
   * for a client that accepts it, written by a {@code WriterInterceptor}.
   */
  List<Class<?>> compression();

  /** This runtime's decoding of a gzip request body, as provider classes: a {@code ReaderInterceptor}. */
  List<Class<?>> requestDecoding();
}
