package dev.grpckeepalive.server.reflection;

import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.ServerBuilderCustomizer;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures gRPC server reflection ({@code grpc.reflection.v1}, grpc-services'
 * {@link ProtoReflectionServiceV1}) on the starter's own server when
 * {@code grpc.keepalive.server.reflection.enabled=true}: grpcurl and other tools then list
 * the services and read their descriptors. Off by default, as it tells any client the whole API.
 */
@AutoConfiguration(after = GrpcKeepAliveServerAutoConfiguration.class)
@ConditionalOnClass(ProtoReflectionServiceV1.class)
@ConditionalOnBean(KeepAliveGrpcServer.class)
@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.reflection.enabled")
public final class GrpcReflectionAutoConfiguration {

	/**
	 * A customizer rather than a service bean: a service bean would start the server on its
	 * own, in an application that defines no service.
	 */
	@Bean
	ServerBuilderCustomizer grpcKeepAliveReflection() {
		return (builder) -> builder.addService(ProtoReflectionServiceV1.newInstance());
	}

}
