package dev.grpckeepalive.server.health;

import java.util.List;
import java.util.stream.Stream;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.HealthStatusManager;

import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures {@code grpc.health.v1} on the starter's own gRPC server (standalone mode),
 * on by default ({@code grpc.keepalive.server.health.enabled}), from grpc-services'
 * {@link HealthStatusManager}. The status follows the application's readiness and turns
 * NOT_SERVING when the server's graceful shutdown begins, before its GOAWAY. Backs off, with
 * an INFO line, when the application serves {@code grpc.health.v1.Health} itself.
 */
@AutoConfiguration(after = GrpcKeepAliveServerAutoConfiguration.class)
@ConditionalOnClass(HealthStatusManager.class)
@ConditionalOnBean(KeepAliveGrpcServer.class)
@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.health.enabled", matchIfMissing = true)
public final class GrpcHealthAutoConfiguration {

	@Bean
	ServerHealth grpcKeepAliveServerHealth(ObjectProvider<BindableService> services,
			ObjectProvider<ServerServiceDefinition> definitions, ObjectProvider<ApplicationAvailability> availability) {
		List<String> names = Stream
			.concat(services.orderedStream().map(BindableService::bindService), definitions.orderedStream())
			.map((definition) -> definition.getServiceDescriptor().getName())
			.toList();
		// Without Spring Boot's availability bean (an application assembled by hand), the server is ready when it
		// runs; with it, ready when the application is (SpringApplication publishes ACCEPTING_TRAFFIC once started).
		ReadinessState readiness = availability.stream()
			.findFirst()
			.map(ApplicationAvailability::getReadinessState)
			.orElse(ReadinessState.ACCEPTING_TRAFFIC);
		return new ServerHealth(names, readiness);
	}

}
