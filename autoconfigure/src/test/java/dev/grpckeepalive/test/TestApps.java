package dev.grpckeepalive.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Starts real applications with this starter: a server application serving
 * {@link TestService} on a free port, and client applications with one channel named
 * {@value #CHANNEL}.
 */
public final class TestApps {

	/** The name of the channel every client application configures. */
	public static final String CHANNEL = "test";

	private TestApps() {
	}

	/** Starts a server application; {@code grpc.keepalive.server.*} keys may omit their prefix. */
	public static ConfigurableApplicationContext server(String... serverProperties) {
		List<String> properties = new ArrayList<>();
		properties.add("grpc.keepalive.server.port=0");
		for (String property : serverProperties) {
			properties.add(isQualified(property) ? property : "grpc.keepalive.server." + property);
		}
		return run(ServerApp.class, properties);
	}

	/** Starts a client application with extra beans, whose channel {@value #CHANNEL} targets {@code target}. */
	public static ConfigurableApplicationContext client(Object[] beans, String target, String... channelProperties) {
		return run(ClientApp.class, WebApplicationType.NONE, clientProperties(target, channelProperties), beans);
	}

	private static void registerBeans(ConfigurableApplicationContext context, Object[] beans) {
		for (int i = 0; i < beans.length; i++) {
			context.getBeanFactory().registerSingleton("testBean" + i, beans[i]);
		}
	}

	/** Starts a client application whose channel {@value #CHANNEL} targets {@code target}; its keys may omit their prefix. */
	public static ConfigurableApplicationContext client(String target, String... channelProperties) {
		return run(ClientApp.class, clientProperties(target, channelProperties));
	}

	private static List<String> clientProperties(String target, String... channelProperties) {
		List<String> properties = new ArrayList<>();
		properties.add("grpc.keepalive.client.channels." + CHANNEL + ".target=" + target);
		properties.add("management.endpoints.web.exposure.include=*");
		properties.add("spring.grpc.server.enabled=false");
		properties.add("spring.grpc.client.enabled=false");
		for (String property : channelProperties) {
			properties.add(isQualified(property) ? property : "grpc.keepalive.client.channels." + CHANNEL + "." + property);
		}
		return properties;
	}

	/**
	 * Starts a web application with Actuator, every auto-configuration on the class path and
	 * {@link TestService}: its gRPC server on a free port, and whatever channels the
	 * properties (full names) configure. All endpoints are exposed, with health details.
	 */
	public static ConfigurableApplicationContext observed(String... properties) {
		return observed(new Object[0], properties);
	}

	/** Like {@link #observed(String...)}, with extra beans (such as customizers) registered first. */
	public static ConfigurableApplicationContext observed(Object[] beans, String... properties) {
		List<String> all = new ArrayList<>(List.of("server.port=0", "grpc.keepalive.server.port=0",
				// Spring Boot's own gRPC support is on the class path for the companion tests only
				"spring.grpc.server.enabled=false", "spring.grpc.client.enabled=false",
				"management.endpoints.web.exposure.include=*", "management.endpoint.health.show-details=always",
				"management.endpoint.health.show-components=always"));
		all.addAll(List.of(properties));
		return run(ObservedApp.class, WebApplicationType.SERVLET, all, beans);
	}

	/** The HTTP port of a web application started by {@link #observed}. */
	public static int httpPort(ConfigurableApplicationContext context) {
		return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
	}

	private static boolean isQualified(String property) {
		return property.startsWith("grpc.") || property.startsWith("spring.");
	}

	public static int port(ConfigurableApplicationContext server) {
		return server.getBean(KeepAliveGrpcServer.class).getPort();
	}

	public static TestService service(ConfigurableApplicationContext server) {
		return server.getBean(TestService.class);
	}

	public static ManagedChannel channel(ConfigurableApplicationContext client) {
		return client.getBean(GrpcChannels.class).get(CHANNEL);
	}

	public static TestServiceGrpc.TestServiceBlockingStub blockingStub(ConfigurableApplicationContext client) {
		return TestServiceGrpc.newBlockingStub(channel(client));
	}

	public static TestServiceGrpc.TestServiceStub asyncStub(ConfigurableApplicationContext client) {
		return TestServiceGrpc.newStub(channel(client));
	}

	/**
	 * Starts a web application that runs Spring Boot's own gRPC server and client next to this
	 * starter (companion mode), serving {@link TestService}.
	 */
	public static ConfigurableApplicationContext withBootGrpc(String... properties) {
		List<String> all = new ArrayList<>(List.of("server.port=0", "spring.grpc.server.port=0",
				"management.endpoints.web.exposure.include=*", "management.endpoint.health.show-details=always",
				"management.endpoint.health.show-components=always"));
		all.addAll(List.of(properties));
		return run(ObservedApp.class, WebApplicationType.SERVLET, all, new Object[0]);
	}

	private static ConfigurableApplicationContext run(Class<?> source, List<String> properties) {
		return run(source, WebApplicationType.NONE, properties, new Object[0]);
	}

	private static ConfigurableApplicationContext run(Class<?> source, WebApplicationType type, List<String> properties,
			Object[] beans) {
		return new SpringApplicationBuilder(source).web(type)
			.initializers((context) -> registerBeans(context, beans))
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(properties.toArray(String[]::new))
			.run();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ GrpcKeepAliveAutoConfiguration.class, GrpcKeepAliveServerAutoConfiguration.class,
			GrpcKeepAliveClientAutoConfiguration.class })
	static class ServerApp {

		@Bean(destroyMethod = "close")
		TestService testService() {
			return new TestService();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class ObservedApp {

		@Bean(destroyMethod = "close")
		TestService testService() {
			return new TestService();
		}

	}

	/** A client with every auto-configuration on the class path: endpoint, health and meters included. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class ClientApp {

	}

	/**
	 * One unary call on a channel of its own to a server on loopback, as a fresh client would
	 * make it: what a test asks to show that a server is none the worse for what it went through.
	 * @return the echoed text of {@code hello}
	 */
	public static String echoOnNewChannel(int port) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			return TestServiceGrpc.newBlockingStub(channel)
				.withDeadlineAfter(5, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("hello").build())
				.getText();
		}
		finally {
			channel.shutdownNow();
		}
	}

}
