package io.modelguard.jaxrs.resteasy;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Locale;

/**
 * Declares {@code Content-Encoding: gzip} on a response with an entity when the request accepts
 * gzip, for RESTEasy's {@code GZIPEncodingInterceptor} to apply. RESTEasy has no server filter that
 * negotiates the coding (its {@code @GZIP} annotation declares it per method); this plays that part
 * for every method, as Jersey's {@code EncodingFilter} does.
 */
@Priority(Priorities.HEADER_DECORATOR)
public final class GzipWhenAccepted implements ContainerResponseFilter {
  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    String accepted = request.getHeaderString(HttpHeaders.ACCEPT_ENCODING);
    if (response.hasEntity() && accepted != null && accepted.toLowerCase(Locale.ROOT).contains("gzip")) {
      response.getHeaders().putSingle(HttpHeaders.CONTENT_ENCODING, "gzip");
    }
  }
}
