package dev.grpckeepalive.client;

import java.util.concurrent.TimeUnit;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.LocalGrpcPort;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * A test reaches the starter's server on port 0 as users write it: a channel whose target names
 * {@code ${local.grpc.port}}, and {@link LocalGrpcPort}. The context is closed after the class, not kept
 * in Spring's test context cache, whose server and event loops would outlive the class and show up in
 * the tests that count threads and log records.
 */
@DirtiesContext
@SpringBootTest(properties = { "grpc.keepalive.server.port=0",
		"grpc.keepalive.client.channels.self.target=127.0.0.1:${local.grpc.port}" })
class LocalGrpcPortIntegrationTests {

	@LocalGrpcPort
	int port;

	@Autowired
	@Qualifier("self")
	ManagedChannel self;

	@Autowired
	KeepAliveGrpcServer server;

	@Test
	void aChannelTargetNamingTheLocalPortReachesTheServerOnPortZero() {
		assertThat(this.port).isPositive().isEqualTo(this.server.getPort());
		String text = TestServiceGrpc.newBlockingStub(this.self)
			.withDeadlineAfter(30, TimeUnit.SECONDS)
			.echo(EchoRequest.newBuilder().setText("self").build())
			.getText();
		assertThat(text).isEqualTo("self");
		assertThat(this.self.authority()).isEqualTo("127.0.0.1:" + this.port);
	}

	@Test
	void anUnusedChannelIsIdleUntilItsFirstCall() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
					GrpcKeepAliveClientAutoConfiguration.class))
			.withPropertyValues("grpc.keepalive.client.channels.later.target=127.0.0.1:${not.yet.known}")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				ManagedChannel later = context.getBean(GrpcChannels.class).get("later");
				assertThat(later.getState(false)).isEqualTo(ConnectivityState.IDLE);
				// still unknown at the first call: that call fails, naming the property
				assertThatIllegalArgumentException()
					.isThrownBy(() -> TestServiceGrpc.newBlockingStub(later)
						.echo(EchoRequest.newBuilder().setText("x").build()))
					.withMessageContaining("not.yet.known");
			});
	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ GrpcKeepAliveAutoConfiguration.class, GrpcKeepAliveServerAutoConfiguration.class,
			GrpcKeepAliveClientAutoConfiguration.class })
	@Import(TestService.class)
	static class App {

	}

}
