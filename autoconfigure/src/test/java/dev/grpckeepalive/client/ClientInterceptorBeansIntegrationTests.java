package dev.grpckeepalive.client;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

import static org.assertj.core.api.Assertions.assertThat;

/** ClientInterceptor beans on the starter's channels: every channel, or those named, in @Order. */
class ClientInterceptorBeansIntegrationTests {

	private final TestService service = new TestService();

	private Server server;

	private ApplicationContextRunner runner;

	@BeforeEach
	void startServer() throws Exception {
		this.server = NettyServerBuilder.forPort(0).addService(this.service).build().start();
		String target = "127.0.0.1:" + this.server.getPort();
		this.runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
					GrpcKeepAliveClientAutoConfiguration.class))
			.withPropertyValues("grpc.keepalive.client.channels.upstream.target=" + target,
					"grpc.keepalive.client.channels.other.target=" + target);
	}

	@AfterEach
	void stopServer() throws Exception {
		this.server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
		this.service.close();
	}

	@Test
	void interceptorsApplyToEveryChannelOrToTheNamedOnesInOrder() {
		this.runner.withUserConfiguration(Interceptors.class).run((context) -> {
			List<String> seen = context.getBean(Interceptors.class).seen;
			GrpcChannels channels = context.getBean(GrpcChannels.class);
			echo(channels.get("upstream"));
			assertThat(seen).containsExactly("first(all)", "second(upstream)", "third(all)");
			seen.clear();
			echo(channels.get("other"));
			assertThat(seen).containsExactly("first(all)", "third(all)");
		});
	}

	@Test
	void anUnknownChannelNameFailsStartup() {
		this.runner.withUserConfiguration(UnknownChannel.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.isInstanceOf(UnknownGrpcChannelException.class)
				.hasMessageContaining("'downstream'"));
	}

	private static void echo(ManagedChannel channel) {
		TestServiceGrpc.newBlockingStub(channel)
			.withDeadlineAfter(30, TimeUnit.SECONDS)
			.echo(EchoRequest.newBuilder().setText("x").build());
	}

	static ClientInterceptor recording(List<String> seen, String name) {
		return new ClientInterceptor() {

			@Override
			public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
					Channel next) {
				seen.add(name);
				return next.newCall(method, options);
			}

		};
	}

	@Configuration(proxyBeanMethods = false)
	static class Interceptors {

		final List<String> seen = new CopyOnWriteArrayList<>();

		@Bean
		@Order(3)
		ClientInterceptor third() {
			return recording(this.seen, "third(all)");
		}

		@Bean
		@Order(2)
		@GrpcChannelInterceptor(channels = "upstream")
		ClientInterceptor second() {
			return recording(this.seen, "second(upstream)");
		}

		@Bean
		@Order(1)
		ClientInterceptor first() {
			return recording(this.seen, "first(all)");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UnknownChannel {

		@Bean
		@GrpcChannelInterceptor(channels = "downstream")
		ClientInterceptor misdirected() {
			return recording(new CopyOnWriteArrayList<>(), "misdirected");
		}

	}

}
