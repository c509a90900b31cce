package dev.grpckeepalive.reliability;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.grpckeepalive.advisor.Finding;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.ObservedGrpcServer;
import dev.grpckeepalive.test.FaultInjection;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A proxy's pool churn is not an idle-dropping middlebox (issue 16): 48 gRPC C-core clients
 * (python3-grpcio, interop/python-advisor/client.py) through nginx ({@code grpc_pass},
 * upstream {@code keepalive 32}) with calls, NOT_FOUND errors, server streams cancelled after
 * 50 ms and pauses of 1-2 s the clients take together. nginx opens an upstream connection per
 * concurrent request and closes many of them (orderly, after cancellations, beyond its pool)
 * while it keeps others busy; the server's advisor must not take that for a middlebox
 * dropping idle connections, and no call may fail. On this machine nginx closed its upstream
 * connections within a second of their last frame, which no idle-path rule looks at; the rule
 * for closes after longer silences is unit-tested in {@code IdlePathWatchTests}.
 */
@Tag("reliability")
// 48 client processes and nginx load both cores: alone, so that the timing-bound scenarios do not starve
@Isolated
class NginxPoolChurnTests {

	private static final String SCENARIO = "Advisor: nginx pool churn";

	private static final Path CLIENT = Path.of("..", "interop", "python-advisor", "client.py");

	/** More than nginx's pool of 32 keeps: when they pause together, it closes the longest idle connections. */
	private static final int CLIENTS = 48;

	@Test
	void nginxClosingPooledUpstreamConnectionsIsNoIdleConnectionsDropped(@TempDir Path directory) throws Exception {
		FaultInjection.requireProgram(SCENARIO, "nginx", "-v", "nginx-core");
		boolean grpcio = FaultInjection.runs("/usr/bin/python3", "-c", "import grpc");
		String noGrpcio = SCENARIO + " needs /usr/bin/python3 with grpcio: install python3-grpcio, as .ci/run does";
		if (!grpcio && "true".equals(System.getenv("GRPC_KEEPALIVE_REQUIRE_INTEROP"))) {
			throw new AssertionError(noGrpcio + " (GRPC_KEEPALIVE_REQUIRE_INTEROP=true)");
		}
		FaultInjection.require(grpcio, noGrpcio);
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.address=127.0.0.1")) {
			int port = FreePorts.take();
			Process nginx = startNginx(directory, port, TestApps.port(server));
			try {
				await().atMost(Duration.ofSeconds(10)).until(() -> FaultInjection.runs("bash", "-c",
						"exec 3<>/dev/tcp/127.0.0.1/" + port));
				List<String> output = runClients("127.0.0.1:" + port, 20);
				ConnectionTrackerView connections = server.getBean(ObservedGrpcServer.class).getConnections();
				// the connections nginx keeps stay open (its pool: 32, for 60s); it closes the others as the requests
				// on them end: awaited, so that every close the run causes has been seen before the findings are read
				await().atMost(Duration.ofSeconds(30)).until(() -> connections.activeConnections() <= 32);
				KeepAliveAdvisor advisor = server.getBean(KeepAliveAdvisor.class);
				List<Finding> findings = advisor.findings();
				Map<String, Long> closed = new java.util.TreeMap<>();
				for (var reason : dev.grpckeepalive.connection.CloseReason.values()) {
					closed.put(reason.tag(), connections.closedConnections(reason));
				}
				// what an idle-path rule sees: closes without a GOAWAY after a silence of a second or more
				List<Long> silences = connections.recentlyClosed().stream()
					.filter((c) -> c.silenceBeforeClose() != null && c.lastGoAwayReceived() == null)
					.map((c) -> c.silenceBeforeClose().duration().toMillis())
					.sorted()
					.toList();
				System.out.printf("%s: clients %s; server connections opened %d, open %d, closed %s; of the latest "
						+ "%d closes, %d after a silence of 1s or more (ms): %s; findings %s%n", SCENARIO, output,
						connections.openedConnections(), connections.activeConnections(), closed,
						connections.recentlyClosed().size(), silences.size(), silences, findings);
				assertThat(output.get(output.size() - 1)).contains("\"ok\": true");
				assertThat(connections.closedConnections(dev.grpckeepalive.connection.CloseReason.PEER_CLOSED))
					.as("nginx churned its pool").isPositive();
				assertThat(findings).as("pool churn is no finding").isEmpty();
			}
			finally {
				nginx.destroy();
				nginx.waitFor(10, TimeUnit.SECONDS);
			}
		}
	}

	private static Process startNginx(Path directory, int port, int upstreamPort) throws Exception {
		Path config = directory.resolve("nginx.conf");
		String temp = directory.toAbsolutePath().toString();
		Files.writeString(config, """
				daemon off;
				master_process off;
				worker_processes 1;
				pid %1$s/nginx.pid;
				error_log %1$s/error.log warn;
				events { worker_connections 1024; }
				http {
				  access_log off;
				  client_body_temp_path %1$s/body;
				  proxy_temp_path %1$s/proxy;
				  fastcgi_temp_path %1$s/fastcgi;
				  uwsgi_temp_path %1$s/uwsgi;
				  scgi_temp_path %1$s/scgi;
				  upstream backend {
				    server 127.0.0.1:%3$d;
				    keepalive 32;
				  }
				  server {
				    listen 127.0.0.1:%2$d http2;
				    location / { grpc_pass grpc://backend; }
				  }
				}
				""".formatted(temp, port, upstreamPort));
		return new ProcessBuilder("nginx", "-p", temp, "-c", config.toAbsolutePath().toString())
			.redirectErrorStream(true)
			.redirectOutput(directory.resolve("nginx.out").toFile())
			.start();
	}

	private static List<String> runClients(String target, int seconds) throws Exception {
		Process process = new ProcessBuilder("/usr/bin/python3", CLIENT.toString(), target, "proxy",
				String.valueOf(seconds), String.valueOf(CLIENTS)).redirectErrorStream(true).start();
		List<String> lines = new ArrayList<>();
		try (BufferedReader in = new BufferedReader(
				new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
			in.lines().forEach(lines::add);
		}
		assertThat(process.waitFor(seconds + 60L, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
		return lines;
	}

}
