package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.ConnectionQuery;
import dev.grpckeepalive.connection.ConnectionState;

import org.springframework.boot.convert.DurationStyle;

/**
 * The query parameters of {@code GET /actuator/grpckeepalive/connections}, checked and made a
 * {@link ConnectionQuery}: {@code limit} (default {@value #DEFAULT_LIMIT}, at most
 * {@value #MAX_LIMIT}, so that every answer is bounded), {@code after} (a server connection id,
 * the cursor), {@code state}, {@code remote}, {@code userAgent}, {@code minAge} and
 * {@code minIdle}. A wrong one is a {@link BadParameter} that names it and says what it takes;
 * the endpoint answers it with {@code 400}.
 *
 * <p>{@code remote} is refused while peers are masked for the request: the list's answers
 * would tell, prefix by prefix, the addresses the mask hides. {@code userAgent} is not: a user
 * agent names client software, which the advice already shows to every reader, and the
 * connections it selects keep their masked addresses.
 */
final class ConnectionListRequest {

	/** How many connections a page holds when the request does not say. */
	static final int DEFAULT_LIMIT = 100;

	/** The most connections one page holds. */
	static final int MAX_LIMIT = 1000;

	/** Every server connection id: {@code s-} and its number. */
	private static final String SERVER_ID_PREFIX = "s-";

	/** A bad value is repeated in the message up to this many characters. */
	private static final int ECHOED = 64;

	private ConnectionListRequest() {
	}

	/**
	 * The query these parameters ask for; each {@code null} when absent.
	 * @param peersShown whether the request may see peer addresses
	 * @throws BadParameter naming the first parameter that is wrong
	 */
	static ConnectionQuery query(@Nullable String limit, @Nullable String after, @Nullable String state,
			@Nullable String remote, @Nullable String userAgent, @Nullable String minAge, @Nullable String minIdle,
			boolean peersShown) {
		return new ConnectionQuery(after(after), limit(limit), states(state), remote(remote, peersShown),
				text("userAgent", userAgent), duration("minAge", minAge), duration("minIdle", minIdle));
	}

	private static int limit(@Nullable String limit) {
		if (limit == null) {
			return DEFAULT_LIMIT;
		}
		String expected = "limit must be a whole number from 1 to " + MAX_LIMIT;
		int value;
		try {
			value = Integer.parseInt(limit.strip());
		}
		catch (NumberFormatException ex) {
			throw new BadParameter("limit", expected + ", was " + echo(limit));
		}
		if (value < 1 || value > MAX_LIMIT) {
			throw new BadParameter("limit", expected + ", was " + value);
		}
		return value;
	}

	private static long after(@Nullable String after) {
		if (after == null) {
			return 0;
		}
		String id = after.strip();
		String expected = "after must be a server connection id such as s-42 (the last id of the previous page)";
		if (!id.startsWith(SERVER_ID_PREFIX)) {
			throw new BadParameter("after", expected + ", was " + echo(after));
		}
		long number;
		try {
			number = Long.parseLong(id.substring(SERVER_ID_PREFIX.length()));
		}
		catch (NumberFormatException ex) {
			throw new BadParameter("after", expected + ", was " + echo(after));
		}
		if (number < 1) {
			throw new BadParameter("after", expected + ", was " + echo(after));
		}
		return number;
	}

	private static Set<ConnectionState> states(@Nullable String states) {
		if (states == null) {
			return Set.of();
		}
		Set<ConnectionState> wanted = EnumSet.noneOf(ConnectionState.class);
		for (String name : states.split(",", -1)) {
			ConnectionState state = listed(name.strip());
			if (state == null) {
				throw new BadParameter("state",
						"state must be active, idle or draining, or several of them separated by commas, was "
								+ echo(states));
			}
			wanted.add(state);
		}
		return wanted;
	}

	/** The state of an open connection with this tag; {@code closed} is never in the list. */
	private static @Nullable ConnectionState listed(String tag) {
		for (ConnectionState state : ConnectionState.values()) {
			if (state != ConnectionState.CLOSED && state.tag().equals(tag.toLowerCase(Locale.ROOT))) {
				return state;
			}
		}
		return null;
	}

	private static @Nullable String remote(@Nullable String remote, boolean peersShown) {
		if (remote != null && !peersShown) {
			throw new BadParameter("remote", "remote filters by peer address, and peer addresses are masked for "
					+ "this request (grpc.keepalive.actuator.show-peers)");
		}
		String prefix = text("remote", remote);
		// the address as the entry shows it may start with its '/'; the filter matches what follows it
		return (prefix != null && prefix.startsWith("/")) ? prefix.substring(1) : prefix;
	}

	private static @Nullable String text(String parameter, @Nullable String value) {
		if (value == null) {
			return null;
		}
		if (value.isBlank()) {
			throw new BadParameter(parameter, parameter + " must not be empty");
		}
		return value.strip();
	}

	private static @Nullable Duration duration(String parameter, @Nullable String value) {
		if (value == null) {
			return null;
		}
		Duration duration;
		try {
			duration = DurationStyle.detectAndParse(value.strip(), ChronoUnit.MILLIS);
		}
		catch (IllegalArgumentException ex) {
			throw new BadParameter(parameter, parameter
					+ " must be a duration such as 500ms, 30s, 5m, 2h or PT1H (a bare number is milliseconds), was "
					+ echo(value));
		}
		if (duration.isNegative()) {
			throw new BadParameter(parameter, parameter + " must not be negative, was " + echo(value));
		}
		return duration;
	}

	private static String echo(String value) {
		return "'" + ((value.length() > ECHOED) ? value.substring(0, ECHOED) + "..." : value) + "'";
	}

	/** A query parameter that is wrong: which, and why. Carries no stack trace; it is an answer, not a failure. */
	static final class BadParameter extends RuntimeException {

		private final String parameter;

		private final String reason;

		BadParameter(String parameter, String reason) {
			super(reason, null, false, false);
			this.parameter = parameter;
			this.reason = reason;
		}

		String parameter() {
			return this.parameter;
		}

		/** The {@code 400} answer's body. */
		BadRequestDescriptor body() {
			return new BadRequestDescriptor(400, "Bad Request", this.parameter, this.reason);
		}

	}

	/** The body of a {@code 400} answer: the parameter that is wrong and why. */
	record BadRequestDescriptor(int status, String error, String parameter, String message) {
	}

}
