package dev.grpckeepalive.advisor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The advisor against real gRPC C-core clients (Debian's {@code python3-grpcio}, the fixture
 * interop/python-advisor/client.py), on a server set up as the sample ships (permit-time
 * 20s, permit-without-calls true): two healthy clients with a stream of large messages (BDP
 * PINGs), calls, a call to a missing method, and an exit each, give no finding at all; a
 * client that pings every second without calls and calls only a missing method is named by
 * its user agent, {@code grpc-python/... grpc-c/...}, once a connection heads for GOAWAY.
 */
class PythonClientAdvisorTests {

	private static final Path CLIENT = Path.of("..", "interop", "python-advisor", "client.py");

	private static final String PYTHON = "/usr/bin/python3";

	@Test
	void healthyCoreClientsGiveNoFindingAndAnUnknownMethodClientIsNamedByItsUserAgent() throws Exception {
		requireGrpcio();
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.permit-time=20s",
				"grpc.keepalive.server.permit-without-calls=true")) {
			KeepAliveAdvisor advisor = server.getBean(KeepAliveAdvisor.class);
			String target = "127.0.0.1:" + TestApps.port(server);

			Process first = start(target, "healthy", "6");
			Process second = start(target, "healthy", "4");
			finish(second, Duration.ofSeconds(60));
			finish(first, Duration.ofSeconds(60));
			// let the closes of both exits reach the advisor
			await().atMost(Duration.ofSeconds(10))
				.until(() -> server.getBean(dev.grpckeepalive.server.ObservedGrpcServer.class).getConnections()
					.activeConnections() == 0);
			assertThat(advisor.findings()).as("a healthy C-core fleet").isEmpty();

			Process unknown = start(target, "unknown", "14");
			try {
				Finding finding = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250))
					.until(() -> advisor.findings().stream()
						.filter((f) -> f.type() == FindingType.CLIENTS_PING_TOO_OFTEN)
						.findFirst()
						.orElse(null), (f) -> f != null);
				System.out.println("advice: " + finding);
				assertThat(finding.subject()).startsWith("grpc-python/").contains(" grpc-c/");
				// C-core's keepalive PINGs every few seconds: far faster than 9s, so the client is told to slow down
				assertThat(finding.recommendation().property()).isEqualTo("grpc.keepalive_time_ms");
				assertThat(finding.recommendation().suggested()).isEqualTo("20000");
				assertThat(advisor.findings()).hasSize(1);
			}
			finally {
				finish(unknown, Duration.ofSeconds(30));
			}
		}
	}

	private static void requireGrpcio() throws Exception {
		boolean available = Files.isExecutable(Path.of(PYTHON))
				&& new ProcessBuilder(PYTHON, "-c", "import grpc").redirectErrorStream(true).start().waitFor() == 0;
		if (!available && "true".equals(System.getenv("GRPC_KEEPALIVE_REQUIRE_INTEROP"))) {
			throw new AssertionError(PYTHON + " with grpcio is required (GRPC_KEEPALIVE_REQUIRE_INTEROP=true): "
					+ "install python3-grpcio");
		}
		Assumptions.assumeTrue(available, "python3-grpcio is not installed");
	}

	private static Process start(String target, String mode, String seconds) throws Exception {
		return new ProcessBuilder(PYTHON, CLIENT.toString(), target, mode, seconds).redirectErrorStream(true).start();
	}

	private static void finish(Process process, Duration timeout) throws Exception {
		List<String> lines = new ArrayList<>();
		Thread reader = new Thread(() -> {
			try (BufferedReader in = new BufferedReader(
					new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
				in.lines().forEach(lines::add);
			}
			catch (Exception ex) {
				// the process ended
			}
		});
		reader.start();
		boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		if (!exited) {
			process.destroyForcibly();
		}
		reader.join(5_000);
		System.out.println("python client: " + lines);
		assertThat(exited).as("exited within " + timeout).isTrue();
		assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
	}

}
