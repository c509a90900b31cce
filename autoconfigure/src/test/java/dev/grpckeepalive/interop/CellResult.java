package dev.grpckeepalive.interop;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.jayway.jsonpath.DocumentContext;
import org.jspecify.annotations.Nullable;

/**
 * What one client of the matrix reports at the end of its pattern, in the peers' result line
 * (docs: the peer command line): calls answered OK, calls that ended with a status the pattern
 * asked for ({@code expected}: a requested status, the unknown method, its own deadline or
 * cancel), and calls that failed otherwise ({@code failed}: a server or transport failure).
 *
 * @param peer the client's name and version (its user agent where it tells)
 * @param ok calls (or streams) answered OK
 * @param expected statuses the pattern asked for, by code
 * @param failed other non-OK statuses, by code
 * @param failures the first few failures, described
 * @param messages messages received
 * @param closed for an idle client: what ended its connection, or {@code null}
 */
record CellResult(String peer, long ok, Map<String, Long> expected, Map<String, Long> failed, List<String> failures,
		long messages, @Nullable String closed) {

	/** Parses a peer's {@code {"event":"result",...}} line. */
	static CellResult fromJson(DocumentContext result) {
		return new CellResult(result.read("$.peer", String.class), number(result, "$.ok"), counts(result, "$.expected"),
				counts(result, "$.failed"), result.read("$.failures", List.class), number(result, "$.messages"),
				optional(result, "$.closed"));
	}

	/** The sum of several clients' results, as one cell of the matrix reports them. */
	static CellResult merge(String peer, List<CellResult> results) {
		long ok = 0;
		long messages = 0;
		Map<String, Long> expected = new TreeMap<>();
		Map<String, Long> failed = new TreeMap<>();
		List<String> failures = new java.util.ArrayList<>();
		String closed = null;
		for (CellResult result : results) {
			ok += result.ok;
			messages += result.messages;
			result.expected.forEach((code, count) -> expected.merge(code, count, Long::sum));
			result.failed.forEach((code, count) -> failed.merge(code, count, Long::sum));
			result.failures.stream().limit(5 - Math.min(5, failures.size())).forEach((f) -> failures.add(result.peer + ": " + f));
			closed = (closed != null) ? closed : result.closed;
		}
		return new CellResult(peer, ok, expected, failed, failures, messages, closed);
	}

	long expectedTotal() {
		return this.expected.values().stream().mapToLong(Long::longValue).sum();
	}

	long failedTotal() {
		return this.failed.values().stream().mapToLong(Long::longValue).sum();
	}

	private static long number(DocumentContext json, String path) {
		Number value = optionalNumber(json, path);
		return (value != null) ? value.longValue() : 0;
	}

	private static @Nullable Number optionalNumber(DocumentContext json, String path) {
		try {
			return json.read(path, Number.class);
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	private static @Nullable String optional(DocumentContext json, String path) {
		try {
			Object value = json.read(path);
			return (value != null) ? value.toString() : null;
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	private static Map<String, Long> counts(DocumentContext json, String path) {
		Map<String, Long> counts = new TreeMap<>();
		try {
			Map<String, Object> raw = json.read(path, Map.class);
			raw.forEach((code, count) -> counts.put(code, ((Number) count).longValue()));
		}
		catch (RuntimeException ex) {
			// absent: none
		}
		return counts;
	}

}
