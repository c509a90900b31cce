package dev.grpckeepalive.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

/**
 * A running server and a channel to it, built the way each variant's users build them,
 * all with the same keepalive settings: server time 1m, timeout 20s, permit time 10s with
 * permit-without-calls; client time 30s, timeout 10s.
 */
public final class Deployment implements AutoCloseable {

	private final int port;

	private final ManagedChannel channel;

	private final List<AutoCloseable> resources;

	private final @Nullable ConfigurableApplicationContext serverContext;

	private Deployment(int port, ManagedChannel channel, @Nullable ConfigurableApplicationContext serverContext,
			List<AutoCloseable> resources) {
		this.port = port;
		this.channel = channel;
		this.serverContext = serverContext;
		this.resources = resources;
	}

	public static Deployment start(Variant variant) {
		return switch (variant) {
			case PLAIN -> plain();
			case STARTER -> starter(true);
			case STARTER_NO_FRAMES -> starter(false);
			case SPRING_BOOT_GRPC -> springBootGrpc();
		};
	}

	public int port() {
		return this.port;
	}

	public ManagedChannel channel() {
		return this.channel;
	}

	/** The server's Spring context, for the starter variants. */
	public @Nullable ConfigurableApplicationContext serverContext() {
		return this.serverContext;
	}

	/** The plain grpc-java channel every variant's server also accepts, for churn and scale. */
	public static ManagedChannel plainChannel(int port) {
		return NettyChannelBuilder.forAddress("127.0.0.1", port)
			.usePlaintext()
			.keepAliveTime(30, TimeUnit.SECONDS)
			.keepAliveTimeout(10, TimeUnit.SECONDS)
			.build();
	}

	private static Deployment plain() {
		try {
			Server server = NettyServerBuilder.forPort(0)
				.addService(new BenchServiceImpl())
				.keepAliveTime(1, TimeUnit.MINUTES)
				.keepAliveTimeout(20, TimeUnit.SECONDS)
				.permitKeepAliveTime(10, TimeUnit.SECONDS)
				.permitKeepAliveWithoutCalls(true)
				.build()
				.start();
			ManagedChannel channel = plainChannel(server.getPort());
			return new Deployment(server.getPort(), channel, null, List.of(channel::shutdownNow, () -> {
				server.shutdownNow();
				server.awaitTermination(5, TimeUnit.SECONDS);
			}));
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static Deployment starter(boolean frames) {
		ConfigurableApplicationContext server = run(StarterServerApp.class, "grpc.keepalive.server.port=0",
				"grpc.keepalive.server.time=1m", "grpc.keepalive.server.timeout=20s",
				"grpc.keepalive.server.permit-time=10s", "grpc.keepalive.server.permit-without-calls=true",
				"grpc.keepalive.frames.enabled=" + frames);
		int port = server.getBean(KeepAliveGrpcServer.class).getPort();
		ConfigurableApplicationContext client = run(StarterClientApp.class,
				"grpc.keepalive.client.channels.bench.target=127.0.0.1:" + port, "grpc.keepalive.client.defaults.time=30s",
				"grpc.keepalive.client.defaults.timeout=10s", "grpc.keepalive.frames.enabled=" + frames);
		ManagedChannel channel = client.getBean(GrpcChannels.class).get("bench");
		return new Deployment(port, channel, server, List.of(client::close, server::close));
	}

	private static Deployment springBootGrpc() {
		ConfigurableApplicationContext server = run(SpringBootGrpcApp.class, "spring.grpc.server.port=0",
				"spring.grpc.client.enabled=false", "spring.grpc.server.keepalive.time=1m",
				"spring.grpc.server.keepalive.timeout=20s", "spring.grpc.server.keepalive.permit.time=10s",
				"spring.grpc.server.keepalive.permit.without-calls=true");
		int port = server.getBean(GrpcServerLifecycle.class).getPort();
		ConfigurableApplicationContext client = run(SpringBootGrpcApp.class, "spring.grpc.server.enabled=false",
				"spring.grpc.client.channel.bench.target=static://127.0.0.1:" + port,
				"spring.grpc.client.channel.bench.keepalive.time=30s",
				"spring.grpc.client.channel.bench.keepalive.timeout=10s");
		ManagedChannel channel = client.getBean(GrpcChannelFactory.class).createChannel("bench");
		List<AutoCloseable> resources = new ArrayList<>(List.of(channel::shutdownNow, client::close, server::close));
		return new Deployment(port, channel, server, resources);
	}

	private static ConfigurableApplicationContext run(Class<?> source, String... properties) {
		return new SpringApplicationBuilder(source).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(properties)
			.run();
	}

	@Override
	public void close() {
		for (AutoCloseable resource : this.resources) {
			try {
				resource.close();
			}
			catch (Exception ex) {
				// best effort: the next variant starts on other ports
			}
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ GrpcKeepAliveAutoConfiguration.class, GrpcKeepAliveServerAutoConfiguration.class,
			GrpcKeepAliveClientAutoConfiguration.class })
	static class StarterServerApp {

		@Bean
		BenchServiceImpl benchService() {
			return new BenchServiceImpl();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ GrpcKeepAliveAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class })
	static class StarterClientApp {

	}

	/** Spring Boot's gRPC auto-configuration alone, this starter's excluded; server or client by properties. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration(excludeName = { "dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration",
			"dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration",
			"dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration",
			"dev.grpckeepalive.companion.GrpcKeepAliveCompanionAutoConfiguration",
			"dev.grpckeepalive.actuate.GrpcKeepAliveEndpointAutoConfiguration",
			"dev.grpckeepalive.actuate.GrpcKeepAliveHealthContributorAutoConfiguration",
			"dev.grpckeepalive.actuate.GrpcKeepAliveMetricsAutoConfiguration" })
	static class SpringBootGrpcApp {

		@Bean
		BenchServiceImpl benchService() {
			return new BenchServiceImpl();
		}

	}

}
