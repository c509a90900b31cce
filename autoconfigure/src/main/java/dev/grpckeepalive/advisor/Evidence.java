package dev.grpckeepalive.advisor;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import org.jspecify.annotations.Nullable;

/**
 * The measured figures of a {@link Finding}, one record per {@link FindingType}: what the
 * endpoint shows as the finding's {@code evidence} (docs/advisor.md names every key). Durations
 * are milliseconds ({@code ...Millis}) or property values ({@code 10s}); example connection ids
 * are under {@code connections}, never addresses.
 *
 * <p>Jackson writes a record's components in declaration order: the order of the components is
 * the order of the keys in the JSON. A component marked {@link JsonInclude @JsonInclude(NON_NULL)}
 * is left out of the JSON when {@code null}.
 */
public sealed interface Evidence {

	/**
	 * Median, min and max of some millisecond figures, and how many there were; every key
	 * absent (an empty object) when there were none.
	 */
	@JsonInclude(Include.NON_NULL)
	record Stats(@Nullable Long median, @Nullable Long min, @Nullable Long max, @Nullable Integer samples) {

		static final Stats NONE = new Stats(null, null, null, null);

	}

	/**
	 * {@code clients_ping_too_often}: the strikes of one user agent's clients.
	 * @param userAgent the clients' user agent
	 * @param pingIntervalMillis the intervals before their PINGs that are not BDP PINGs
	 * @param intervalMeasured whether enough intervals were measured to name one
	 * @param strikes the strikes counted against them
	 * @param strikesWithoutCalls those on connections without calls
	 * @param strikesByBdpPings those by BDP PINGs
	 * @param mostStrikesOnOneConnection the most on one connection
	 * @param connectionsAtMaxStrikes connections one strike from grpc-java's GOAWAY
	 * @param goawayAfterStrikes the strike that draws grpc-java's GOAWAY
	 * @param connectionsClosedTooManyPings connections closed {@code too_many_pings}
	 * @param connections example connection ids
	 * @param permitTime the server's permit-time
	 * @param permitWithoutCalls whether the server permits PINGs without calls
	 */
	record ClientsPingTooOften(String userAgent, Stats pingIntervalMillis, boolean intervalMeasured, long strikes,
			long strikesWithoutCalls, long strikesByBdpPings, int mostStrikesOnOneConnection,
			long connectionsAtMaxStrikes, int goawayAfterStrikes, long connectionsClosedTooManyPings,
			List<String> connections, String permitTime, boolean permitWithoutCalls) implements Evidence {

		public ClientsPingTooOften {
			connections = List.copyOf(connections);
		}

	}

	/**
	 * {@code channel_pings_too_often}: the GOAWAYs {@code too_many_pings} this channel received.
	 * @param configuredTime the channel's keepalive time
	 * @param timeInForce the time grpc-java applies now, after its doublings
	 * @param doublingsByGrpcJava how often grpc-java doubled it
	 * @param goawaysTooManyPings the GOAWAYs received
	 * @param wirePingIntervalMillis the keepalive intervals measured on the wire
	 * @param rejectedIntervalMillis the shortest interval of each connection the server closed
	 * @param toleratedIntervalMillis the shortest interval of each connection whose PINGs the server tolerated
	 * @param toleratedAfterPings how many PINGs without a GOAWAY count as tolerated
	 * @param connections example connection ids
	 */
	record ChannelPingsTooOften(String configuredTime, String timeInForce, int doublingsByGrpcJava,
			long goawaysTooManyPings, Stats wirePingIntervalMillis, Stats rejectedIntervalMillis,
			Stats toleratedIntervalMillis, int toleratedAfterPings, List<String> connections) implements Evidence {

		public ChannelPingsTooOften {
			connections = List.copyOf(connections);
		}

	}

	/**
	 * {@code timeout_close_to_rtt}: PING round trips against the keepalive timeout.
	 * @param timeout the keepalive timeout
	 * @param pingRttMillis the round trips within the window
	 * @param marginFactor the timeout over the largest round trip, to two decimals
	 * @param keepaliveTimeoutsInWindow whether a keepalive timeout happened within the window
	 * @param connectionsClosedKeepaliveTimeout connections closed {@code keepalive_timeout}, ever
	 */
	record TimeoutCloseToRtt(String timeout, RoundTrips pingRttMillis, double marginFactor,
			boolean keepaliveTimeoutsInWindow, long connectionsClosedKeepaliveTimeout) implements Evidence {

		/** PING round trips in milliseconds: 99th percentile, largest, median, how many. */
		public record RoundTrips(long p99, long max, long median, int samples) {
		}

	}

	/**
	 * {@code keepalive_conflict}: a channel's settings against this application's own server.
	 * @param target the channel's target
	 * @param serverPort the server's port
	 * @param channelTime the channel's keepalive time
	 * @param channelWithoutCalls whether the channel pings without calls
	 * @param serverPermitTime the server's permit-time
	 * @param serverPermitWithoutCalls whether the server permits PINGs without calls
	 */
	record KeepAliveConflict(String target, int serverPort, String channelTime, boolean channelWithoutCalls,
			String serverPermitTime, boolean serverPermitWithoutCalls) implements Evidence {
	}

