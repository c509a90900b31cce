package dev.grpckeepalive.reliability;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * The other end of a reliability scenario, run by {@link dev.grpckeepalive.test.ChildJvm} in
 * its own process (possibly inside a network namespace): {@code server <port> [property...]}
 * or {@code client <target> [property...]}, properties in full. Both are complete
 * applications with this starter and Actuator, and read commands from standard input:
 * <ul>
 * <li>{@code stream <id> <count> <intervalMillis> <holdMillis> <payloadBytes>} (client)</li>
 * <li>{@code unary <id> <deadlineMillis>} (client; waits for the channel to be ready)</li>
 * <li>{@code endpoint <path>}: GET of {@code /actuator/grpckeepalive<path>}</li>
 * <li>{@code heap}: the heap in use after a full GC, and the maximum, in bytes</li>
 * <li>{@code exit}</li>
 * </ul>
 * Events are reported as {@code @@ {json}} lines, each with the process's {@code nanos}.
 */
public final class PeerProcess {

	private PeerProcess() {
	}

	public static void main(String[] arguments) throws Exception {
		// Tomcat logs through java.util.logging: keep its INFO lines out of the test output.
		Logger.getLogger("").setLevel(Level.WARNING);
		String role = arguments[0];
		List<String> properties = new ArrayList<>();
		if ("server".equals(role)) {
			properties.add("grpc.keepalive.server.port=" + arguments[1]);
		}
		else {
			properties.add("grpc.keepalive.server.enabled=false");
			properties.add("grpc.keepalive.client.channels." + TestApps.CHANNEL + ".target=" + arguments[1]);
		}
		properties.addAll(List.of(arguments).subList(2, arguments.length));
		ConfigurableApplicationContext context;
		try {
			context = TestApps.observed(properties.toArray(String[]::new));
		}
		catch (RuntimeException ex) {
			// a failed start leaves non-daemon threads behind: exit, so that the test sees it at once
			ex.printStackTrace();
			System.exit(1);
			return;
		}
		Map<String, Object> ready = new LinkedHashMap<>();
		ready.put("role", role);
		if ("server".equals(role)) {
			ready.put("grpcPort", TestApps.port(context));
		}
		report("ready", ready);
		try (BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
			String line;
			while ((line = commands.readLine()) != null && !"exit".equals(line)) {
				String[] command = line.trim().split(" ");
				switch (command[0]) {
					case "stream" -> stream(context, command);
					case "unary" -> unary(context, command);
					case "endpoint" -> endpoint(context, (command.length > 1) ? command[1] : "");
					case "heap" -> heap();
					default -> report("error", Map.of("message", "unknown command: " + line));
				}
			}
		}
		context.close();
		System.exit(0);
	}

	private static void stream(ConfigurableApplicationContext context, String[] command) {
		String id = command[1];
		StreamRequest request = StreamRequest.newBuilder()
			.setCount(Integer.parseInt(command[2]))
			.setIntervalMillis(Long.parseLong(command[3]))
			.setHoldMillis(Long.parseLong(command[4]))
			.setPayloadSize(Integer.parseInt(command[5]))
			.build();
		AtomicInteger messages = new AtomicInteger();
		// when the last message arrived: where keepalive's time runs from once the path dies
		AtomicLong lastMessageNanos = new AtomicLong();
		TestApps.asyncStub(context).stream(request, new StreamObserver<>() {

			@Override
			public void onNext(StreamReply reply) {
				lastMessageNanos.set(System.nanoTime());
				if (messages.incrementAndGet() == 1) {
					report("stream-first-message", Map.of("id", id));
				}
			}

			@Override
			public void onError(Throwable error) {
				closed(Status.fromThrowable(error));
			}

			@Override
			public void onCompleted() {
				closed(Status.OK);
			}

			private void closed(Status status) {
				report("stream-closed", Map.of("id", id, "code", status.getCode().name(), "description",
						String.valueOf(status.getDescription()), "messages", messages.get(), "lastMessageNanos",
						lastMessageNanos.get()));
			}

		});
	}

	private static void unary(ConfigurableApplicationContext context, String[] command) {
		String id = command[1];
		Thread caller = new Thread(() -> {
			Status status;
			try {
				TestApps.blockingStub(context)
					.withWaitForReady()
					.withDeadlineAfter(Long.parseLong(command[2]), TimeUnit.MILLISECONDS)
					.echo(EchoRequest.newBuilder().setText(id).build());
				status = Status.OK;
			}
			catch (RuntimeException ex) {
				status = Status.fromThrowable(ex);
			}
			report("unary", Map.of("id", id, "code", status.getCode().name(), "description",
					String.valueOf(status.getDescription())));
		}, "unary-" + id);
		caller.setDaemon(true);
		caller.start();
	}

	private static void heap() {
		System.gc();
		Runtime runtime = Runtime.getRuntime();
		Map<String, Object> heap = new LinkedHashMap<>();
		heap.put("used", runtime.totalMemory() - runtime.freeMemory());
		heap.put("max", runtime.maxMemory());
		report("heap", heap);
	}

	private static void endpoint(ConfigurableApplicationContext context, String path) {
		try {
			String body = Http.get(context, "/actuator/grpckeepalive" + path).body();
			report("endpoint", Map.of("path", path, "body", new RawJson(body)));
		}
		catch (Exception ex) {
			report("error", Map.of("message", String.valueOf(ex)));
		}
	}

	private static synchronized void report(String event, Map<String, ?> fields) {
		StringBuilder json = new StringBuilder("{\"event\":\"").append(event).append("\",\"nanos\":")
			.append(System.nanoTime());
		fields.forEach((key, value) -> {
			json.append(",\"").append(key).append("\":");
			if (value instanceof Number || value instanceof RawJson) {
				json.append(value);
			}
			else {
				json.append('"').append(escape(String.valueOf(value))).append('"');
			}
		});
		System.out.println("@@ " + json.append('}'));
		System.out.flush();
	}

	private static String escape(String text) {
		StringBuilder escaped = new StringBuilder(text.length());
		for (char c : text.toCharArray()) {
			switch (c) {
				case '"' -> escaped.append("\\\"");
				case '\\' -> escaped.append("\\\\");
				default -> {
					if (c < 0x20) {
						escaped.append(String.format("\\u%04x", (int) c));
					}
					else {
						escaped.append(c);
					}
				}
			}
		}
		return escaped.toString();
	}

	private record RawJson(String json) {

		@Override
		public String toString() {
			return this.json;
		}

	}

}
