package dev.grpckeepalive.benchmarks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import tools.jackson.databind.json.JsonMapper;

import dev.grpckeepalive.actuate.GrpcKeepAliveEndpoint;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.PeerVisibility;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Many idle connections with keepalive PINGs flowing against one server: heap per
 * connection attributable to the starter ((b) minus (a)), time to answer the endpoint's
 * summary and connection list, and whether any PING timed out.
 */
final class ScaleBenchmark {

	/** Two client PINGs per connection: clients ping every 10 s without calls. */
	private static final long IDLE_MILLIS = 25_000;

	private ScaleBenchmark() {
	}

	private record Run(long heapDelta, double summaryMillis, double listMillis, long pingsReceived, long timeouts,
			long openConnections) {
	}

	static String runAndReport(List<Integer> sizes) throws Exception {
		StringBuilder table = new StringBuilder("### Scale: idle connections with keepalive PINGs\n\n");
		table.append("Clients (a separate JVM) ping every 10 s without calls (server permits 5 s); measured after 25 s idle. ")
			.append("Server JVM heap after full GC; the starter's share is (b) minus (a). ")
			.append("Endpoint times: the operation plus JSON serialization, median of 20 calls.\n\n");
		table.append("| connections | heap growth (a) MiB | heap growth (b) MiB | starter bytes/connection | summary ms | "
				+ "connection list ms | PINGs received (b) | PING timeouts (b) |\n|---|---|---|---|---|---|---|---|\n");
		for (int size : sizes) {
			Run plain = run(Variant.PLAIN, size);
			Run starter = run(Variant.STARTER, size);
			System.out.printf(Locale.ROOT, "scale %d: plain %d bytes, starter %d bytes, summary %.1f ms, list %.1f ms%n",
					size, plain.heapDelta, starter.heapDelta, starter.summaryMillis, starter.listMillis);
			table.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %.0f | %.1f | %.1f | %d | %d |%n", size,
					plain.heapDelta / 1048576.0, starter.heapDelta / 1048576.0,
					(starter.heapDelta - plain.heapDelta) / (double) size, starter.summaryMillis, starter.listMillis,
					starter.pingsReceived, starter.timeouts));
		}
		return table.append('\n').toString();
	}

	private static Run run(Variant variant, int size) throws Exception {
		Server plainServer = null;
		ConfigurableApplicationContext context = null;
		int port;
		if (variant == Variant.PLAIN) {
			plainServer = NettyServerBuilder.forPort(0)
				.addService(new BenchServiceImpl())
				.keepAliveTime(1, TimeUnit.MINUTES)
				.permitKeepAliveTime(5, TimeUnit.SECONDS)
				.permitKeepAliveWithoutCalls(true)
				.build()
				.start();
			port = plainServer.getPort();
		}
		else {
			context = new SpringApplicationBuilder(Deployment.StarterServerApp.class).web(WebApplicationType.NONE)
				.bannerMode(Banner.Mode.OFF)
				.logStartupInfo(false)
				.properties("grpc.keepalive.server.port=0", "grpc.keepalive.server.time=1m",
						"grpc.keepalive.server.permit-time=5s", "grpc.keepalive.server.permit-without-calls=true")
				.run();
			port = context.getBean(KeepAliveGrpcServer.class).getPort();
		}
		long before = usedHeapAfterGc();
		Process clients = new ProcessBuilder(javaExecutable(), "-Xmx6g", "-cp", System.getProperty("java.class.path"),
				IdleClients.class.getName(), String.valueOf(port), String.valueOf(size))
			.redirectError(ProcessBuilder.Redirect.DISCARD)
			.start();
		BufferedReader fromClients = new BufferedReader(
				new InputStreamReader(clients.getInputStream(), StandardCharsets.UTF_8));
		try {
			String line;
			while ((line = fromClients.readLine()) != null && !line.equals("ready")) {
				// client logging
			}
			if (line == null) {
				throw new IllegalStateException("idle clients ended before connecting " + size + " connections");
			}
			Thread.sleep(IDLE_MILLIS);
			long after = usedHeapAfterGc();
			if (context == null) {
				return new Run(after - before, 0, 0, 0, 0, size);
			}
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			GrpcKeepAliveEndpoint endpoint = new GrpcKeepAliveEndpoint(server, List.of(), PeerVisibility.ALWAYS);
			JsonMapper json = JsonMapper.builder().build();
			double summary = medianMillis(() -> json.writeValueAsBytes(endpoint.summary(SecurityContext.NONE)));
			double list = medianMillis(
					() -> json.writeValueAsBytes(endpoint.connections("connections", SecurityContext.NONE)));
			ConnectionTrackerView tracker = server.getConnections();
			return new Run(after - before, summary, list, tracker.pings().received(), tracker.pings().timeouts(),
					tracker.activeConnections());
		}
		finally {
			clients.getOutputStream().close();
			clients.waitFor(60, TimeUnit.SECONDS);
			clients.destroyForcibly();
			if (plainServer != null) {
				plainServer.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
			}
			if (context != null) {
				context.close();
			}
		}
	}

	private static String javaExecutable() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	private static double medianMillis(Runnable operation) {
		double[] samples = new double[20];
		for (int i = 0; i < samples.length; i++) {
			long start = System.nanoTime();
			operation.run();
			samples[i] = (System.nanoTime() - start) / 1e6;
		}
		return LoadHarness.median(samples);
	}

	static long usedHeapAfterGc() throws InterruptedException {
		Runtime runtime = Runtime.getRuntime();
		long used = Long.MAX_VALUE;
		for (int i = 0; i < 5; i++) {
			System.gc();
			Thread.sleep(200);
			used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
		}
		return used;
	}

}
