package dev.grpckeepalive.client;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.annotation.Order;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** Channel beans, the name lookup, customizers and shutdown. */
class GrpcKeepAliveClientAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class));

	@Test
	void eachChannelIsAQualifiedBeanSharedWithTheLookup() {
		this.runner
			.withPropertyValues("grpc.keepalive.client.channels.orders.target=localhost:9001",
					"grpc.keepalive.client.channels.prices.target=dns:///localhost:9002")
			.withBean(PricesClient.class)
			.run((context) -> {
				GrpcChannels channels = context.getBean(GrpcChannels.class);
				assertThat(channels.names()).containsExactly("orders", "prices");
				assertThat(context.getBeansOfType(ManagedChannel.class)).hasSize(2);
				assertThat(context.getBean(PricesClient.class).channel).isSameAs(channels.get("prices"));
				assertThat(channels.get("orders").authority()).isEqualTo("localhost:9001");
				assertThat(channels.get("prices").authority()).isEqualTo("localhost:9002");
			});
	}

	@Test
	void singleChannelCanBeInjectedWithoutQualifier() {
		this.runner.withPropertyValues("grpc.keepalive.client.channels.only.target=localhost:9001")
			.withBean(UnqualifiedClient.class)
			.run((context) -> assertThat(context.getBean(UnqualifiedClient.class).channel)
				.isSameAs(context.getBean(GrpcChannels.class).get("only")));
	}

	@Test
	void noChannelsConfiguredGivesEmptyLookup() {
		this.runner.run((context) -> {
			assertThat(context.getBean(GrpcChannels.class).names()).isEmpty();
			assertThat(context).doesNotHaveBean(ManagedChannel.class);
		});
	}

	@Test
	void unknownNameInLookupNamesTheConfiguredChannels() {
		this.runner.withPropertyValues("grpc.keepalive.client.channels.orders.target=localhost:9001")
			.run((context) -> assertThatExceptionOfType(UnknownGrpcChannelException.class)
				.isThrownBy(() -> context.getBean(GrpcChannels.class).get("ordres"))
				.withMessage("No gRPC channel named 'ordres' is configured; configured channels: orders"));
	}

	@Test
	void injectingUnknownChannelFailsStartupWithAnalysis() {
		this.runner.withPropertyValues("grpc.keepalive.client.channels.orders.target=localhost:9001")
			.withBean(PricesClient.class)
			.run((context) -> {
				assertThat(context).hasFailed();
				MockEnvironment environment = new MockEnvironment()
					.withProperty("grpc.keepalive.client.channels.orders.target", "localhost:9001");
				FailureAnalysis analysis = new UnknownGrpcChannelFailureAnalyzer(environment)
					.analyze(context.getStartupFailure());
				assertThat(analysis).isNotNull();
				assertThat(analysis.getDescription()).contains(PricesClient.class.getName())
					.contains("asks for the gRPC channel 'prices', but no channel of that name is configured")
					.contains("Configured channels: orders.");
				assertThat(analysis.getAction())
					.contains("grpc.keepalive.client.channels.prices.target=<host:port>");
			});
	}

	@Test
	void customizersSeeEveryChannelByNameInOrder() {
		List<String> calls = new CopyOnWriteArrayList<>();
		this.runner
			.withPropertyValues("grpc.keepalive.client.channels.a.target=localhost:1",
					"grpc.keepalive.client.channels.b.target=localhost:2")
			.withBean("late", ChannelBuilderCustomizer.class, () -> new LateCustomizer(calls))
			.withBean("early", ChannelBuilderCustomizer.class, () -> new EarlyCustomizer(calls))
			.run((context) -> assertThat(calls).containsExactly("early:a", "late:a", "early:b", "late:b"));
	}

	@Test
	void channelsShutDownWithTheContext() {
		ManagedChannel[] channel = new ManagedChannel[1];
		this.runner.withPropertyValues("grpc.keepalive.client.channels.a.target=localhost:1")
			.run((context) -> channel[0] = context.getBean(GrpcChannels.class).get("a"));
		assertThat(channel[0].isShutdown()).isTrue();
		assertThat(channel[0].isTerminated()).isTrue();
	}

	static class PricesClient {

		final ManagedChannel channel;

		PricesClient(@Qualifier("prices") ManagedChannel channel) {
			this.channel = channel;
		}

	}

	static class UnqualifiedClient {

		final ManagedChannel channel;

		UnqualifiedClient(ManagedChannel channel) {
			this.channel = channel;
		}

	}

	@Order(1)
	record EarlyCustomizer(List<String> calls) implements ChannelBuilderCustomizer {
		@Override
		public void customize(String channelName, io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder builder) {
			this.calls.add("early:" + channelName);
		}
	}

	@Order(2)
	record LateCustomizer(List<String> calls) implements ChannelBuilderCustomizer {
		@Override
		public void customize(String channelName, io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder builder) {
			this.calls.add("late:" + channelName);
		}
	}

}
