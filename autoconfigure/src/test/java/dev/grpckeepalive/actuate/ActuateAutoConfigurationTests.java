package dev.grpckeepalive.actuate;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.test.TestService;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** Endpoint, health and meters appear only with their libraries, and can be turned off. */
class ActuateAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class,
				GrpcKeepAliveEndpointAutoConfiguration.class, GrpcKeepAliveHealthContributorAutoConfiguration.class,
				GrpcKeepAliveMetricsAutoConfiguration.class))
		.withBean(TestService.class)
		.withPropertyValues("grpc.keepalive.server.port=0", "management.endpoints.web.exposure.include=*",
				"grpc.keepalive.client.channels.a.target=localhost:1");

	@Test
	void allPresentWithTheirLibraries() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(GrpcKeepAliveEndpoint.class)
				.hasSingleBean(GrpcKeepAliveMeterBinder.class)
				.hasBean("grpcKeepaliveHealthContributor");
			CompositeHealthContributor health = context.getBean("grpcKeepaliveHealthContributor",
					CompositeHealthContributor.class);
			assertThat(health.getContributor("server")).isNotNull();
			assertThat(health.getContributor("a")).isNotNull();
		});
	}

	@Test
	void noEndpointWithoutActuator() {
		this.runner.withClassLoader(new FilteredClassLoader(Endpoint.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(GrpcKeepAliveEndpoint.class));
	}

	@Test
	void noEndpointWhenNotExposed() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=health")
			.run((context) -> assertThat(context).doesNotHaveBean(GrpcKeepAliveEndpoint.class));
	}

	@Test
	void noHealthWithoutHealthModuleOrWhenDisabled() {
		this.runner.withClassLoader(new FilteredClassLoader(HealthContributor.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean("grpcKeepaliveHealthContributor"));
		this.runner.withPropertyValues("management.health.grpckeepalive.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean("grpcKeepaliveHealthContributor"));
	}

	@Test
	void noMetersWithoutMicrometer() {
		this.runner.withClassLoader(new FilteredClassLoader(MeterRegistry.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(GrpcKeepAliveMeterBinder.class));
	}

}
