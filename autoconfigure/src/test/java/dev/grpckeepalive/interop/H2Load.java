package dev.grpckeepalive.interop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.grpckeepalive.test.FaultInjection;

/**
 * h2load (Debian's {@code nghttp2-client}) as a raw high-rate HTTP/2 client of the matrix:
 * POSTs of a gRPC-framed EchoRequest (a 5-byte length prefix and the protobuf bytes) with
 * {@code content-type: application/grpc} and {@code te: trailers}, as fast as the server
 * answers, many streams per connection ({@code -m}), to Echo and, in turn, to a method the
 * server does not have. h2load reads HTTP statuses, not gRPC's: a gRPC error is an HTTP 200 to
 * it, so {@code ok} counts 2xx responses and {@code failed} what h2load itself saw fail (stream
 * resets, connection errors, timeouts, non-2xx statuses).
 */
final class H2Load {

	private static final Pattern REQUESTS = Pattern.compile(
			"requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored, (\\d+) timeout");

	private static final Pattern STATUS_CODES = Pattern.compile("status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx");

	private H2Load() {
	}

	static void require(String scenario) {
		FaultInjection.requireProgram(scenario, "h2load", "--version", "nghttp2-client");
	}

	/** The body of every request: one gRPC message, an EchoRequest with a 100-byte text. */
	static byte[] echoRequestBody() {
		byte[] text = "x".repeat(100).getBytes(StandardCharsets.US_ASCII);
		ByteBuffer message = ByteBuffer.allocate(2 + text.length);
		message.put((byte) 0x0A).put((byte) text.length).put(text);
		ByteBuffer frame = ByteBuffer.allocate(5 + message.capacity());
		frame.put((byte) 0).putInt(message.capacity()).put(message.array());
		return frame.array();
	}

	/** Runs h2load against {@code target} for {@code duration} on {@code connections} connections, {@code streams} each. */
	static CellResult run(String target, Duration duration, int connections, int streams)
			throws IOException, InterruptedException {
		Path body = Files.createTempFile("h2load-", ".grpc");
		try {
			Files.write(body, echoRequestBody());
			String base = "http://" + target + "/dev.grpckeepalive.test.TestService/";
			List<String> command = new ArrayList<>(List.of("h2load", "-D", Long.toString(duration.toSeconds()), "-c",
					Integer.toString(connections), "-m", Integer.toString(streams), "-t", "1", "-d", body.toString(), "-H",
					"content-type: application/grpc", "-H", "te: trailers", base + "Echo", base + "Missing"));
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			process.getOutputStream().close();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(duration.toSeconds() + 30, TimeUnit.SECONDS)) {
				process.destroyForcibly();
			}
			return parse(output);
		}
		finally {
			Files.deleteIfExists(body);
		}
	}

	static CellResult parse(String output) {
		Matcher requests = REQUESTS.matcher(output);
		Matcher statuses = STATUS_CODES.matcher(output);
		if (!requests.find() || !statuses.find()) {
			return new CellResult("h2load", 0, Map.of(), Map.of("NO_RESULT", 1L), List.of(output), 0, null);
		}
		Map<String, Long> failed = new TreeMap<>();
		put(failed, "h2load failed", Long.parseLong(requests.group(5)));
		put(failed, "h2load errored", Long.parseLong(requests.group(6)));
		put(failed, "h2load timeout", Long.parseLong(requests.group(7)));
		put(failed, "HTTP 4xx", Long.parseLong(statuses.group(3)));
		put(failed, "HTTP 5xx", Long.parseLong(statuses.group(4)));
		List<String> failures = failed.isEmpty() ? List.of() : List.of(output);
		return new CellResult("h2load " + h2loadVersion(), Long.parseLong(statuses.group(1)),
				Map.of(), failed, failures, Long.parseLong(requests.group(4)), null);
	}

	private static void put(Map<String, Long> counts, String what, long count) {
		if (count > 0) {
			counts.put(what, count);
		}
	}

	private static String h2loadVersion() {
		try {
			Process process = new ProcessBuilder("h2load", "--version").redirectErrorStream(true).start();
			String version = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
			process.waitFor(5, TimeUnit.SECONDS);
			return version.replace("h2load ", "");
		}
		catch (IOException | InterruptedException ex) {
			return "?";
		}
	}

}