	/**
	 * {@code value_clamped}: a value grpc-java changes.
	 * @param requested the value configured
	 * @param effective the value grpc-java applies
	 * @param why why grpc-java changes it
	 */
	record ValueClamped(String requested, String effective, @Nullable String why) implements Evidence {
	}

	/**
	 * {@code idle_connections_dropped}: connections that died after a silence.
	 * @param deaths the consistent deaths
	 * @param killingSilenceMillis the silences they died after
	 * @param diedDuringSilence those that died during the silence
	 * @param diedRightAfterWritingAfterSilence those that died right after this side wrote
	 * @param withCallsInFlight those with calls in flight
	 * @param betweenCalls those between calls
	 * @param closeReasons the deaths by close reason
	 * @param deathsNotExplainedByAnIdleTimeout deaths within the window that do not count, and why
	 * @param longestSurvivedSilenceMillis the longest silence that survived, absent when none is known
	 * @param idleTimeoutBracket where the middlebox's idle timeout lies
	 * @param documentedIdleTimeoutsInBracket the commonly documented middleboxes that fit
	 * @param keepaliveTime the keepalive time in force
	 * @param connections example connection ids
	 */
	record IdleConnectionsDropped(int deaths, Stats killingSilenceMillis, int diedDuringSilence,
			int diedRightAfterWritingAfterSilence, int withCallsInFlight, int betweenCalls,
			Map<String, Integer> closeReasons, Discounted deathsNotExplainedByAnIdleTimeout,
			@JsonInclude(Include.NON_NULL) @Nullable Long longestSurvivedSilenceMillis, Bracket idleTimeoutBracket,
			List<String> documentedIdleTimeoutsInBracket, String keepaliveTime, List<String> connections)
			implements Evidence {

		public IdleConnectionsDropped {
			closeReasons = Collections.unmodifiableMap(new TreeMap<>(closeReasons));
			documentedIdleTimeoutsInBracket = List.copyOf(documentedIdleTimeoutsInBracket);
			connections = List.copyOf(connections);
		}

		/**
		 * Deaths that an idle timeout does not explain.
		 * @param poolChurn orderly closes while the same peer kept another connection busy
		 * @param contradictedBySurvivedSilence deaths at a silence no longer than one that survived
		 * @param pausesUnder2s deaths after a silence under {@link IdlePathWatch#MIN_IDLE_TIMEOUT} (2s,
		 * the number in the key)
		 * @param disagreeingSilences deaths whose silences do not agree with the others
		 */
		public record Discounted(int poolChurn, int contradictedBySurvivedSilence, int pausesUnder2s,
				int disagreeingSilences) {
		}

		/**
		 * The idle timeout of the middlebox: longer than the longest silence that survived
		 * ({@code unknown} when none), at most the shortest that killed.
		 */
		public record Bracket(String longerThan, String atMost) {
		}

	}

	/**
	 * {@code no_keepalive_on_idle_path}: calls lost on a channel without keepalive.
	 * @param keepaliveTime the channel's keepalive time ({@code disabled})
	 * @param deathsWithCallsInFlight deaths with calls in flight
	 * @param deathsBetweenCalls deaths between calls
	 * @param silenceWithCallsMillis the silences of the deaths with calls in flight
	 * @param shortestKillingSilenceMillis the shortest silence that killed
	 * @param connections example connection ids
	 */
	record NoKeepAliveOnIdlePath(String keepaliveTime, int deathsWithCallsInFlight, int deathsBetweenCalls,
			Stats silenceWithCallsMillis, long shortestKillingSilenceMillis, List<String> connections)
			implements Evidence {

		public NoKeepAliveOnIdlePath {
			connections = List.copyOf(connections);
		}

	}

	/**
	 * {@code grace_too_short}: calls cut by the end of max-connection-age-grace.
	 * @param cutCallDurationMillis how long the cut calls had run
	 * @param callsCut the calls cut
	 * @param connectionsCut the connections they were on
	 * @param connections example connection ids
	 * @param maxConnectionAge the server's max-connection-age
	 * @param maxConnectionAgeGrace the server's max-connection-age-grace
	 */
	record GraceTooShort(Stats cutCallDurationMillis, long callsCut, long connectionsCut, List<String> connections,
			String maxConnectionAge, String maxConnectionAgeGrace) implements Evidence {

		public GraceTooShort {
			connections = List.copyOf(connections);
		}

	}

	/**
	 * {@code abusive_clients}: connections one abuse limit closed.
	 * @param limit the limit's name
	 * @param connectionsClosed the connections it closed
	 * @param connectionsThatHadCalls those that had carried gRPC calls
	 * @param connections example connection ids
	 * @param limitValue the limit's value, absent for a limit that is not one of the starter's properties
	 */
	record AbusiveClients(String limit, long connectionsClosed, long connectionsThatHadCalls, List<String> connections,
			@JsonInclude(Include.NON_NULL) @Nullable Long limitValue) implements Evidence {

		public AbusiveClients {
			connections = List.copyOf(connections);
		}

	}

}
