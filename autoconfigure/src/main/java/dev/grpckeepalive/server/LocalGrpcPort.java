package dev.grpckeepalive.server;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.beans.factory.annotation.Value;

/**
 * Injects the port the starter's gRPC server listens on, as Spring Boot's
 * {@code @LocalServerPort} does for the web server: for tests that start the server on port 0
 * ({@code grpc.keepalive.server.port=0}). A shortcut for
 * {@code @Value("${local.grpc.port}")}; the property exists once the server has started, so
 * inject it where that has happened (a test instance, or a bean used after startup). A
 * channel's target may name it too: {@code 127.0.0.1:${local.grpc.port}}.
 */
@Target({ ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Value("${" + KeepAliveGrpcServer.LOCAL_PORT_PROPERTY + "}")
public @interface LocalGrpcPort {

}
