package dev.grpckeepalive.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.ChannelBuilderCustomizer;
import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.ObservedGrpcServer;
import dev.grpckeepalive.server.ServerBuilderCustomizer;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.client.GrpcChannelBuilderCustomizer;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

/**
 * A running server and a channel to it, built the way each variant's users build them,
 * all with the same keepalive settings (server time 1m, timeout 20s, permit time 10s with
 * permit-without-calls; client time 30s, timeout 10s) and the same event-loop configuration
 * ({@link EventLoops}): the starter's own where it observes frames, the same one created here
 * for the others.
 */
public final class Deployment implements AutoCloseable {

	private final int port;

	private final ManagedChannel channel;

	private final @Nullable ConfigurableApplicationContext serverContext;

	/** Event loops for {@link #newPlainChannel()}, the same for every variant. */
	private final EventLoops churnLoops;

	private final List<AutoCloseable> resources;

	private Deployment(int port, ManagedChannel channel, @Nullable ConfigurableApplicationContext serverContext,
			EventLoops churnLoops, List<AutoCloseable> resources) {
		this.port = port;
		this.channel = channel;
		this.serverContext = serverContext;
		this.churnLoops = churnLoops;
		this.resources = new ArrayList<>(resources);
		this.resources.add(churnLoops);
	}

	public static Deployment start(Variant variant) {
		return switch (variant) {
			case PLAIN -> plain();
			case STARTER -> starter(true);
			case STARTER_NO_FRAMES -> starter(false);
			case SPRING_BOOT_GRPC -> springBootGrpc(false);
			case COMPANION -> springBootGrpc(true);
		};
	}

	public int port() {
		return this.port;
	}

	public ManagedChannel channel() {
		return this.channel;
	}

	/** The server's Spring context, for the Spring variants. */
	public @Nullable ConfigurableApplicationContext serverContext() {
		return this.serverContext;
	}

	/**
	 * A new plain grpc-java channel to this deployment's server, on client event loops of the
	 * deployment's own that every variant has alike; for churn.
	 */
	public ManagedChannel newPlainChannel() {
		NettyChannelBuilder builder = plainChannelBuilder(this.port);
		this.churnLoops.applyTo(builder);
		return builder.build();
	}

	/** The plain grpc-java channel every variant's server also accepts, on grpc-java's default event loops. */
	public static ManagedChannel plainChannel(int port) {
		return plainChannelBuilder(port).build();
	}

	private static NettyChannelBuilder plainChannelBuilder(int port) {
		return NettyChannelBuilder.forAddress("127.0.0.1", port)
			.usePlaintext()
			.keepAliveTime(30, TimeUnit.SECONDS)
			.keepAliveTimeout(10, TimeUnit.SECONDS);
	}

