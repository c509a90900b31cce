package dev.grpckeepalive.tls;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.config.InvalidKeepAliveConfigurationException;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.SelfSignedTls;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.NestedExceptionUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/** TLS and mutual TLS from Spring Boot SSL bundles, with certificates made by the test. */
class SslBundleIntegrationTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("secure").build();

	private static SelfSignedTls tls;

	@BeforeAll
	static void certificate() throws Exception {
		tls = SelfSignedTls.generate();
	}

	@Test
	void serverAndChannelUseTlsFromBundlesAndPingsAreStillObserved() {
		try (ConfigurableApplicationContext server = TestApps.observed(with("grpc.keepalive.server.ssl.bundle=grpc"));
				ConfigurableApplicationContext client = TestApps.client(target(server),
						with("ssl.bundle=grpc-trust"))) {
			assertThat(TestApps.blockingStub(client).echo(HELLO).getText()).isEqualTo("secure");

			ConnectionTrackerView channel = client.getBean(dev.grpckeepalive.client.GrpcChannels.class)
				.tracked()
				.get(TestApps.CHANNEL)
				.connections();
			ConnectionTrackerView serverSide = server.getBean(KeepAliveGrpcServer.class).getConnections();
			await().atMost(Duration.ofSeconds(5)).until(() -> serverSide.pings().sent() + channel.pings().sent() > 0);
			assertThat(serverSide.openConnections()).singleElement()
				.satisfies((record) -> assertThat(record.observed()).isTrue());
			assertThat(channel.openConnections()).singleElement()
				.satisfies((record) -> assertThat(record.observed()).isTrue());
		}
	}

	@Test
	void plaintextClientCannotTalkToTlsServer() {
		try (ConfigurableApplicationContext server = TestApps.observed(with("grpc.keepalive.server.ssl.bundle=grpc"));
				ConfigurableApplicationContext client = TestApps.client(target(server))) {
			assertThatExceptionOfType(StatusRuntimeException.class)
				.isThrownBy(() -> TestApps.blockingStub(client).withDeadlineAfter(java.time.Duration.ofSeconds(5)).echo(HELLO))
				.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
		}
	}

	@Test
	void mutualTlsRequiresAClientCertificate() {
		try (ConfigurableApplicationContext server = TestApps.observed(
				with("grpc.keepalive.server.ssl.bundle=grpc", "grpc.keepalive.server.ssl.client-auth=require"));
				ConfigurableApplicationContext anonymous = TestApps.client(target(server), with("ssl.bundle=grpc-trust"));
				ConfigurableApplicationContext identified = TestApps.client(target(server), with("ssl.bundle=grpc"))) {
			assertThatExceptionOfType(StatusRuntimeException.class)
				.isThrownBy(() -> TestApps.blockingStub(anonymous).withDeadlineAfter(java.time.Duration.ofSeconds(5)).echo(HELLO))
				.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
			assertThat(TestApps.blockingStub(identified).echo(HELLO).getText()).isEqualTo("secure");
		}
	}

	@Test
	void unknownBundleFailsStartupNamingTheProperty() {
		assertThatException().isThrownBy(() -> TestApps.observed(with("grpc.keepalive.server.ssl.bundle=nope")))
			.satisfies((ex) -> {
				Throwable cause = NestedExceptionUtils.getMostSpecificCause(ex);
				assertThat(cause).isInstanceOf(InvalidKeepAliveConfigurationException.class);
				assertThat(((InvalidKeepAliveConfigurationException) cause).getViolations()).singleElement()
					.satisfies((violation) -> {
						assertThat(violation.property()).isEqualTo("grpc.keepalive.server.ssl.bundle");
						assertThat(violation.problem()).contains("names no SSL bundle; configured bundles:")
							.contains("grpc-trust");
					});
			});
	}

	private static String target(ConfigurableApplicationContext server) {
		return "localhost:" + server.getBean(KeepAliveGrpcServer.class).getPort();
	}

	private static String[] with(String... properties) {
		List<String> all = new ArrayList<>(List.of(tls.bundleProperties("grpc")));
		all.addAll(List.of(properties));
		return all.toArray(String[]::new);
	}

}