	private static Deployment plain() {
		EventLoops serverLoops = EventLoops.forServer();
		EventLoops clientLoops = EventLoops.forChannels();
		try {
			NettyServerBuilder builder = NettyServerBuilder.forPort(0)
				.addService(new BenchServiceImpl())
				.keepAliveTime(1, TimeUnit.MINUTES)
				.keepAliveTimeout(20, TimeUnit.SECONDS)
				.permitKeepAliveTime(10, TimeUnit.SECONDS)
				.permitKeepAliveWithoutCalls(true);
			serverLoops.applyTo(builder);
			Server server = builder.build().start();
			NettyChannelBuilder channelBuilder = plainChannelBuilder(server.getPort());
			clientLoops.applyTo(channelBuilder);
			ManagedChannel channel = channelBuilder.build();
			return new Deployment(server.getPort(), channel, null, EventLoops.forChannels(), List.of(() -> {
				channel.shutdownNow();
				channel.awaitTermination(5, TimeUnit.SECONDS);
			}, () -> {
				server.shutdownNow();
				server.awaitTermination(5, TimeUnit.SECONDS);
			}, clientLoops, serverLoops));
		}
		catch (Exception ex) {
			clientLoops.close();
			serverLoops.close();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * The starter's server and channel. With frames observed, they run on the starter's own
	 * event loops; with frames off the starter leaves grpc-java's shared default, so
	 * customizers give them {@link EventLoops} instead.
	 */
	private static Deployment starter(boolean frames) {
		EventLoopsCustomizers loops = frames ? null : new EventLoopsCustomizers();
		ConfigurableApplicationContext server = run(StarterServerApp.class, loops, "grpc.keepalive.server.port=0",
				"grpc.keepalive.server.time=1m", "grpc.keepalive.server.timeout=20s",
				"grpc.keepalive.server.permit-time=10s", "grpc.keepalive.server.permit-without-calls=true",
				"grpc.keepalive.frames.enabled=" + frames);
		int port = server.getBean(KeepAliveGrpcServer.class).getPort();
		ConfigurableApplicationContext client = run(StarterClientApp.class, loops,
				"grpc.keepalive.client.channels.bench.target=127.0.0.1:" + port, "grpc.keepalive.client.defaults.time=30s",
				"grpc.keepalive.client.defaults.timeout=10s", "grpc.keepalive.frames.enabled=" + frames);
		ManagedChannel channel = client.getBean(GrpcChannels.class).get("bench");
		List<AutoCloseable> resources = new ArrayList<>(List.of(client::close, server::close));
		if (loops != null) {
			resources.add(loops);
		}
		Deployment deployment = new Deployment(port, channel, server, EventLoops.forChannels(), resources);
		check(deployment, server.getBean(KeepAliveGrpcServer.class).getConnections().isFramesObserved() == frames,
				"the starter's server observes frames: " + frames);
		check(deployment, loops == null || loops.appliedToServer && loops.appliedToChannel,
				"the benchmark's event loops were applied");
		return deployment;
	}

	/**
	 * Spring Boot's gRPC server and channel, alone (its own auto-configuration only, this
	 * starter's excluded) or with this starter in companion mode. Alone, customizers give
	 * them {@link EventLoops}; in companion mode they run on the event loops the starter's
	 * frame observer creates.
	 */
	private static Deployment springBootGrpc(boolean companion) {
		EventLoopsCustomizers loops = companion ? null : new EventLoopsCustomizers();
		String exclude = "spring.autoconfigure.exclude=" + (companion ? "" : String.join(",", starterAutoConfigurations()));
		ConfigurableApplicationContext server = run(BootServerApp.class, loops, exclude, "spring.grpc.server.port=0",
				"spring.grpc.client.enabled=false", "spring.grpc.server.keepalive.time=1m",
				"spring.grpc.server.keepalive.timeout=20s", "spring.grpc.server.keepalive.permit.time=10s",
				"spring.grpc.server.keepalive.permit.without-calls=true");
		GrpcServerLifecycle lifecycle = server.getBean(GrpcServerLifecycle.class);
		int port = lifecycle.getPort();
		ConfigurableApplicationContext client = run(BootClientApp.class, loops, exclude,
				"spring.grpc.server.enabled=false", "spring.grpc.client.channel.bench.target=static://127.0.0.1:" + port,
				"spring.grpc.client.channel.bench.keepalive.time=30s",
				"spring.grpc.client.channel.bench.keepalive.timeout=10s");
		ManagedChannel channel = client.getBean(GrpcChannelFactory.class).createChannel("bench");
		List<AutoCloseable> resources = new ArrayList<>(List.of(() -> {
			channel.shutdownNow();
			channel.awaitTermination(5, TimeUnit.SECONDS);
		}, client::close, server::close));
		if (loops != null) {
			resources.add(loops);
		}
		Deployment deployment = new Deployment(port, channel, server, EventLoops.forChannels(), resources);
		check(deployment, lifecycle.getFactory().getClass().getSimpleName().equals("ShadedNettyGrpcServerFactory"),
				"Spring Boot's server runs on grpc-netty-shaded, as the starter's customizers require");
		if (companion) {
			check(deployment, server.getBean(ObservedGrpcServer.class).getConnections().isFramesObserved(),
					"the companion observes frames on Spring Boot's server");
			TrackedChannel tracked = client.getBeanProvider(TrackedChannels.class)
				.orderedStream()
				.map((channels) -> channels.tracked().get("bench"))
				.filter((candidate) -> candidate != null)
				.findFirst()
				.orElse(null);
			check(deployment, tracked != null && tracked.connections().isFramesObserved(),
					"the companion observes frames on Spring Boot's channel");
		}
		else {
			check(deployment, server.getBeanProvider(ObservedGrpcServer.class).getIfAvailable() == null,
					"the starter is absent");
			check(deployment, loops.appliedToServer && loops.appliedToChannel, "the benchmark's event loops were applied");
		}
		return deployment;
	}

	private static void check(Deployment deployment, boolean condition, String what) {
		if (!condition) {
			deployment.close();
			throw new IllegalStateException("Deployment does not measure what it should: " + what);
		}
	}

	/** This starter's auto-configurations, as listed in its jar: what Spring Boot's gRPC alone excludes. */
	static List<String> starterAutoConfigurations() {
		List<String> names = new ArrayList<>();
		try {
			Enumeration<URL> imports = Deployment.class.getClassLoader()
				.getResources("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports");
			for (URL url : Collections.list(imports)) {
				try (InputStream in = url.openStream()) {
					new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
						.map(String::strip)
						.filter((line) -> line.startsWith("dev.grpckeepalive."))
						.forEach(names::add);
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		if (names.isEmpty()) {
			throw new IllegalStateException("No auto-configuration of this starter found on the class path");
		}
		return names;
	}

	private static ConfigurableApplicationContext run(Class<?> source, @Nullable EventLoopsCustomizers loops,
			String... properties) {
		SpringApplicationBuilder builder = new SpringApplicationBuilder(source).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(properties);
		if (loops != null) {
			builder.initializers(loops);
		}
		return builder.run();
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

	/**
	 * Gives the server and channel builders of the starter (frames off) or of Spring Boot's
	 * gRPC alone the {@link EventLoops} configuration, through each one's builder customizers,
	 * which run after everything the starter or Spring Boot applies. One object registered in
	 * the server's and the client's context; it implements both projects' customizer
	 * interfaces, whose methods have the same signatures.
	 */
	static final class EventLoopsCustomizers implements ApplicationContextInitializer<ConfigurableApplicationContext>,
			AutoCloseable {

		private final EventLoops server = EventLoops.forServer();

		private final EventLoops channels = EventLoops.forChannels();

		volatile boolean appliedToServer;

		volatile boolean appliedToChannel;

		@Override
		public void initialize(ConfigurableApplicationContext context) {
			context.getBeanFactory().registerSingleton("benchServerEventLoops", new ServerLoops());
			context.getBeanFactory().registerSingleton("benchChannelEventLoops", new ChannelLoops());
		}

		@Override
		public void close() {
			this.channels.close();
			this.server.close();
		}

		final class ServerLoops implements ServerBuilderCustomizer,
				org.springframework.grpc.server.ServerBuilderCustomizer<NettyServerBuilder> {

			@Override
			public void customize(NettyServerBuilder builder) {
				EventLoopsCustomizers.this.server.applyTo(builder);
				EventLoopsCustomizers.this.appliedToServer = true;
			}

		}

		final class ChannelLoops implements ChannelBuilderCustomizer, GrpcChannelBuilderCustomizer<NettyChannelBuilder> {

			@Override
			public void customize(String channelName, NettyChannelBuilder builder) {
				EventLoopsCustomizers.this.channels.applyTo(builder);
				EventLoopsCustomizers.this.appliedToChannel = true;
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

	/**
	 * Spring Boot's auto-configuration, server or client by properties; with this starter's
	 * (companion mode) unless {@code spring.autoconfigure.exclude} names them.
	 */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class BootServerApp {

		@Bean
		BenchServiceImpl benchService() {
			return new BenchServiceImpl();
		}

	}

	/** As {@link BootServerApp}, without a service: nothing there to serve, for the starter either. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class BootClientApp {

	}

}
